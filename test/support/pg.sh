#!/usr/bin/env bash
# A throwaway PostgreSQL cluster shaped like Heroku Postgres: TCP only over TLS (hostssl), with
# scram-sha-256, and a password that needs percent-encoding in a URL. PG_MAX_CONNECTIONS: its
# max_connections (200), set when the cluster is made.
#   pg.sh start DIR PORT   -> prints DATABASE_URL;  pg.sh stop DIR;  pg.sh psql DIR SQL (as admin)
set -euo pipefail
PGBIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)
TEST_DB_USER=app_user
TEST_DB_PASSWORD='p@ss:w/rd%?#&"x'
TEST_DB_NAME=app_db

as_postgres() { runuser -u postgres -- "$@"; }

start() {
  local dir=$1 port=$2
  if [[ ! -d $dir/data ]]; then
    mkdir -p "$dir" && chown postgres: "$dir"
    as_postgres "$PGBIN/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=reject -E UTF8 >/dev/null
    as_postgres openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
      -keyout "$dir/data/server.key" -out "$dir/data/server.crt" 2>/dev/null
    chmod 600 "$dir/data/server.key"
    cp "$dir/data/server.crt" "$dir/ca.crt" && chmod 644 "$dir/ca.crt"
    cat >"$dir/data/pg_hba.conf" <<HBA
local all postgres trust
hostssl all all 127.0.0.1/32 scram-sha-256
hostssl all all ::1/128 scram-sha-256
HBA
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1,::1'
port = $port
ssl = on
password_encryption = 'scram-sha-256'
unix_socket_directories = '$dir'
max_connections = ${PG_MAX_CONNECTIONS:-200}
CONF
  fi
  as_postgres "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 ||
    as_postgres "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w start >/dev/null
  psql_admin "$dir" "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$TEST_DB_USER') THEN
    CREATE ROLE $TEST_DB_USER LOGIN PASSWORD '${TEST_DB_PASSWORD//\'/\'\'}'; END IF; END \$\$;" >/dev/null
  psql_admin "$dir" "SELECT 1 FROM pg_database WHERE datname = '$TEST_DB_NAME'" | grep -q 1 ||
    psql_admin "$dir" "CREATE DATABASE $TEST_DB_NAME OWNER $TEST_DB_USER" >/dev/null
  local enc
  enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$TEST_DB_PASSWORD")
  echo "postgres://$TEST_DB_USER:$enc@localhost:$port/$TEST_DB_NAME"
}

psql_admin() { as_postgres psql -h "$1" -p "$(grep -oP '^port = \K[0-9]+' "$1/data/postgresql.conf")" -U postgres -d postgres -Atc "$2"; }

stop() {
  if [[ -d $1/data ]]; then as_postgres "$PGBIN/pg_ctl" -D "$1/data" -m fast -w stop >/dev/null 2>&1 || true; fi
}

cmd=$1; shift
case $cmd in
  start) start "$@" ;;
  stop) stop "$@" ;;
  psql) psql_admin "$@" ;;
  password) printf '%s' "$TEST_DB_PASSWORD" ;;
  *) echo "usage: pg.sh start|stop|psql|password" >&2; exit 2 ;;
esac
