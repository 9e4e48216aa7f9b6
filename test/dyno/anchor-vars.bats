#!/usr/bin/env bats
# The anchors' config vars, one by one: an app that set one under heroku-buildpack-pgbouncer or
# heroku-buildpack-nginx gets the same line in the config pgbouncer, stunnel or nginx reads, and an
# app that set none gets the anchor's defaults. Where ours differ, the README's config var table
# says why ("other default"); the last test holds that every anchor var has a case here.
# Runs the start scripts' libraries in a slug-shaped dir ($T: bin/, vendor/nginx-pgbouncer/,
# vendor/nginx/ and vendor/pgbouncer/ from the built artifacts), with the configs written and
# nothing started.
load ../support/helpers

setup_file() {
  export T="$BATS_FILE_TMPDIR/slug"
  mkdir -p "$T/vendor/nginx-pgbouncer" "$T/vendor/nginx" "$T/vendor/pgbouncer" "$T/tmp" "$T/config"
  cp -r "$REPO/dyno/bin" "$T/bin"
  cp -r "$REPO/dyno/lib" "$REPO/dyno/libexec" "$REPO/dyno/conf" "$T/vendor/nginx-pgbouncer/"
  artifact::extract nginx "$T/vendor/nginx"
  artifact::extract pgbouncer "$T/vendor/pgbouncer"
}

# pooler_file MODE FILE VAR=VALUE...: FILE (pgbouncer.ini, stunnel.conf, hba.conf or exports) as
# the pooler wrapper writes it in MODE (native or stunnel) with these vars.
pooler_file() {
  local mode=$1 file=$2
  shift 2
  env -i PATH=/usr/bin:/bin TMPDIR="$T/tmp" DATABASE_URL=postgres://u:p@db.example.com:5432/d \
    OTHER_URL=postgres://v:q@other.example.com:5433/e "$@" bash -c '
    set -euo pipefail; _SCRIPT_NAME=test
    . "$0/vendor/nginx-pgbouncer/lib/common.sh"; . "$_LIB_DIR/pgbouncer.sh"
    _MODE=$1; settings::read; pgbouncer_config::write
    if [[ $2 == exports ]]; then printf "%s\n" "${_POOLED_EXPORTS[@]}"; else cat "$_POOLER_DIR/$2"; fi
    rm -rf "$_POOLER_DIR"' "$T" "$mode" "$file"
}

# nginx_conf CONFIG VAR=VALUE...: the nginx config start-nginx renders (and nginx -t passes) with
# these vars, from the anchor's config/nginx.conf.erb (anchor) or our default (ours).
nginx_conf() {
  local which=$1
  shift
  rm -f "$T/config/nginx.conf.erb"
  [[ $which == ours ]] || cp "$REPO/test/fixtures/anchor-nginx-configs/nginx-9be9a7c.conf.erb" "$T/config/nginx.conf.erb"
  env -i PATH=/usr/bin:/bin TMPDIR="$T/tmp" PORT=5000 "$@" bash -c '
    set -euo pipefail; _SCRIPT_NAME=test
    . "$0/vendor/nginx-pgbouncer/lib/common.sh"; . "$_LIB_DIR/nginx-config.sh"
    nginx_config::require_port; nginx_config::export_settings; nginx_config::render; cat "$_RENDER_DIR/nginx.conf"' "$T"
}

# The anchor's pgbouncer.ini lines for an app that sets nothing (heroku-buildpack-pgbouncer's
# bin/gen-pgbouncer-conf.sh, 2026), which ours must write the same; not the defaults we changed on
# purpose (the README's table says which: log_connections and log_disconnections are 0 here).
ANCHOR_DEFAULT_LINES='listen_addr = 127.0.0.1
listen_port = 6000
server_tls_sslmode = require
server_tls_protocols = secure
pool_mode = transaction
server_reset_query = 
max_client_conn = 100
default_pool_size = 1
min_pool_size = 0
reserve_pool_size = 1
reserve_pool_timeout = 5.0
server_lifetime = 3600
server_idle_timeout = 600
log_pooler_errors = 1
stats_period = 60
query_wait_timeout = 120'

