# shellcheck shell=bash
# The pooler's settings and the config files made from them. Sourced after common.sh and
# db-url.sh. read_settings reads every config var the pooler uses, once, with its default and its
# check; write_configs then writes pgbouncer's (and stunnel's) files and starts nothing.

# ini_quote TEXT: a value for pgbouncer's connection strings, single-quoted.
ini_quote() { printf "'%s'" "${1//\'/\'\'}"; }

read_settings() {
  URL_VARS=${PGBOUNCER_URLS-DATABASE_URL}
  [[ $URL_VARS =~ ^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*([[:space:]]+[A-Za-z_][A-Za-z0-9_]*)*[[:space:]]*$ ]] ||
    die "PGBOUNCER_URLS must be config var names separated by spaces" "For example: heroku config:set PGBOUNCER_URLS=\"DATABASE_URL HEROKU_POSTGRESQL_RED_URL\""
  POOL_MODE=$(choice_var PGBOUNCER_POOL_MODE transaction session transaction statement)
  AUTH_TYPE=$(choice_var PGBOUNCER_AUTH_TYPE scram-sha-256 scram-sha-256 md5 plain trust)
  SSLMODE_VAR=""
  [[ -z ${PGBOUNCER_SERVER_TLS_SSLMODE:-} ]] || SSLMODE_VAR=$(choice_var PGBOUNCER_SERVER_TLS_SSLMODE require "${SSLMODES_BY_STRENGTH[@]}")
  TLS_CA_FILE=${PGBOUNCER_SERVER_TLS_CA_FILE:-}
  if [[ -n $TLS_CA_FILE && ! -r $TLS_CA_FILE ]]; then
    die "PGBOUNCER_SERVER_TLS_CA_FILE names a file that cannot be read" "Commit the CA bundle to your app and give its path (e.g. /app/config/db-ca.pem)."
  fi
  MAX_CLIENT_CONN=$(int_var PGBOUNCER_MAX_CLIENT_CONN 100 1 100000)
  DEFAULT_POOL_SIZE=$(int_var PGBOUNCER_DEFAULT_POOL_SIZE 1 1 10000)
  MIN_POOL_SIZE=$(int_var PGBOUNCER_MIN_POOL_SIZE 0 0 10000)
  RESERVE_POOL_SIZE=$(int_var PGBOUNCER_RESERVE_POOL_SIZE 1 0 10000)
  RESERVE_POOL_TIMEOUT=$(num_var PGBOUNCER_RESERVE_POOL_TIMEOUT 5.0 3600)
  SERVER_LIFETIME=$(int_var PGBOUNCER_SERVER_LIFETIME 3600 0 604800)
  SERVER_IDLE_TIMEOUT=$(int_var PGBOUNCER_SERVER_IDLE_TIMEOUT 600 0 604800)
  SERVER_RESET_QUERY=${PGBOUNCER_SERVER_RESET_QUERY:-}
  [[ -n $SERVER_RESET_QUERY || $POOL_MODE != session ]] || SERVER_RESET_QUERY="DISCARD ALL"
  LOG_CONNECTIONS=$(int_var PGBOUNCER_LOG_CONNECTIONS 1 0 1)
  LOG_DISCONNECTIONS=$(int_var PGBOUNCER_LOG_DISCONNECTIONS 1 0 1)
  LOG_POOLER_ERRORS=$(int_var PGBOUNCER_LOG_POOLER_ERRORS 1 0 1)
  STATS_PERIOD=$(int_var PGBOUNCER_STATS_PERIOD 60 1 86400)
  QUERY_WAIT_TIMEOUT=$(int_var PGBOUNCER_QUERY_WAIT_TIMEOUT 120 0 86400)
  SERVER_LOGIN_RETRY=$(num_var PGBOUNCER_SERVER_LOGIN_RETRY 1 3600)
  MAX_PREPARED_STATEMENTS=$(int_var PGBOUNCER_MAX_PREPARED_STATEMENTS 0 0 100000)
  PREPARED_STATEMENTS_OFF=0
  [[ ${PGBOUNCER_PREPARED_STATEMENTS:-} != false ]] || PREPARED_STATEMENTS_OFF=1
  IGNORE_STARTUP_PARAMETERS=${PGBOUNCER_IGNORE_STARTUP_PARAMETERS:-}
  LISTEN_PORT=$(int_var PGBOUNCER_LISTEN_PORT 6000 1 65535)
  SERVER_TIMEZONE=${PGBOUNCER_SERVER_TIMEZONE-UTC}
  [[ $SERVER_TIMEZONE =~ ^[A-Za-z0-9_/+:-]*$ ]] || die "PGBOUNCER_SERVER_TIMEZONE is not a time zone name" "Use a name such as UTC or Europe/Amsterdam, or set it empty to leave the server's default."
  STUNNEL_LOGLEVEL=$(choice_var PGBOUNCER_STUNNEL_LOGLEVEL notice emerg alert crit err warning notice info debug)
  STUNNEL_RETRY=${PGBOUNCER_CONNECTION_RETRY:-no}
  STUNNEL_NO_TICKET=0
  [[ -z ${ENABLE_STUNNEL_AMAZON_RDS_FIX:-} ]] || STUNNEL_NO_TICKET=1
}

