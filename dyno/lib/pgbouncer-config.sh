# shellcheck shell=bash
# The config files made from the pooler's settings (_SETTING, read by settings.sh). Sourced after
# common.sh and db-url.sh. pgbouncer_config::write writes pgbouncer's (and stunnel's) files and starts nothing.

# shellcheck source=dyno/lib/pgbouncer-app-settings.sh
. "$_LIB_DIR/pgbouncer-app-settings.sh"

# pgbouncer_config::ini_quote TEXT: a value for pgbouncer's connection strings, single-quoted.
pgbouncer_config::ini_quote() { printf "'%s'" "${1//\'/\'\'}"; }

# pgbouncer_config::stricter_sslmode A B: the stricter of two libpq sslmodes.
pgbouncer_config::stricter_sslmode() {
  local m winner=$1
  for m in "${_SSLMODES_BY_STRENGTH[@]}"; do [[ $m == "$2" ]] && winner=$2; [[ $m == "$1" ]] && winner=$1; done
  printf '%s\n' "$winner"
}

# pgbouncer_config::stunnel_section N SSLMODE URL_ARRAY: stunnel's service for the Nth URL, on a socket of _POOLER_DIR.
pgbouncer_config::stunnel_section() {
  local n=$1 sslmode=$2 host ca=${_SETTING[PGBOUNCER_SERVER_TLS_CA_FILE]:-/etc/ssl/certs/ca-certificates.crt}
  local -n url_parts=$3
  host=${url_parts[host]}
  [[ $host == *:* ]] && host="[$host]"
  printf '[db%s]\nclient = yes\nprotocol = pgsql\naccept = %s/.s.PGSQL.%s\nconnect = %s:%s\nsslVersionMin = TLSv1.2\nretry = %s\n' \
    "$n" "$_POOLER_DIR" "$(pgbouncer_config::stunnel_port "$n")" "$host" "${url_parts[port]}" "${_SETTING[PGBOUNCER_CONNECTION_RETRY]}"
  case $sslmode in
    verify-full) printf 'verifyChain = yes\nCAfile = %s\ncheckHost = %s\n' "$ca" "${url_parts[host]}" ;;
    verify-ca) printf 'verifyChain = yes\nCAfile = %s\n' "$ca" ;;
    # Otherwise no CA: it would go unused (our stunnel no longer calls its absence an error, and
    # the system bundle costs about 2 MB of memory).
  esac
  [[ -n ${_SETTING[ENABLE_STUNNEL_AMAZON_RDS_FIX]} ]] && printf 'options = NO_TICKET\n'
  printf '\n'
}

