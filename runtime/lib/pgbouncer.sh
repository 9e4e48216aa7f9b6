# shellcheck shell=bash
# The pooler wrapper shared by bin/start-pgbouncer (pgbouncer's own TLS to the server) and
# bin/start-pgbouncer-stunnel (plain pgbouncer -> stunnel -> TLS): start-up and supervision.
# Sourced after common.sh; the URLs are parsed by db-url.sh and the configs written by
# pgbouncer-config.sh.
#
# For each config var named in PGBOUNCER_URLS it writes pgbouncer's (and stunnel's) config into a
# private directory, starts the pooler, and runs CMD with the var pointing at the local pooler.
# Local clients use a unix socket in that private directory (no password hashing per connection:
# Django opens one per request); 127.0.0.1:6000 also listens, with PGBOUNCER_AUTH_TYPE.

# shellcheck source=runtime/lib/db-url.sh
. "$LIB_DIR/db-url.sh"
# shellcheck source=runtime/lib/pgbouncer-config.sh
. "$LIB_DIR/pgbouncer-config.sh"

PGBOUNCER_BIN="$VENDOR_DIR/pgbouncer/bin/pgbouncer"
STUNNEL_BIN="$VENDOR_DIR/stunnel/bin/stunnel"

stunnel_ready() {
  local n
  for ((n = 1; n <= URL_COUNT; n++)); do
    [[ -S $RUN_DIR/.s.PGSQL.$(stunnel_port "$n") ]] || return 1
  done
}
pgbouncer_ready() { [[ -S $RUN_DIR/.s.PGSQL.${SETTING[PGBOUNCER_LISTEN_PORT]} ]]; }

# The pooler stays up through the dyno's SIGTERM (our build ignores it) until the app is gone;
# then pgbouncer gets SIGINT (safe shutdown), and stunnel once pgbouncer has exited. The pool
# sampler ignores SIGTERM too and is stopped (SIGHUP) with the pooler: see supervise.sh.
on_shutdown() { signal_role TERM app; }
on_child_exit() {
  case $1 in
    app) signal_role INT pgbouncer; signal_role HUP pool-samples ;;
    pgbouncer) signal_role INT stunnel ;;
    stunnel) signal_role INT pgbouncer ;;
  esac
}

cleanup() { [[ -n ${RUN_DIR:-} ]] && rm -rf "$RUN_DIR"; }

# port_in_use PORT: something accepts on 127.0.0.1:PORT.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# On Heroku each dyno has its own network. On one machine (heroku local, foreman) the web and
# worker poolers meet: the later one takes the next free port, and a lock keeps two that start at
# once from picking the same one. Its fd (/dev/null where the lock file cannot be opened) is
# closed in every child.
PORT_LOCK=""
choose_listen_port() {
  local port=${SETTING[PGBOUNCER_LISTEN_PORT]}
  { exec {PORT_LOCK}>>"${TMPDIR:-/tmp}/nginx-pgbouncer-port.lock"; } 2>/dev/null || exec {PORT_LOCK}>/dev/null
  if command -v flock >/dev/null; then flock -w 15 "$PORT_LOCK" 2>/dev/null || true; fi
  while port_in_use "$port" && ((port < SETTING[PGBOUNCER_LISTEN_PORT] + 99)); do port=$((port + 1)); done
  if ((port != SETTING[PGBOUNCER_LISTEN_PORT])); then
    say "port ${SETTING[PGBOUNCER_LISTEN_PORT]} is taken (another pooler on this machine?): pgbouncer listens on $port"
    SETTING[PGBOUNCER_LISTEN_PORT]=$port
  fi
}

release_port_lock() {
  if command -v flock >/dev/null; then flock -u "$PORT_LOCK" 2>/dev/null || true; fi
  exec {PORT_LOCK}>&-
}

start_poolers() {
  if [[ $MODE == stunnel ]]; then
    spawn stunnel "$STUNNEL_BIN" "$RUN_DIR/stunnel.conf" {PORT_LOCK}>&-
    wait_for 10 "stunnel listened" $! stunnel_ready || give_up "stunnel did not start" app 0
  fi
  spawn pgbouncer "$PGBOUNCER_BIN" "$RUN_DIR/pgbouncer.ini" {PORT_LOCK}>&-
  wait_for 10 "pgbouncer listened" $! pgbouncer_ready || give_up "pgbouncer did not start" app 0
  release_port_lock
  local tls_by=pgbouncer vars
  [[ $MODE == stunnel ]] && tls_by=stunnel
  [[ $NATIVE_SSLMODE == verify-* ]] || tls_by+=", server certificate not verified"
  read -ra vars <<<"${SETTING[PGBOUNCER_URLS]}"
  say "pooler ready on port ${SETTING[PGBOUNCER_LISTEN_PORT]}: ${SETTING[PGBOUNCER_POOL_MODE]} pooling, pool size ${SETTING[PGBOUNCER_DEFAULT_POOL_SIZE]}, TLS by $tls_by (sslmode $NATIVE_SSLMODE); rewrote ${vars[*]}"
}

pgbouncer_main() { # pgbouncer_main MODE CMD...   (or MODE --check-config [ENV_DIR], at build)
  MODE=$1
  shift
  if [[ ${1:-} == --check-config ]]; then
    [[ -z ${2:-} ]] || settings::load_env_dir "$2"
    # shellcheck disable=SC2034 # read by settings.sh
    SETTINGS_BUILD_DIR=$APP_DIR
    settings::read
    app_pgbouncer_settings >/dev/null
    [[ ! -f $APP_DIR/$APP_PGBOUNCER_INI ]] || echo "$APP_PGBOUNCER_INI: ok"
    exit 0
  fi
  (($#)) || die "no command given" "Usage: bin/$SCRIPT_NAME COMMAND... (e.g. bin/$SCRIPT_NAME gunicorn app.wsgi)"
  settings::read
  if ((!SETTING[PGBOUNCER_ENABLED])); then
    say "PGBOUNCER_ENABLED is off: starting the command without a pooler"
    exec "$@" {SAY_FD}>&-
  fi
  # A start script further up this process tree already pooled these URLs: use that pooler.
  local first
  read -r first _ <<<"${SETTING[PGBOUNCER_URLS]}"
  local pooled_var="${first}_PGBOUNCER"
  if [[ -n ${!pooled_var:-} && ${!first:-} == "${!pooled_var}" ]]; then exec "$@" {SAY_FD}>&-; fi
  trap cleanup EXIT
  choose_listen_port
  write_configs
  trap 'begin_shutdown "got SIGTERM"' TERM
  trap 'begin_shutdown "got SIGINT"' INT
  start_poolers
  local e
  for e in "${POOLED_EXPORTS[@]}"; do export "${e?}"; done
  if [[ -t 0 ]]; then
    # One-off dyno with a terminal: the command runs in the foreground and owns the terminal.
    local status=0
    trap ':' INT
    "$@" {SAY_FD}>&- || status=$?
    signal_role INT pgbouncer
    while reap; do [[ -n $LAST_EXITED ]] && on_child_exit "${CHILD_ROLE[$LAST_EXITED]}"; done
    stop_ticker
    exit "$status"
  fi
  if ((SETTING[PGBOUNCER_POOL_SAMPLES])); then
    spawn pool-samples bash "$LIB_DIR/pool-samples.sh" "$RUN_DIR" "${SETTING[PGBOUNCER_LISTEN_PORT]}" "${SETTING[PGBOUNCER_STATS_PERIOD]}"
  fi
  spawn app "$@"
  supervise app 0
}