# stricter_sslmode A B: the stricter of two libpq sslmodes.
stricter_sslmode() {
  local m winner=$1
  for m in "${SSLMODES_BY_STRENGTH[@]}"; do [[ $m == "$2" ]] && winner=$2; [[ $m == "$1" ]] && winner=$1; done
  printf '%s\n' "$winner"
}

# stunnel_section N SSLMODE URL_ARRAY: stunnel's service for the Nth URL, on a socket of RUN_DIR.
stunnel_section() {
  local n=$1 sslmode=$2 host ca=${TLS_CA_FILE:-/etc/ssl/certs/ca-certificates.crt}
  local -n url_parts=$3
  host=${url_parts[host]}
  [[ $host == *:* ]] && host="[$host]"
  printf '[db%s]\nclient = yes\nprotocol = pgsql\naccept = %s/.s.PGSQL.%s\nconnect = %s:%s\nsslVersionMin = TLSv1.2\nretry = %s\n' \
    "$n" "$RUN_DIR" "$((LISTEN_PORT + 100 + n))" "$host" "${url_parts[port]}" "$STUNNEL_RETRY"
  case $sslmode in
    verify-full) printf 'verifyChain = yes\nCAfile = %s\ncheckHost = %s\n' "$ca" "${url_parts[host]}" ;;
    verify-ca) printf 'verifyChain = yes\nCAfile = %s\n' "$ca" ;;
  esac
  ((STUNNEL_NO_TICKET)) && printf 'options = NO_TICKET\n'
  printf '\n'
}

# write_configs: for each URL var, pgbouncer's database entry and user, stunnel's service (stunnel
# mode), and the pooled URL; then the files, readable by the dyno's user alone, in RUN_DIR. Sets
# URL_COUNT, NATIVE_SSLMODE (pgbouncer's one sslmode for all servers: the strictest asked for)
# and POOLED_EXPORTS.
write_configs() {
  local n=0 var conn entries="" users="" stunnel_sections="" pooled query socket_host sslmode
  local -A db
  RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pgbouncer.XXXXXX")
  chmod 0700 "$RUN_DIR"
  socket_host=$(url_encode "$RUN_DIR")
  POOLED_EXPORTS=() NATIVE_SSLMODE=disable
  for var in $URL_VARS; do
    n=$((n + 1))
    parse_db_url "$var" db
    sslmode=${SSLMODE_VAR:-${db[sslmode]:-require}}
    NATIVE_SSLMODE=$(stricter_sslmode "$NATIVE_SSLMODE" "$sslmode")
    if [[ $MODE == stunnel ]]; then
      conn="host=$(ini_quote "$RUN_DIR") port=$((LISTEN_PORT + 100 + n))"
      stunnel_sections+=$(stunnel_section "$n" "$sslmode" db)$'\n\n'
    else
      conn="host=$(ini_quote "${db[host]}") port=${db[port]}"
    fi
    entries+="db$n = $conn dbname=$(ini_quote "${db[name]}") user=$(ini_quote "${db[user]}") password=$(ini_quote "${db[pass]}")"
    [[ -n $SERVER_TIMEZONE ]] && entries+=" timezone=$SERVER_TIMEZONE"
    entries+=$'\n'
    users+="\"${db[user]//\"/\"\"}\" \"${db[pass]//\"/\"\"}\""$'\n'
    pooled="postgres://$(url_encode "${db[user]}"):$(url_encode "${db[pass]}")@$socket_host:$LISTEN_PORT/db$n"
    query=${db[query]}
    ((PREPARED_STATEMENTS_OFF)) && query=${query:+$query&}prepared_statements=false
    [[ -n $query ]] && pooled+="?$query"
    POOLED_EXPORTS+=("$var=$pooled" "${var}_PGBOUNCER=$pooled")
  done
  ((n > 0)) || die "PGBOUNCER_URLS names no config var" "Set it to DATABASE_URL (the default) or unset it."
  # shellcheck disable=SC2034 # read by pgbouncer.sh
  URL_COUNT=$n
  (umask 077
    printf '%s' "$users" >"$RUN_DIR/users.txt"
    printf 'local all all trust\nhost all all 127.0.0.1/32 %s\n' "$AUTH_TYPE" >"$RUN_DIR/hba.conf"
    write_pgbouncer_ini "$entries" >"$RUN_DIR/pgbouncer.ini"
    if [[ $MODE == stunnel ]]; then
      printf 'foreground = yes\nsyslog = no\ndebug = %s\npid =\n\n%s' "$STUNNEL_LOGLEVEL" "$stunnel_sections" >"$RUN_DIR/stunnel.conf"
    fi)
}

# write_pgbouncer_ini DATABASE_ENTRIES
write_pgbouncer_ini() {
  local tls_mode=$NATIVE_SSLMODE
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
server_reset_query = $SERVER_RESET_QUERY
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
ignore_startup_parameters = $IGNORE_STARTUP_PARAMETERS
server_tls_sslmode = $tls_mode
server_tls_protocols = secure
server_tls_ciphers = HIGH:!aNULL:!eNULL:!MD5:!3DES:!RC4
server_tls_ca_file = $TLS_CA_FILE

[databases]
$1
EOF
}
