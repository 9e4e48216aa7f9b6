# shellcheck shell=bash
# The config files made from the pooler's settings (SETTING, read by settings.sh). Sourced after
# common.sh and db-url.sh. write_configs writes pgbouncer's (and stunnel's) files and starts nothing.

# shellcheck source=runtime/lib/pgbouncer-app-settings.sh
. "$LIB_DIR/pgbouncer-app-settings.sh"

# ini_quote TEXT: a value for pgbouncer's connection strings, single-quoted.
ini_quote() { printf "'%s'" "${1//\'/\'\'}"; }

# stricter_sslmode A B: the stricter of two libpq sslmodes.
stricter_sslmode() {
  local m winner=$1
  for m in "${SSLMODES_BY_STRENGTH[@]}"; do [[ $m == "$2" ]] && winner=$2; [[ $m == "$1" ]] && winner=$1; done
  printf '%s\n' "$winner"
}

# stunnel_section N SSLMODE URL_ARRAY: stunnel's service for the Nth URL, on a socket of RUN_DIR.
stunnel_section() {
  local n=$1 sslmode=$2 host ca=${SETTING[PGBOUNCER_SERVER_TLS_CA_FILE]:-/etc/ssl/certs/ca-certificates.crt}
  local -n url_parts=$3
  host=${url_parts[host]}
  [[ $host == *:* ]] && host="[$host]"
  printf '[db%s]\nclient = yes\nprotocol = pgsql\naccept = %s/.s.PGSQL.%s\nconnect = %s:%s\nsslVersionMin = TLSv1.2\nretry = %s\n' \
    "$n" "$RUN_DIR" "$(stunnel_port "$n")" "$host" "${url_parts[port]}" "${SETTING[PGBOUNCER_CONNECTION_RETRY]}"
  case $sslmode in
    verify-full) printf 'verifyChain = yes\nCAfile = %s\ncheckHost = %s\n' "$ca" "${url_parts[host]}" ;;
    verify-ca) printf 'verifyChain = yes\nCAfile = %s\n' "$ca" ;;
    # Otherwise no CA: it would go unused (our stunnel no longer calls its absence an error, and
    # the system bundle costs about 2 MB of memory).
  esac
  [[ -n ${SETTING[ENABLE_STUNNEL_AMAZON_RDS_FIX]} ]] && printf 'options = NO_TICKET\n'
  printf '\n'
}

# write_configs: for each URL var, pgbouncer's database entry and user, stunnel's service (stunnel
# mode), the pooled URL and the direct one; then the files, readable by the dyno's user alone, in
# RUN_DIR. Sets URL_COUNT, NATIVE_SSLMODE (pgbouncer's one sslmode for all servers: the strictest
# asked for), APP_SETTINGS, POOLED_EXPORTS and POOL_USERS (dbN USER, for each database).
write_configs() {
  local n=0 var conn entries="" users="" stunnel_sections="" pooled query sslmode
  local -A db
  # Before anything is written: a bad line stops here.
  APP_SETTINGS=$(app_pgbouncer_settings)
  RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pgbouncer.XXXXXX")
  chmod 0700 "$RUN_DIR"
  if ((SETTING[PGBOUNCER_CLIENT_TLS])); then
    "$LOCALHOST_CERT_BIN" "$RUN_DIR" || die "could not make the certificate for TLS from the app" "Set PGBOUNCER_CLIENT_TLS=0 to go without it, and report this as a bug of the buildpack."
  fi
  POOLED_EXPORTS=() POOL_USERS=() NATIVE_SSLMODE=disable
  for var in ${SETTING[PGBOUNCER_URLS]}; do
    n=$((n + 1))
    parse_db_url "$var" db
    sslmode=${SETTING[PGBOUNCER_SERVER_TLS_SSLMODE]:-${db[sslmode]:-require}}
    NATIVE_SSLMODE=$(stricter_sslmode "$NATIVE_SSLMODE" "$sslmode")
    if [[ $MODE == stunnel ]]; then
      conn="host=$(ini_quote "$RUN_DIR") port=$(stunnel_port "$n")"
      stunnel_sections+=$(stunnel_section "$n" "$sslmode" db)$'\n\n'
    else
      conn="host=$(ini_quote "${db[host]}") port=${db[port]}"
    fi
    entries+="db$n = $conn dbname=$(ini_quote "${db[name]}") user=$(ini_quote "${db[user]}") password=$(ini_quote "${db[pass]}")"
    [[ -n ${SETTING[PGBOUNCER_SERVER_TIMEZONE]} ]] && entries+=" timezone=${SETTING[PGBOUNCER_SERVER_TIMEZONE]}"
    [[ -n ${SETTING[PGBOUNCER_CONNECT_QUERY]} ]] && entries+=" connect_query=$(ini_quote "${SETTING[PGBOUNCER_CONNECT_QUERY]}")"
    entries+=$'\n'
    users+="\"${db[user]//\"/\"\"}\" \"${db[pass]//\"/\"\"}\""$'\n'
    POOL_USERS+=("db$n" "${db[user]}")
    query=${db[query]}
    [[ ${SETTING[PGBOUNCER_PREPARED_STATEMENTS],,} == false ]] && query=${query:+$query&}prepared_statements=false
    pooled=$(pooled_url "$n" "${db[user]}" "${db[pass]}" "$query")
    POOLED_EXPORTS+=("$var=$pooled" "${var}_PGBOUNCER=$pooled")
    export_direct_url "$var"
  done
  ((n > 0)) || die "PGBOUNCER_URLS names no config var" "Set it to DATABASE_URL (the default) or unset it."
  # shellcheck disable=SC2034 # read by pgbouncer.sh
  URL_COUNT=$n
  (umask 077
    # The stats-only user of the pool samples: trusted on the private socket alone (hba.conf).
    printf '%s"pgbouncer_stats" ""\n' "$users" >"$RUN_DIR/users.txt"
    printf 'local all all trust\nhost all all 127.0.0.1/32 %s\n' "${SETTING[PGBOUNCER_AUTH_TYPE]}" >"$RUN_DIR/hba.conf"
    write_pgbouncer_ini "$entries" >"$RUN_DIR/pgbouncer.ini"
    if [[ $MODE == stunnel ]]; then
      printf 'foreground = yes\nsyslog = no\ndebug = %s\npid =\n\n%s' "${SETTING[PGBOUNCER_STUNNEL_LOGLEVEL]}" "$stunnel_sections" >"$RUN_DIR/stunnel.conf"
    fi)
}

