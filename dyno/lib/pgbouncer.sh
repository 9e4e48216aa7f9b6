# shellcheck shell=bash
# The pooler wrapper shared by bin/start-pgbouncer (pgbouncer's own TLS to the server) and
# bin/start-pgbouncer-stunnel (plain pgbouncer -> stunnel -> TLS): the pooler's part of the plan.
# Sourced after common.sh; the URLs are parsed by db-url.sh and the configs written by
# pgbouncer-config.sh.
#
# For each config var named in PGBOUNCER_URLS it writes pgbouncer's (and stunnel's) config into a
# private directory and plans the pooler, then CMD with the var pointing at the local pooler.
# Local clients use a unix socket in that private directory (no password hashing per connection:
# Django opens one per request); 127.0.0.1:6000 also listens, with PGBOUNCER_AUTH_TYPE.

# shellcheck source=dyno/lib/db-url.sh
. "$_LIB_DIR/db-url.sh"
# shellcheck source=dyno/lib/pgbouncer-config.sh
. "$_LIB_DIR/pgbouncer-config.sh"

pgbouncer::cleanup() { [[ -n ${_POOLER_DIR:-} ]] && rm -rf "$_POOLER_DIR"; }

# pgbouncer::port_in_use PORT: something accepts on 127.0.0.1:PORT.
pgbouncer::port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# On Heroku each dyno has its own network. On one machine (heroku local, foreman) the web and
# worker poolers meet: the later one takes the next free port, and a lock keeps two that start at
# once from picking the same one. Its fd (/dev/null where the lock file cannot be opened) goes to
# the supervisor, which keeps it from the children and closes it once pgbouncer listens.
_PORT_LOCK=""
pgbouncer::choose_listen_port() {
  local port=${_SETTING[PGBOUNCER_LISTEN_PORT]}
  { exec {_PORT_LOCK}>>"${TMPDIR:-/tmp}/nginx-pgbouncer-port.lock"; } 2>/dev/null || exec {_PORT_LOCK}>/dev/null
  if command -v flock >/dev/null; then flock -w 15 "$_PORT_LOCK" 2>/dev/null || true; fi
  while pgbouncer::port_in_use "$port" && ((port < _SETTING[PGBOUNCER_LISTEN_PORT] + 99)); do port=$((port + 1)); done
  if ((port != _SETTING[PGBOUNCER_LISTEN_PORT])); then
    output::say "port ${_SETTING[PGBOUNCER_LISTEN_PORT]} is taken (another pooler on this machine?): pgbouncer listens on $port"
    _SETTING[PGBOUNCER_LISTEN_PORT]=$port
  fi
}

# pgbouncer::plan_poolers: stunnel (with PGBOUNCER_URLS through stunnel) and pgbouncer, each ready once its
# sockets exist, and the pool sampler. They stay up through the dyno's SIGTERM (our builds ignore
# it) until the app is gone: then pgbouncer gets SIGINT (safe shutdown), and stunnel once
# pgbouncer has exited. The port lock is the supervisor's to hold until pgbouncer listens.
pgbouncer::plan_poolers() {
  local n tls_by=pgbouncer vars
  if [[ $_MODE == stunnel ]]; then
    plan::child stunnel before after pgbouncer INT ready-wait 10 "stunnel listened" "stunnel did not start"
    for ((n = 1; n <= _URL_COUNT; n++)); do plan::words ready-socket "$_POOLER_DIR/.s.PGSQL.$(pgbouncer_config::stunnel_port "$n")"; done
    plan::argv "${_BIN[stunnel]}" "$_POOLER_DIR/stunnel.conf"
    tls_by=stunnel
  fi
  [[ $_NATIVE_SSLMODE == verify-* ]] || tls_by+=", server certificate not verified"
  read -ra vars <<<"${_SETTING[PGBOUNCER_URLS]}"
  plan::child pgbouncer before after app INT after stunnel INT hold-fd "$_PORT_LOCK" \
    ready-socket "$_POOLER_DIR/.s.PGSQL.${_SETTING[PGBOUNCER_LISTEN_PORT]}" ready-wait 10 "pgbouncer listened" "pgbouncer did not start" \
    ready-say "pooler ready on port ${_SETTING[PGBOUNCER_LISTEN_PORT]}: ${_SETTING[PGBOUNCER_POOL_MODE]} pooling, pool size ${_SETTING[PGBOUNCER_DEFAULT_POOL_SIZE]} + reserve ${_SETTING[PGBOUNCER_RESERVE_POOL_SIZE]} per database, TLS by $tls_by (sslmode $_NATIVE_SSLMODE); rewrote ${vars[*]}"
  plan::argv "${_BIN[pgbouncer]}" "$_POOLER_DIR/pgbouncer.ini"
  pgbouncer::plan_connection_check
  # Not on a one-off dyno's terminal (heroku run): the samples would print into the session.
  if ((_SETTING[PGBOUNCER_POOL_SAMPLES])) && [[ ! -t 0 ]]; then
    plan::child pool-samples before ignore-term after app HUP
    plan::argv "${_BIN[supervise]}" pool-samples "$_POOLER_DIR" "${_SETTING[PGBOUNCER_LISTEN_PORT]}" "${_SETTING[PGBOUNCER_STATS_PERIOD]}"
  fi
}