@test "no config var set: every pgbouncer.ini line the anchor writes with its defaults, ours writes the same" {
  local line
  run pooler_file native pgbouncer.ini
  assert_success
  while IFS= read -r line; do assert_line "$line"; done <<<"$ANCHOR_DEFAULT_LINES"
  assert_line "log_connections = 0"
  assert_line "log_disconnections = 0"
  # The anchor's auth_type, on the port it listens on.
  run pooler_file native hba.conf
  assert_line "host all all 127.0.0.1/32 scram-sha-256"
}

# Each case: MODE FILE 'VAR=VALUE' 'the line ours must contain': the anchor's line for it (its
# `DISCARD ALL;` without the semicolon; its URL's host part as ours).
PGBOUNCER_CASES=(
  "native|pgbouncer.ini|PGBOUNCER_POOL_MODE=session|pool_mode = session"
  "native|pgbouncer.ini|PGBOUNCER_POOL_MODE=session|server_reset_query = DISCARD ALL"
  "native|pgbouncer.ini|PGBOUNCER_SERVER_RESET_QUERY=RESET ALL|server_reset_query = RESET ALL"
  "native|hba.conf|PGBOUNCER_AUTH_TYPE=md5|host all all 127.0.0.1/32 md5"
  "native|pgbouncer.ini|PGBOUNCER_SERVER_TLS_SSLMODE=verify-full|server_tls_sslmode = verify-full"
  "native|pgbouncer.ini|PGBOUNCER_MAX_CLIENT_CONN=500|max_client_conn = 500"
  "native|pgbouncer.ini|PGBOUNCER_DEFAULT_POOL_SIZE=7|default_pool_size = 7"
  "native|pgbouncer.ini|PGBOUNCER_MIN_POOL_SIZE=2|min_pool_size = 2"
  "native|pgbouncer.ini|PGBOUNCER_RESERVE_POOL_SIZE=3|reserve_pool_size = 3"
  "native|pgbouncer.ini|PGBOUNCER_RESERVE_POOL_TIMEOUT=2.5|reserve_pool_timeout = 2.5"
  "native|pgbouncer.ini|PGBOUNCER_SERVER_LIFETIME=1800|server_lifetime = 1800"
  "native|pgbouncer.ini|PGBOUNCER_SERVER_IDLE_TIMEOUT=300|server_idle_timeout = 300"
  "native|pgbouncer.ini|PGBOUNCER_QUERY_WAIT_TIMEOUT=60|query_wait_timeout = 60"
  "native|pgbouncer.ini|PGBOUNCER_MAX_PREPARED_STATEMENTS=0|max_prepared_statements = 0"
  "native|pgbouncer.ini|PGBOUNCER_LOG_CONNECTIONS=1|log_connections = 1"
  "native|pgbouncer.ini|PGBOUNCER_LOG_DISCONNECTIONS=1|log_disconnections = 1"
  "native|pgbouncer.ini|PGBOUNCER_LOG_POOLER_ERRORS=0|log_pooler_errors = 0"
  "native|pgbouncer.ini|PGBOUNCER_STATS_PERIOD=30|stats_period = 30"
  "native|pgbouncer.ini|PGBOUNCER_IGNORE_STARTUP_PARAMETERS=|ignore_startup_parameters = "
  "native|pgbouncer.ini|PGBOUNCER_IGNORE_STARTUP_PARAMETERS=search_path|ignore_startup_parameters = search_path"
  "native|exports|PGBOUNCER_PREPARED_STATEMENTS=false|DATABASE_URL_PGBOUNCER=postgres://u:p@/db1?prepared_statements=false&host=…"
  "native|exports|PGBOUNCER_URLS=DATABASE_URL OTHER_URL|OTHER_URL_PGBOUNCER=postgres://v:q@/db2?host=…"
  "stunnel|stunnel.conf|PGBOUNCER_STUNNEL_LOGLEVEL=info|debug = info"
  "stunnel|stunnel.conf|PGBOUNCER_CONNECTION_RETRY=yes|retry = yes"
  "stunnel|stunnel.conf|ENABLE_STUNNEL_AMAZON_RDS_FIX=true|options = NO_TICKET"
)