# pooled_url N USER PASSWORD QUERY: the URL the app gets for database dbN, in PGBOUNCER_URL_FORM:
#   query-host    postgres://USER:PASSWORD@/dbN?host=RUN_DIR&port=PORT: the private socket, as
#                 libpq, psycopg, Django, SQLAlchemy, asyncpg, node-postgres and Go's lib/pq read it
#   encoded-host  postgres://USER:PASSWORD@%2Ftmp%2Fpgbouncer.X:PORT/dbN: the socket, for Rails,
#                 whose URI parser refuses an empty host
#   tcp           postgres://USER:PASSWORD@127.0.0.1:PORT/dbN?sslmode=disable: any client, at the
#                 cost of PGBOUNCER_AUTH_TYPE's password check on every new connection
pooled_url() {
  local port=${SETTING[PGBOUNCER_LISTEN_PORT]} userinfo dir
  userinfo="$(url_encode "$2"):$(url_encode "$3")"
  dir=$(url_encode "$RUN_DIR")
  case ${SETTING[PGBOUNCER_URL_FORM]} in
    query-host) printf 'postgres://%s@/db%s?%shost=%s&port=%s\n' "$userinfo" "$1" "${4:+$4&}" "${dir//%2F//}" "$port" ;;
    encoded-host) printf 'postgres://%s@%s:%s/db%s%s\n' "$userinfo" "$dir" "$port" "$1" "${4:+?$4}" ;;
    tcp) printf 'postgres://%s@127.0.0.1:%s/db%s?%ssslmode=disable\n' "$userinfo" "$port" "$1" "${4:+$4&}" ;;
  esac
}

# stunnel_port N: the port number in the name of stunnel's socket for the Nth URL.
stunnel_port() { printf '%s\n' "$((SETTING[PGBOUNCER_LISTEN_PORT] + 100 + $1))"; }

# client_tls_settings: TLS for the app's clients that ask for it on 127.0.0.1 (those that insist:
# node-postgres with `ssl`, a JDBC or pgx URL with sslmode=require), with the key and certificate
# made for this dyno at boot (builds/localhost-cert); clients that do not ask are unchanged.
client_tls_settings() {
  ((SETTING[PGBOUNCER_CLIENT_TLS])) || return 0
  printf 'client_tls_sslmode = allow\nclient_tls_key_file = %s\nclient_tls_cert_file = %s\nclient_tls_protocols = secure\n' \
    "$RUN_DIR/client-tls.key" "$RUN_DIR/client-tls.crt"
}

# write_pgbouncer_ini DATABASE_ENTRIES
write_pgbouncer_ini() {
  local tls_mode=$NATIVE_SSLMODE reset=${SETTING[PGBOUNCER_SERVER_RESET_QUERY]} name
  [[ $MODE == stunnel ]] && tls_mode=disable
  [[ -n $reset || ${SETTING[PGBOUNCER_POOL_MODE]} != session ]] || reset="DISCARD ALL"
  cat <<EOF
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${SETTING[PGBOUNCER_LISTEN_PORT]}
unix_socket_dir = $RUN_DIR
unix_socket_mode = 0600
auth_type = hba
auth_hba_file = $RUN_DIR/hba.conf
auth_file = $RUN_DIR/users.txt
stats_users = pgbouncer_stats
server_reset_query = $reset
EOF
  # The settings that are pgbouncer's own, under its names (PGBOUNCER_POOL_MODE -> pool_mode).
  for name in POOL_MODE MAX_CLIENT_CONN DEFAULT_POOL_SIZE MIN_POOL_SIZE RESERVE_POOL_SIZE \
    RESERVE_POOL_TIMEOUT SERVER_LIFETIME SERVER_IDLE_TIMEOUT LOG_CONNECTIONS LOG_DISCONNECTIONS \
    LOG_POOLER_ERRORS STATS_PERIOD QUERY_WAIT_TIMEOUT SERVER_LOGIN_RETRY MAX_PREPARED_STATEMENTS \
    IGNORE_STARTUP_PARAMETERS; do
    printf '%s = %s\n' "${name,,}" "${SETTING[PGBOUNCER_$name]}"
  done
  cat <<EOF
server_tls_sslmode = $tls_mode
server_tls_protocols = secure
server_tls_ciphers = HIGH:!aNULL:!eNULL:!MD5:!3DES:!RC4
server_tls_ca_file = ${SETTING[PGBOUNCER_SERVER_TLS_CA_FILE]}
$(client_tls_settings)
$APP_SETTINGS

[databases]
$1
EOF
}