# pgbouncer_config::write: for each URL var, pgbouncer's database entry and user, stunnel's service (stunnel
# mode), the pooled URL and the direct one; then the files, readable by the dyno's user alone, in
# _POOLER_DIR. Sets _URL_COUNT, _NATIVE_SSLMODE (pgbouncer's one sslmode for all servers: the strictest
# asked for), _APP_SETTINGS, _POOLED_EXPORTS and _POOL_USERS (dbN USER, for each database).
pgbouncer_config::write() {
  local n=0 var conn entries="" users="" stunnel_sections="" pooled query sslmode
  local -A db
  # Before anything is written: a bad line stops here.
  _APP_SETTINGS=$(pgbouncer_app_settings::read)
  _POOLER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pgbouncer.XXXXXX")
  chmod 0700 "$_POOLER_DIR"
  if ((_SETTING[PGBOUNCER_CLIENT_TLS])); then
    "${_BIN[localhost-cert]}" "$_POOLER_DIR" || output::die "could not make the certificate for TLS from the app" "Set PGBOUNCER_CLIENT_TLS=0 to go without it, and report this as a bug of the buildpack."
  fi
  _POOLED_EXPORTS=() _POOL_USERS=() _NATIVE_SSLMODE=disable
  for var in ${_SETTING[PGBOUNCER_URLS]}; do
    n=$((n + 1))
    db_url::parse "$var" db
    sslmode=${_SETTING[PGBOUNCER_SERVER_TLS_SSLMODE]:-${db[sslmode]:-require}}
    _NATIVE_SSLMODE=$(pgbouncer_config::stricter_sslmode "$_NATIVE_SSLMODE" "$sslmode")
    if [[ $_MODE == stunnel ]]; then
      conn="host=$(pgbouncer_config::ini_quote "$_POOLER_DIR") port=$(pgbouncer_config::stunnel_port "$n")"
      stunnel_sections+=$(pgbouncer_config::stunnel_section "$n" "$sslmode" db)$'\n\n'
    else
      conn="host=$(pgbouncer_config::ini_quote "${db[host]}") port=${db[port]}"
    fi
    entries+="db$n = $conn dbname=$(pgbouncer_config::ini_quote "${db[name]}") user=$(pgbouncer_config::ini_quote "${db[user]}") password=$(pgbouncer_config::ini_quote "${db[pass]}")"
    [[ -n ${_SETTING[PGBOUNCER_SERVER_TIMEZONE]} ]] && entries+=" timezone=${_SETTING[PGBOUNCER_SERVER_TIMEZONE]}"
    [[ -n ${_SETTING[PGBOUNCER_CONNECT_QUERY]} ]] && entries+=" connect_query=$(pgbouncer_config::ini_quote "${_SETTING[PGBOUNCER_CONNECT_QUERY]}")"
    entries+=$'\n'
    users+="\"${db[user]//\"/\"\"}\" \"${db[pass]//\"/\"\"}\""$'\n'
    _POOL_USERS+=("db$n" "${db[user]}")
    query=${db[query]}
    [[ ${_SETTING[PGBOUNCER_PREPARED_STATEMENTS],,} == false ]] && query=${query:+$query&}prepared_statements=false
    pooled=$(pgbouncer_config::pooled_url "$n" "${db[user]}" "${db[pass]}" "$query")
    _POOLED_EXPORTS+=("$var=$pooled" "${var}_PGBOUNCER=$pooled")
    db_url::export_direct "$var"
  done
  ((n > 0)) || output::die "PGBOUNCER_URLS names no config var" "Set it to DATABASE_URL (the default) or unset it."
  # shellcheck disable=SC2034 # read by pgbouncer.sh
  _URL_COUNT=$n
  (umask 077
    # The stats-only user of the pool samples: trusted on the private socket alone (hba.conf).
    printf '%s"pgbouncer_stats" ""\n' "$users" >"$_POOLER_DIR/users.txt"
    printf 'local all all trust\nhost all all 127.0.0.1/32 %s\n' "${_SETTING[PGBOUNCER_AUTH_TYPE]}" >"$_POOLER_DIR/hba.conf"
    pgbouncer_config::pgbouncer_ini "$entries" >"$_POOLER_DIR/pgbouncer.ini"
    if [[ $_MODE == stunnel ]]; then
      printf 'foreground = yes\nsyslog = no\ndebug = %s\npid =\n\n%s' "${_SETTING[PGBOUNCER_STUNNEL_LOGLEVEL]}" "$stunnel_sections" >"$_POOLER_DIR/stunnel.conf"
    fi)
}

