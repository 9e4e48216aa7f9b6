#!/usr/bin/env bats
# The linux-arm64 artifacts (artifacts), run on this x64 machine by qemu-aarch64-static: static
# aarch64 executables; nginx checks a config and serves; pgbouncer pools psql to the test
# PostgreSQL over TLS, natively and through stunnel; our signal patches behave as on x64.
load ../support/helpers

QEMU=qemu-aarch64-static

setup_file() {
  load ../support/helpers
  dyno::ensure_user
  make_test_work
  AWORK="$TEST_WORK/arm64"
  local f
  for f in nginx pgbouncer stunnel; do
    mkdir -p "$AWORK/$f"
    tar -xzf "$REPO"/artifacts/"$f"-*-linux-arm64.tar.gz -C "$AWORK/$f"
  done
  PG_DIR="$TEST_WORK/pg"
  PG_PORT=$("$REPO/test/support/free-port.sh")
  DATABASE_URL=$("$REPO/test/support/pg.sh" start "$PG_DIR" "$PG_PORT")
  chown -R "$DYNO_USER" "$AWORK"
  export AWORK PG_DIR PG_PORT DATABASE_URL
}

teardown_file() {
  "$REPO/test/support/pg.sh" stop "$PG_DIR"
  rm -rf "$TEST_WORK"
}

teardown() { pkill -KILL -u "$DYNO_USER" 2>/dev/null || true; }

load ../support/nginx-cves
load ../support/pgbouncer-cves
load ../support/mruby-checks
# shellcheck disable=SC2034 # read by test/support/nginx-cves.bash, pgbouncer-cves.bash and mruby-checks.bash
setup() {
  NGINX_WORK=$AWORK NGINX_CMD=("$QEMU" "$AWORK/nginx/bin/nginx")
  PGBOUNCER_WORK=$AWORK PGBOUNCER_CMD=("$QEMU" "$AWORK/pgbouncer/bin/pgbouncer")
  MRUBY_CMD=("$QEMU" "$AWORK/nginx/libexec/mruby")
}

# arm BINARY ARGS...: an arm64 binary of the artifacts, as the dyno user, under qemu.
arm() { dyno::as_user "$QEMU" "$AWORK/$1" "${@:2}"; }

# arm_pid BINARY: the pid of that arm64 binary's qemu process (runuser stays as its parent).
arm_pid() { pgrep -u "$DYNO_USER" -o -f "$QEMU $AWORK/$1"; }

wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

@test "arm64: nginx, pgbouncer and stunnel are static aarch64 executables, and so are their helpers" {
  local b
  for b in nginx/bin/nginx pgbouncer/bin/pgbouncer stunnel/bin/stunnel nginx/libexec/supervise pgbouncer/libexec/localhost-cert; do
    run file -b "$AWORK/$b"
    assert_output --partial "ARM aarch64"
    assert_output --partial "statically linked"
    run readelf -h "$AWORK/$b"
    assert_output --regexp 'Machine: +AArch64'
    run readelf -l "$AWORK/$b"
    refute_output --partial "INTERP"
  done
}