@test "each heroku-buildpack-pgbouncer config var, set, gives the line the anchor writes for it" {
  local c mode file var want
  for c in "${PGBOUNCER_CASES[@]}"; do
    IFS='|' read -r mode file var want <<<"$c"
    run pooler_file "$mode" "$file" "$var"
    assert_success
    # "…" in a case: the private socket dir, which differs per boot.
    if [[ $want == *…* ]]; then
      assert_line --regexp "^$(sed -E 's/[][\.*^$?+(){}|/]/\\&/g; s/…/.*/' <<<"$want")"
    else
      assert_line "$want"
    fi
  done
}

# Each case: CONFIG 'VAR=VALUE' 'line of the rendered nginx config'. The anchor's own config
# (its last version, 9be9a7c) reads four vars; ours reads them with the same meaning.
NGINX_CASES=(
  "anchor|NGINX_WORKERS=3|worker_processes 3;"
  "ours|NGINX_WORKERS=3|worker_processes 3;"
  "anchor|NGINX_WORKER_CONNECTIONS=2048|	worker_connections 2048;"
  "ours|NGINX_WORKER_CONNECTIONS=2048|  worker_connections 2048;"
  "anchor|NGINX_ACCESS_LOG_PATH=logs/a.log|	access_log logs/a.log l2met;"
  "ours|NGINX_ACCESS_LOG_PATH=logs/a.log|  access_log logs/a.log l2met;"
  "anchor|NGINX_ERROR_LOG_PATH=logs/e.log|	error_log logs/e.log;"
  "ours|NGINX_ERROR_LOG_PATH=logs/e.log|  error_log logs/e.log;"
  "ours|NGINX_CLIENT_MAX_BODY_SIZE=5|  client_max_body_size 5M;"
  "ours|NGINX_CLIENT_BODY_TIMEOUT=7|  client_body_timeout 7s;"
)

@test "each heroku-buildpack-nginx config var, set, gives the same nginx line in the anchor's config and ours" {
  local c which var want
  for c in "${NGINX_CASES[@]}"; do
    IFS='|' read -r which var want <<<"$c"
    run nginx_conf "$which" "$var"
    assert_success
    assert_line "$want"
  done
  # Unset: the anchor's config keeps its own fallbacks (it never sees our defaults).
  run nginx_conf anchor
  assert_line "worker_processes 4;"
  assert_line "	access_log logs/nginx/access.log l2met;"
}

@test "FORCE (the anchor's -f as a config var): nginx starts without waiting for the app" {
  local port
  port=$("$REPO/test/support/free-port.sh")
  rm -f "$T/config/nginx.conf.erb"
  run timeout 20 env -i PATH=/usr/bin:/bin TMPDIR="$T/tmp" PORT="$port" FORCE=1 \
    bash -c '"$0/bin/start-nginx" sleep 2' "$T"
  assert_output --partial "start-nginx: nginx ready on port $port, in front of /tmp/nginx.socket"
  refute_output --partial "did not create /tmp/nginx.socket"
}

@test "every config var of the anchors has a case above, or a test named here" {
  # Behaviour rather than a config line, tested where it shows.
  local -A elsewhere=(
    [PGBOUNCER_ENABLED]="test/e2e/buildpack.bats: PGBOUNCER_ENABLED=0 runs the command without a pooler; test/dyno/settings.bats"
  )
  local cases name
  cases=$(printf '%s\n' "${PGBOUNCER_CASES[@]}" "${NGINX_CASES[@]}")
  # shellcheck source=dyno/lib/settings.sh
  . "$REPO/dyno/lib/settings.sh"
  for name in "${_SETTING_NAMES[@]}"; do
    [[ ${_SETTING_ORIGIN[$name]} == ours ]] && continue
    [[ $name == FORCE || -n ${elsewhere[$name]:-} ]] && continue
    grep -q "|$name=" <<<"$cases" || fail "$name (origin ${_SETTING_ORIGIN[$name]}) has no case in this file"
  done
}
