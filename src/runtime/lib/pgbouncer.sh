# shellcheck shell=bash
# The pooler wrapper shared by bin/start-pgbouncer (pgbouncer's own TLS to the server) and
# bin/start-pgbouncer-stunnel (plain pgbouncer -> stunnel -> TLS). Sourced after common.sh.
#
# For each config var named in PGBOUNCER_URLS it parses the URL, writes pgbouncer's (and stunnel's)
# config into a private directory, starts the pooler, and runs CMD with the var pointing at the
# local pooler. Local clients use a unix socket in that private directory (no password hashing per
# connection: Django opens one per request); 127.0.0.1:6000 also listens, with PGBOUNCER_AUTH_TYPE.

PGBOUNCER_BIN="$VENDOR_DIR/pgbouncer/bin/pgbouncer"
STUNNEL_BIN="$VENDOR_DIR/stunnel/bin/stunnel"

# url_decode TEXT: percent-decoding; fails on a malformed escape.
url_decode() {
  local s=$1
  [[ $s =~ %([^0-9A-Fa-f]|.[^0-9A-Fa-f]|.?$) ]] && return 1
  s=${s//\\/\\\\}
  printf '%b' "${s//%/\\x}"
}

# url_encode TEXT: percent-encodes everything but unreserved characters.
url_encode() {
  local s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    if [[ $c =~ [A-Za-z0-9._~-] ]]; then out+=$c; else out+=$(printf '%%%02X' "'$c"); fi
  done
  printf '%s' "$out"
}

# parse_db_url VAR: parses the postgres URL in config var VAR into DB_USER DB_PASS DB_HOST DB_PORT
# DB_NAME DB_SSLMODE DB_QUERY. Errors name the variable, never its value.
parse_db_url() {
  local var=$1 url rest userinfo hostport path query host port
  url=${!var-}
  [[ -n ${!var+set} ]] || die "$var is not set" "PGBOUNCER_URLS names it; set it to your database URL, or remove it from PGBOUNCER_URLS."
  [[ -n $url ]] || die "$var is empty" "Set it to a postgres:// URL, or remove it from PGBOUNCER_URLS."
  [[ $url =~ ^(postgres|postgresql)://(.*)$ ]] || die "$var is not a postgres:// or postgresql:// URL" "Heroku Postgres sets postgres://USER:PASSWORD@HOST:PORT/DATABASE."
  rest=${BASH_REMATCH[2]}
  userinfo=""
  if [[ $rest == *@* ]]; then userinfo=${rest%@*} rest=${rest##*@}; fi
  hostport=${rest%%[/?]*}
  rest=${rest#"$hostport"}
  path=${rest%%\?*} query=""
  [[ $rest == *\?* ]] && query=${rest#*\?}
  if [[ $hostport =~ ^\[([0-9A-Fa-f:.]+)\](:(.*))?$ ]]; then
    host=${BASH_REMATCH[1]} port=${BASH_REMATCH[3]}
  elif [[ $hostport =~ ^([^:]*)(:(.*))?$ ]]; then
    host=${BASH_REMATCH[1]} port=${BASH_REMATCH[3]}
  fi
  [[ -n $host ]] || die "$var has no host" "The URL must look like postgres://USER:PASSWORD@HOST:PORT/DATABASE."
  port=${port:-5432}
  if [[ ! $port =~ ^[0-9]{1,5}$ ]] || ((10#$port < 1 || 10#$port > 65535)); then
    die "$var has an invalid port" "The port must be a number from 1 to 65535."
  fi
  DB_HOST=$host DB_PORT=$((10#$port))
  DB_USER=$(url_decode "${userinfo%%:*}") || die "$var has a malformed %-escape in its user name" "Escape special characters as %XX (two hex digits)."
  DB_PASS=""
  if [[ $userinfo == *:* ]]; then
    DB_PASS=$(url_decode "${userinfo#*:}") || die "$var has a malformed %-escape in its password" "Escape special characters as %XX (two hex digits)."
  fi
  [[ -n $DB_USER ]] || die "$var has no user name" "The URL must look like postgres://USER:PASSWORD@HOST:PORT/DATABASE."
  DB_NAME=$(url_decode "${path#/}") || die "$var has a malformed %-escape in its database name" "Escape special characters as %XX (two hex digits)."
  [[ -n $DB_NAME ]] || die "$var has no database name" "The URL must end in /DATABASE."
  DB_SSLMODE="" DB_QUERY=""
  local pair kept=()
  if [[ -n $query ]]; then
    IFS='&' read -r -a pairs <<<"$query"
    for pair in "${pairs[@]}"; do
      case $pair in
        sslmode=*) DB_SSLMODE=${pair#sslmode=} ;;
        sslrootcert=* | sslcert=* | sslkey=*) ;; # about the server connection, not the local one
        *) kept+=("$pair") ;;
      esac
    done
  fi
  case $DB_SSLMODE in
    "" | disable | allow | prefer | require | verify-ca | verify-full) ;;
    *) die "$var has an unknown sslmode in its query string" "Use one of: disable allow prefer require verify-ca verify-full (libpq's names)." ;;
  esac
  DB_QUERY=$(IFS='&'; printf '%s' "${kept[*]}")
}

# ini_quote TEXT: a value for pgbouncer's connection strings, single-quoted.
ini_quote() { printf "'%s'" "${1//\'/\'\'}"; }

read_settings() {
  POOL_MODE=$(choice_var PGBOUNCER_POOL_MODE transaction session transaction statement)
  AUTH_TYPE=$(choice_var PGBOUNCER_AUTH_TYPE scram-sha-256 scram-sha-256 md5 plain trust)
  SSLMODE_VAR=${PGBOUNCER_SERVER_TLS_SSLMODE:-}
  [[ -z $SSLMODE_VAR ]] || choice_var PGBOUNCER_SERVER_TLS_SSLMODE require disable allow prefer require verify-ca verify-full >/dev/null
  MAX_CLIENT_CONN=$(int_var PGBOUNCER_MAX_CLIENT_CONN 100 1 100000)
  DEFAULT_POOL_SIZE=$(int_var PGBOUNCER_DEFAULT_POOL_SIZE 1 1 10000)
  MIN_POOL_SIZE=$(int_var PGBOUNCER_MIN_POOL_SIZE 0 0 10000)
  RESERVE_POOL_SIZE=$(int_var PGBOUNCER_RESERVE_POOL_SIZE 1 0 10000)
  RESERVE_POOL_TIMEOUT=$(num_var PGBOUNCER_RESERVE_POOL_TIMEOUT 5.0 3600)
  SERVER_LIFETIME=$(int_var PGBOUNCER_SERVER_LIFETIME 3600 0 604800)
  SERVER_IDLE_TIMEOUT=$(int_var PGBOUNCER_SERVER_IDLE_TIMEOUT 600 0 604800)
  LOG_CONNECTIONS=$(int_var PGBOUNCER_LOG_CONNECTIONS 1 0 1)
  LOG_DISCONNECTIONS=$(int_var PGBOUNCER_LOG_DISCONNECTIONS 1 0 1)
  LOG_POOLER_ERRORS=$(int_var PGBOUNCER_LOG_POOLER_ERRORS 1 0 1)
  STATS_PERIOD=$(int_var PGBOUNCER_STATS_PERIOD 60 1 86400)
  QUERY_WAIT_TIMEOUT=$(int_var PGBOUNCER_QUERY_WAIT_TIMEOUT 120 0 86400)
  SERVER_LOGIN_RETRY=$(num_var PGBOUNCER_SERVER_LOGIN_RETRY 1 3600)
  MAX_PREPARED_STATEMENTS=$(int_var PGBOUNCER_MAX_PREPARED_STATEMENTS 0 0 100000)
  LISTEN_PORT=$(int_var PGBOUNCER_LISTEN_PORT 6000 1 65535)
  STUNNEL_LOGLEVEL=$(choice_var PGBOUNCER_STUNNEL_LOGLEVEL notice emerg alert crit err warning notice info debug)
  SERVER_TIMEZONE=${PGBOUNCER_SERVER_TIMEZONE-UTC}
  [[ $SERVER_TIMEZONE =~ ^[A-Za-z0-9_/+:-]*$ ]] || die "PGBOUNCER_SERVER_TIMEZONE is not a time zone name" "Use a name such as UTC or Europe/Amsterdam, or set it empty to leave the server's default."
  [[ ${PGBOUNCER_URLS-DATABASE_URL} =~ ^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*([[:space:]]+[A-Za-z_][A-Za-z0-9_]*)*[[:space:]]*$ ]] ||
    die "PGBOUNCER_URLS must be config var names separated by spaces" "For example: heroku config:set PGBOUNCER_URLS=\"DATABASE_URL HEROKU_POSTGRESQL_RED_URL\""
  if [[ -n ${PGBOUNCER_SERVER_TLS_CA_FILE:-} && ! -r $PGBOUNCER_SERVER_TLS_CA_FILE ]]; then
    die "PGBOUNCER_SERVER_TLS_CA_FILE names a file that cannot be read" "Commit the CA bundle to your app and give its path (e.g. /app/config/db-ca.pem)."
  fi
}

# The sslmode for the server connection: the config var, else the URL's, else require.
server_sslmode() { printf '%s\n' "${SSLMODE_VAR:-${DB_SSLMODE:-require}}"; }

write_configs() {
  local n=0 var entry conn users="" stunnel_sections="" pooled
  RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pgbouncer.XXXXXX")
  chmod 0700 "$RUN_DIR"
  local socket_host
  socket_host=$(url_encode "$RUN_DIR")
  POOLED_EXPORTS=()
  for var in ${PGBOUNCER_URLS-DATABASE_URL}; do
    n=$((n + 1))
    parse_db_url "$var"
    local sslmode
    sslmode=$(server_sslmode)
    if [[ $MODE == stunnel ]]; then
      local accept_port=$((LISTEN_PORT + 100 + n))
      conn="host=$(ini_quote "$RUN_DIR") port=$accept_port"
      stunnel_sections+="[db$n]
client = yes
protocol = pgsql
accept = $RUN_DIR/.s.PGSQL.$accept_port
connect = $( [[ $DB_HOST == *:* ]] && printf '[%s]' "$DB_HOST" || printf '%s' "$DB_HOST"):$DB_PORT
sslVersionMin = TLSv1.2
retry = ${PGBOUNCER_CONNECTION_RETRY:-no}
$(stunnel_verify_options "$sslmode")
"
      if [[ -n ${ENABLE_STUNNEL_AMAZON_RDS_FIX:-} ]]; then stunnel_sections+=$'options = NO_TICKET\n'; fi
    else
      conn="host=$(ini_quote "$DB_HOST") port=$DB_PORT"
    fi
    entry="db$n = $conn dbname=$(ini_quote "$DB_NAME") user=$(ini_quote "$DB_USER") password=$(ini_quote "$DB_PASS")"
    [[ -n $SERVER_TIMEZONE ]] && entry+=" timezone=$SERVER_TIMEZONE"
    DB_ENTRIES+="$entry"$'\n'
    users+="\"${DB_USER//\"/\"\"}\" \"${DB_PASS//\"/\"\"}\""$'\n'
    pooled="postgres://$(url_encode "$DB_USER"):$(url_encode "$DB_PASS")@$socket_host:$LISTEN_PORT/db$n"
    local query=$DB_QUERY
    if [[ ${PGBOUNCER_PREPARED_STATEMENTS:-} == false ]]; then query=${query:+$query&}prepared_statements=false; fi
    [[ -n $query ]] && pooled+="?$query"
    POOLED_EXPORTS+=("$var=$pooled" "${var}_PGBOUNCER=$pooled")
    SSLMODES+=("$sslmode")
  done
  ((n > 0)) || die "PGBOUNCER_URLS names no config var" "Set it to DATABASE_URL (the default) or unset it."
  (umask 077
    printf '%s' "$users" >"$RUN_DIR/users.txt"
    printf 'local all all trust\nhost all all 127.0.0.1/32 %s\n' "$AUTH_TYPE" >"$RUN_DIR/hba.conf"
    write_pgbouncer_ini >"$RUN_DIR/pgbouncer.ini"
    if [[ $MODE == stunnel ]]; then
      printf 'foreground = yes\nsyslog = no\ndebug = %s\npid =\n\n%s' "$STUNNEL_LOGLEVEL" "$stunnel_sections" >"$RUN_DIR/stunnel.conf"
    fi)
}

# stunnel_verify_options SSLMODE: stunnel's certificate checks for a libpq-style sslmode.
stunnel_verify_options() {
  case $1 in
    verify-full) printf 'verifyChain = yes\nCAfile = %s\ncheckHost = %s\n' "${PGBOUNCER_SERVER_TLS_CA_FILE:-/etc/ssl/certs/ca-certificates.crt}" "$DB_HOST" ;;
    verify-ca) printf 'verifyChain = yes\nCAfile = %s\n' "${PGBOUNCER_SERVER_TLS_CA_FILE:-/etc/ssl/certs/ca-certificates.crt}" ;;
    *) ;;
  esac
}

write_pgbouncer_ini() {
  local tls_mode=${SSLMODES[0]}
  [[ $MODE == stunnel ]] && tls_mode=disable
  cat <<EOF
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $LISTEN_PORT
unix_socket_dir = $RUN_DIR
unix_socket_mode = 0600
auth_type = hba
auth_hba_file = $RUN_DIR/hba.conf
auth_file = $RUN_DIR/users.txt
pool_mode = $POOL_MODE
server_reset_query = ${PGBOUNCER_SERVER_RESET_QUERY:-$(if [[ $POOL_MODE == session ]]; then echo "DISCARD ALL"; fi)}
max_client_conn = $MAX_CLIENT_CONN
default_pool_size = $DEFAULT_POOL_SIZE
min_pool_size = $MIN_POOL_SIZE
reserve_pool_size = $RESERVE_POOL_SIZE
reserve_pool_timeout = $RESERVE_POOL_TIMEOUT
server_lifetime = $SERVER_LIFETIME
server_idle_timeout = $SERVER_IDLE_TIMEOUT
log_connections = $LOG_CONNECTIONS
log_disconnections = $LOG_DISCONNECTIONS
log_pooler_errors = $LOG_POOLER_ERRORS
stats_period = $STATS_PERIOD
query_wait_timeout = $QUERY_WAIT_TIMEOUT
server_login_retry = $SERVER_LOGIN_RETRY
max_prepared_statements = $MAX_PREPARED_STATEMENTS
ignore_startup_parameters = ${PGBOUNCER_IGNORE_STARTUP_PARAMETERS:-}
server_tls_sslmode = $tls_mode
server_tls_protocols = secure
server_tls_ciphers = HIGH:!aNULL:!eNULL:!MD5:!3DES:!RC4
server_tls_ca_file = ${PGBOUNCER_SERVER_TLS_CA_FILE:-}

[databases]
$DB_ENTRIES
EOF
}

stunnel_ready() {
  local n
  for ((n = 1; n <= ${#SSLMODES[@]}; n++)); do
    [[ -S $RUN_DIR/.s.PGSQL.$((LISTEN_PORT + 100 + n)) ]] || return 1
  done
}
pgbouncer_ready() { [[ -S $RUN_DIR/.s.PGSQL.$LISTEN_PORT ]]; }

# The pooler stays up through the dyno's SIGTERM (our build ignores it) until the app is gone;
# then pgbouncer gets SIGINT (safe shutdown), and stunnel once pgbouncer has exited.
on_shutdown() { signal_role TERM app; }
on_child_exit() {
  case $1 in
    app) signal_role INT pgbouncer ;;
    pgbouncer) signal_role INT stunnel ;;
    stunnel) signal_role INT pgbouncer ;;
  esac
}

cleanup() { [[ -n ${RUN_DIR:-} ]] && rm -rf "$RUN_DIR"; }

start_poolers() {
  if [[ $MODE == stunnel ]]; then
    spawn stunnel "$STUNNEL_BIN" "$RUN_DIR/stunnel.conf"
    wait_for 10 "stunnel listened" $! stunnel_ready || give_up "stunnel did not start" app 0
  fi
  spawn pgbouncer "$PGBOUNCER_BIN" "$RUN_DIR/pgbouncer.ini"
  wait_for 10 "pgbouncer listened" $! pgbouncer_ready || give_up "pgbouncer did not start" app 0
}

pgbouncer_main() { # pgbouncer_main MODE CMD...
  MODE=$1
  shift
  (($#)) || die "no command given" "Usage: bin/$SCRIPT_NAME COMMAND... (e.g. bin/$SCRIPT_NAME gunicorn app.wsgi)"
  case ${PGBOUNCER_ENABLED:-1} in
    1 | true | yes | on) ;;
    *) say "PGBOUNCER_ENABLED=${PGBOUNCER_ENABLED}: starting the command without a pooler"; exec "$@" ;;
  esac
  # A start script further up this process tree already pooled these URLs: use that pooler.
  local first=${PGBOUNCER_URLS-DATABASE_URL}
  first=${first%% *}
  local pooled_var="${first}_PGBOUNCER"
  if [[ -n ${!pooled_var:-} && ${!first:-} == "${!pooled_var}" ]]; then exec "$@"; fi
  DB_ENTRIES="" SSLMODES=()
  read_settings
  trap cleanup EXIT
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
    "$@" || status=$?
    signal_role INT pgbouncer
    while reap; do [[ -n $LAST_EXITED ]] && on_child_exit "${CHILD_ROLE[$LAST_EXITED]}"; done
    exit "$status"
  fi
  spawn app "$@"
  supervise app 0
}