@test "arm64: nginx -V matches the x64 build's configure arguments; nginx -t passes; a request is served, and SIGTERM finishes the one in flight" {
  local x64 arm port up
  tar -xzf "$REPO"/artifacts/nginx-*-linux-x64.tar.gz -C "$BATS_TEST_TMPDIR" ./bin/nginx
  x64=$("$BATS_TEST_TMPDIR/bin/nginx" -V 2>&1 | sed -n 's/^configure arguments: //p')
  arm=$(arm nginx/bin/nginx -V 2>&1 | sed -n 's/^configure arguments: //p')
  # The same build but for the option that names the target machine.
  assert_equal "${arm/--crossbuild=Linux::aarch64 /}" "$x64"
  port=$("$REPO/test/support/free-port.sh") up=$("$REPO/test/support/free-port.sh")
  python3 -c '
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(2 if self.path == "/slow" else 0); self.send_response(200); self.end_headers(); self.wfile.write(b"up-ok")
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' "$up" &
  local upstream=$!
  cat >"$AWORK/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $AWORK/nginx.pid; error_log stderr;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $AWORK/cb; proxy_temp_path $AWORK/px;
  server { listen 127.0.0.1:$port; location = /hello { return 200 "hello from aarch64"; } location / { proxy_pass http://127.0.0.1:$up; } } }
CONF
  chown "$DYNO_USER" "$AWORK/nginx.conf"
  run arm nginx/bin/nginx -p "$AWORK/" -c "$AWORK/nginx.conf" -t
  assert_success
  assert_output --partial "test is successful"
  arm nginx/bin/nginx -p "$AWORK/" -c "$AWORK/nginx.conf" 2>"$BATS_TEST_TMPDIR/nginx.err" &
  wait_port "$port" || fail "arm64 nginx did not listen"
  local nginx
  nginx=$(arm_pid nginx/bin/nginx)
  run curl -sS "http://127.0.0.1:$port/hello"
  assert_output "hello from aarch64"
  curl -s "http://127.0.0.1:$port/slow" >"$BATS_TEST_TMPDIR/inflight" &
  local c=$!
  sleep 0.7
  kill -TERM "$(cat "$AWORK/nginx.pid")"
  wait "$c"
  assert_equal "$(cat "$BATS_TEST_TMPDIR/inflight")" "up-ok"
  for _ in $(seq 100); do kill -0 "$nginx" 2>/dev/null || break; sleep 0.05; done
  ! kill -0 "$nginx" 2>/dev/null || fail "arm64 nginx still runs after SIGTERM"
  kill "$upstream"
}

@test "arm64 localhost-cert: a key (0600) and a certificate for 127.0.0.1 and localhost, as on x64" {
  mkdir -p "$AWORK/cert"
  run "$QEMU" "$AWORK/pgbouncer/libexec/localhost-cert" "$AWORK/cert"
  assert_success
  assert_equal "$(stat -c %a "$AWORK/cert/client-tls.key")" 600
  run openssl x509 -in "$AWORK/cert/client-tls.crt" -noout -ext subjectAltName
  assert_output --partial "IP Address:127.0.0.1, DNS:localhost"
  run openssl pkey -in "$AWORK/cert/client-tls.key" -noout -text
  assert_output --partial "prime256v1"
}

# The requests of test/support/nginx-cves.bash, against the arm64 build: it carries the backports.
@test "arm64 nginx: the requests of the nginx backports (test/support/nginx-cves.bash) answer as on x64" {
  local case
  for case in cve_2026_42945 cve_2026_9256 cve_2026_42533 cve_2026_15176 proxy_uri_shorter_than_location; do
    pkill -KILL -u "$DYNO_USER" || true
    "nginx_cves::$case"
  done
}

@test "arm64 pgbouncer: the requests of the pgbouncer backports (test/support/pgbouncer-cves.bash) are refused as on x64" {
  local case
  for case in cve_2026_19888 cve_2026_107349 cve_2026_6669 cve_2026_6665_rest; do
    pkill -KILL -u "$DYNO_USER" || true
    "pgbouncer_cves::$case"
  done
}

# pooler_ini MODE: pgbouncer's config pooling the test database, over its own TLS (native) or to
# stunnel's socket (stunnel).
pooler_ini() {
  local pass host=127.0.0.1 port=$PG_PORT tls=require
  pass=$(python3 -c 'import sys, urllib.parse as u; print(u.unquote(u.urlsplit(sys.argv[1]).password))' "$DATABASE_URL")
  if [[ $1 == stunnel ]]; then host=$AWORK port=7101 tls=disable; fi
  cat >"$AWORK/pgb.ini" <<INI
[pgbouncer]
listen_addr =
unix_socket_dir = $AWORK
listen_port = 7000
auth_type = trust
auth_file = $AWORK/users.txt
server_tls_sslmode = $tls
[databases]
db1 = host=$host port=$port dbname=app_db user=app_user password='${pass//\'/\'\'}'
INI
  echo '"app_user" ""' >"$AWORK/users.txt"
  chown "$DYNO_USER" "$AWORK/pgb.ini" "$AWORK/users.txt"
}

start_pgbouncer() {
  rm -f "$AWORK/.s.PGSQL.7000" "$AWORK/.s.PGSQL.7000.lock"
  arm pgbouncer/bin/pgbouncer "$AWORK/pgb.ini" 2>"$BATS_TEST_TMPDIR/pgb.log" &
  for _ in $(seq 200); do [[ -S $AWORK/.s.PGSQL.7000 ]] && { PGB=$(arm_pid pgbouncer/bin/pgbouncer); return 0; }; sleep 0.05; done
  fail "arm64 pgbouncer did not listen: $(cat "$BATS_TEST_TMPDIR/pgb.log")"
}

pooled_query() { dyno::as_user psql -X -At "host=$AWORK port=7000 dbname=db1 user=app_user" -c "$1"; }

# ignores_term_stops_on_int PID NAME: SIGTERM leaves PID running, SIGINT ends it within 5 s.
ignores_term_stops_on_int() {
  kill -TERM "$1"
  sleep 0.5
  kill -0 "$1" || fail "$2 exited on SIGTERM"
  kill -INT "$1"
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
  fail "$2 ignored SIGINT"
}

@test "arm64: pgbouncer pools psql to PostgreSQL over its own TLS; it ignores SIGTERM and stops on SIGINT" {
  pooler_ini native
  start_pgbouncer
  run pooled_query "select 'pooled ' || ssl from pg_stat_ssl where pid = pg_backend_pid()"
  assert_output "pooled true"
  ignores_term_stops_on_int "$PGB" "arm64 pgbouncer"
  run cat "$BATS_TEST_TMPDIR/pgb.log"
  assert_output --partial "got SIGTERM, ignored"
}

@test "arm64: pgbouncer through arm64 stunnel's TLS; stunnel ignores SIGTERM and stops on SIGINT" {
  printf 'foreground = yes\nsyslog = no\npid =\n[db1]\nclient = yes\nprotocol = pgsql\naccept = %s/.s.PGSQL.7101\nconnect = 127.0.0.1:%s\n' \
    "$AWORK" "$PG_PORT" >"$AWORK/st.conf"
  chown "$DYNO_USER" "$AWORK/st.conf"
  rm -f "$AWORK/.s.PGSQL.7101"
  arm stunnel/bin/stunnel "$AWORK/st.conf" 2>"$BATS_TEST_TMPDIR/st.log" &
  for _ in $(seq 200); do [[ -S $AWORK/.s.PGSQL.7101 ]] && break; sleep 0.05; done
  local st
  st=$(arm_pid stunnel/bin/stunnel)
  pooler_ini stunnel
  start_pgbouncer
  run pooled_query "select 'via stunnel ' || ssl from pg_stat_ssl where pid = pg_backend_pid()"
  assert_output "via stunnel true"
  kill -INT "$PGB"
  # Started as a background job (SIGINT ignored on entry, as under a start script): it must still
  # honour SIGINT.
  ignores_term_stops_on_int "$st" "arm64 stunnel"
  run cat "$BATS_TEST_TMPDIR/st.log"
  assert_output --partial "Received SIGTERM; ignored"
}

@test "arm64 Node for the CNB build step: an aarch64 executable needing nothing newer than heroku-24's glibc 2.39" {
  local d="$BATS_TEST_TMPDIR/node" need
  mkdir -p "$d"
  tar -xzf "$REPO"/artifacts/node-22.*-linux-arm64.tar.gz -C "$d"
  run file -b "$d/bin/node"
  assert_output --partial "ARM aarch64"
  need=$(aarch64-linux-gnu-objdump -T "$d/bin/node" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1)
  [[ $(printf '%s\n2.39\n' "$need" | sort -V | tail -n1) == 2.39 ]] || fail "node needs glibc $need"
}

@test "arm64 stunnel stopped while its connections close: 100 rounds each of SIGINT and SIGTERM end by exit 0" {
  # vendor.bats's race for our patch 0003, with the arm64 binary run by qemu (exec'd: the signals
  # reach it).
  printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$QEMU" "$AWORK/stunnel/bin/stunnel" >"$AWORK/stunnel-qemu"
  chmod 0755 "$AWORK/stunnel-qemu"
  local sig
  for sig in INT TERM; do
    run dyno::as_user python3 "$REPO/test/support/stunnel-stop-race.py" "$AWORK/stunnel-qemu" 100 "$sig"
    assert_success
    assert_output --partial "100 of 100 rounds clean"
  done
}

@test "arm64 mruby (renders config/nginx.conf.erb): no sockets, no bigint; our backports hold; it renders a real template's Ruby" {
  mruby_checks::gems_left_out
  mruby_checks::method_missing_packed_arguments
  mruby_checks::renders
}

@test "arm64 supervise: a plan's children start in order and the app's status comes back" {
  local plan="$BATS_TEST_TMPDIR/plan"
  # The pooler is ready once its trap is set (the file says so): a SIGINT before that would end
  # sh with 130, not with the status the test checks comes back.
  printf '%s\0' voice test child pooler test before after app INT ready-file "$BATS_TEST_TMPDIR/trapped" 0 \
    ready-wait 20 "the pooler's trap" "pooler did not start" ready-say "pooler up" \
    argv 3 sh -c "trap 'exit 0' INT; touch '$BATS_TEST_TMPDIR/trapped'; while :; do sleep 0.05; done" \
    child app test main >"$plan"
  run "$QEMU" "$AWORK/nginx/libexec/supervise" "$plan" -- sh -c 'exit 3'
  assert_failure 3
  assert_output "test: pooler up
test: app exited (status 3): stopping (up to 25 s)
test: pooler stopped (status 0)
test: stopped (exit status 3)"
}