# pgbouncer::plan_connection_check: once pgbouncer listens, the room in each database for this dyno's pool,
# asked through the pool (builds/supervisor/samples.c, pool_budget). With `refuse`, the app waits
# for the answer (up to 10 s a database), and a pool that does not fit stops the boot. Not on a
# one-off dyno's terminal (heroku run): its lines would print into the session.
pgbouncer::plan_connection_check() {
  local check=${_SETTING[PGBOUNCER_CONNECTION_CHECK]} wait=$((10 * _URL_COUNT + 5))
  [[ $check != off && ! -t 0 ]] || return 0
  plan::child connection-check before once stop TERM
  [[ $check == warn ]] || plan::words ready-wait "$wait" "the connection check" "the database has no room for this dyno's pool"
  plan::argv "${_BIN[supervise]}" pool-budget "$_SCRIPT_NAME" "$_POOLER_DIR" "${_SETTING[PGBOUNCER_LISTEN_PORT]}" \
    "$((_SETTING[PGBOUNCER_DEFAULT_POOL_SIZE] + _SETTING[PGBOUNCER_RESERVE_POOL_SIZE]))" \
    "${_SETTING[PGBOUNCER_CONNECTION_BUDGET]}" "$([[ $check == refuse ]] && echo 1 || echo 0)" "${_POOL_USERS[@]}"
}

# pgbouncer::without_pooler COMMAND...: COMMAND as it is (under another start script: handed on to it).
pgbouncer::without_pooler() {
  if [[ -n ${_NGINX_PGBOUNCER_PLAN:-} ]]; then plan::hand_over "$@"; fi
  exec "$@"
}

pgbouncer::main() { # pgbouncer::main MODE CMD...   (or MODE --check-config [ENV_DIR], at build)
  _MODE=$1
  shift
  if [[ ${1:-} == --check-config ]]; then
    [[ -z ${2:-} ]] || settings::load_env_dir "$2"
    # shellcheck disable=SC2034 # read by settings.sh
    _SETTINGS_BUILD_DIR=$_APP_DIR
    settings::read
    pgbouncer_app_settings::read >/dev/null
    [[ ! -f $_APP_DIR/$_APP_PGBOUNCER_INI ]] || echo "$_APP_PGBOUNCER_INI: ok"
    exit 0
  fi
  (($#)) || output::die "no command given" "Usage: bin/$_SCRIPT_NAME COMMAND... (e.g. bin/$_SCRIPT_NAME gunicorn app.wsgi)"
  settings::read
  if ((!_SETTING[PGBOUNCER_ENABLED])); then
    output::say "PGBOUNCER_ENABLED is off: starting the command without a pooler"
    pgbouncer::export_direct_urls
    pgbouncer::without_pooler "$@"
  fi
  if pgbouncer::pooled_above; then pgbouncer::without_pooler "$@"; fi
  trap pgbouncer::cleanup EXIT
  pgbouncer::choose_listen_port
  pgbouncer_config::write
  plan::begin "$_POOLER_DIR"
  pgbouncer::plan_poolers
  plan::child app main stop TERM
  ((${#_POOLED_EXPORTS[@]} == 0)) || export "${_POOLED_EXPORTS[@]}"
  # No local of this function's is set here: the command would inherit any whose name the app's
  # environment holds, with our value (test/dyno/namespaces.bats).
  plan::hand_over "$@"
}

# pgbouncer::export_direct_urls: each URL's direct twin (DATABASE_DIRECT_URL), so that Procfile
# lines that name them work with the pooler off too.
pgbouncer::export_direct_urls() {
  local var
  for var in ${_SETTING[PGBOUNCER_URLS]}; do [[ -z ${!var:-} ]] || db_url::export_direct "$var"; done
}

# pgbouncer::pooled_above: whether a start script further up this process tree already pooled
# these URLs (then the command uses that pooler).
pgbouncer::pooled_above() {
  local first pooled_var
  read -r first _ <<<"${_SETTING[PGBOUNCER_URLS]}"
  pooled_var="${first}_PGBOUNCER"
  [[ -n ${!pooled_var:-} && ${!first:-} == "${!pooled_var}" ]]
}