# pgbouncer_config::pooled_url N USER PASSWORD QUERY: the URL the app gets for database dbN, in PGBOUNCER_URL_FORM:
#   query-host    postgres://USER:PASSWORD@/dbN?host=_POOLER_DIR&port=PORT: the private socket, as
#                 libpq, psycopg, Django, SQLAlchemy, asyncpg, node-postgres and Go's lib/pq read it
#   encoded-host  postgres://USER:PASSWORD@%2Ftmp%2Fpgbouncer.X:PORT/dbN: the socket, for Rails,
#                 whose URI parser refuses an empty host
#   tcp           postgres://USER:PASSWORD@127.0.0.1:PORT/dbN?sslmode=disable: any client, at the
#                 cost of PGBOUNCER_AUTH_TYPE's password check on every new connection
pgbouncer_config::pooled_url() {
  local port=${_SETTING[PGBOUNCER_LISTEN_PORT]} userinfo dir
  userinfo="$(db_url::encode "$2"):$(db_url::encode "$3")"
  dir=$(db_url::encode "$_POOLER_DIR")
  case ${_SETTING[PGBOUNCER_URL_FORM]} in
    query-host) printf 'postgres://%s@/db%s?%shost=%s&port=%s\n' "$userinfo" "$1" "${4:+$4&}" "${dir//%2F//}" "$port" ;;
    encoded-host) printf 'postgres://%s@%s:%s/db%s%s\n' "$userinfo" "$dir" "$port" "$1" "${4:+?$4}" ;;
    tcp) printf 'postgres://%s@127.0.0.1:%s/db%s?%ssslmode=disable\n' "$userinfo" "$port" "$1" "${4:+$4&}" ;;
  esac
}

# pgbouncer_config::stunnel_port N: the port number in the name of stunnel's socket for the Nth URL.
pgbouncer_config::stunnel_port() { printf '%s\n' "$((_SETTING[PGBOUNCER_LISTEN_PORT] + 100 + $1))"; }

# pgbouncer_config::client_tls_settings: TLS for the app's clients that ask for it on 127.0.0.1 (those that insist:
# node-postgres with `ssl`, a JDBC or pgx URL with sslmode=require), with the key and certificate
# made for this dyno at boot (builds/localhost-cert); clients that do not ask are unchanged.
pgbouncer_config::client_tls_settings() {
  ((_SETTING[PGBOUNCER_CLIENT_TLS])) || return 0
  printf 'client_tls_sslmode = allow\nclient_tls_key_file = %s\nclient_tls_cert_file = %s\nclient_tls_protocols = secure\n' \
    "$_POOLER_DIR/client-tls.key" "$_POOLER_DIR/client-tls.crt"
}

# pgbouncer_config::pgbouncer_ini DATABASE_ENTRIES
pgbouncer_config::pgbouncer_ini() {
  local tls_mode=$_NATIVE_SSLMODE reset=${_SETTING[PGBOUNCER_SERVER_RESET_QUERY]} name
  [[ $_MODE == stunnel ]] && tls_mode=disable
  [[ -n $reset || ${_SETTING[PGBOUNCER_POOL_MODE]} != session ]] || reset="DISCARD ALL"
  cat <<EOF
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${_SETTING[PGBOUNCER_LISTEN_PORT]}
unix_socket_dir = $_POOLER_DIR
unix_socket_mode = 0600
auth_type = hba
auth_hba_file = $_POOLER_DIR/hba.conf
auth_file = $_POOLER_DIR/users.txt
stats_users = pgbouncer_stats
server_reset_query = $reset
EOF
  # The settings that are pgbouncer's own, under its names (PGBOUNCER_POOL_MODE -> pool_mode).
  for name in POOL_MODE MAX_CLIENT_CONN DEFAULT_POOL_SIZE MIN_POOL_SIZE RESERVE_POOL_SIZE \
    RESERVE_POOL_TIMEOUT SERVER_LIFETIME SERVER_IDLE_TIMEOUT LOG_CONNECTIONS LOG_DISCONNECTIONS \
    LOG_POOLER_ERRORS STATS_PERIOD QUERY_WAIT_TIMEOUT SERVER_LOGIN_RETRY MAX_PREPARED_STATEMENTS \
    IGNORE_STARTUP_PARAMETERS; do
    printf '%s = %s\n' "${name,,}" "${_SETTING[PGBOUNCER_$name]}"
  done
  cat <<EOF
server_tls_sslmode = $tls_mode
server_tls_protocols = secure
server_tls_ciphers = HIGH:!aNULL:!eNULL:!MD5:!3DES:!RC4
server_tls_ca_file = ${_SETTING[PGBOUNCER_SERVER_TLS_CA_FILE]}
$(pgbouncer_config::client_tls_settings)
$_APP_SETTINGS

[databases]
$1
EOF
}
