#!/usr/bin/env bats
# The vendor artifacts themselves (dist/vendor, as built by npm run vendor:build): what our patches
# change about signals, and what the Node builds need from a stack's glibc.
load helpers

setup_file() {
  load helpers
  ensure_dyno_user
  VWORK=$(mktemp -d /tmp/hbnp-vendor.XXXXXX)
  chmod 755 "$VWORK"
  local f
  for f in nginx pgbouncer stunnel; do
    mkdir -p "$VWORK/$f"
    tar -xzf "$REPO"/dist/vendor/"$f"-*-linux-x64.tar.gz -C "$VWORK/$f"
  done
  chown -R "$DYNO_USER" "$VWORK"
  export VWORK
}

teardown_file() { rm -rf "$VWORK"; }

teardown() { pkill -KILL -u "$DYNO_USER" 2>/dev/null || true; }

# max_glibc BINARY: the newest GLIBC_x.y symbol version BINARY needs.
max_glibc() { objdump -T "$1" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1; }

@test "Node for cedar-14 needs nothing newer than its glibc 2.19; Node 22 nothing newer than heroku-20's 2.31" {
  local d="$BATS_TEST_TMPDIR/node"
  mkdir -p "$d/16" "$d/22"
  tar -xzf "$REPO"/dist/vendor/node-16.*-linux-x64.tar.gz -C "$d/16"
  tar -xzf "$REPO"/dist/vendor/node-22.*-linux-x64.tar.gz -C "$d/22"
  run max_glibc "$d/16/bin/node"
  [[ $(printf '%s\n2.19\n' "$output" | sort -V | tail -n1) == 2.19 ]] || fail "node 16 needs glibc $output"
  run max_glibc "$d/22/bin/node"
  [[ $(printf '%s\n2.31\n' "$output" | sort -V | tail -n1) == 2.31 ]] || fail "node 22 needs glibc $output"
  run "$d/16/bin/node" --version
  assert_output --regexp '^v16\.'
}

@test "nginx, pgbouncer and stunnel are static: ldd finds no dynamic executable" {
  for b in nginx/bin/nginx pgbouncer/bin/pgbouncer stunnel/bin/stunnel; do
    run ldd "$VWORK/$b"
    assert_output --partial "not a dynamic executable"
  done
}

@test "nginx: SIGTERM finishes the request in flight (our patch), then nginx exits" {
  local port up
  port=$("$REPO/test/support/free-port.sh") up=$("$REPO/test/support/free-port.sh")
  # A slow upstream: answers after 2 s.
  python3 -c '
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(2); self.send_response(200); self.end_headers(); self.wfile.write(b"slow-ok")
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' "$up" &
  local upstream=$!
  until (exec 3<>"/dev/tcp/127.0.0.1/$up") 2>/dev/null; do sleep 0.05; done
  cat >"$VWORK/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $VWORK/nginx.pid; error_log stderr;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $VWORK/cb; proxy_temp_path $VWORK/px;
  server { listen $port; location / { proxy_pass http://127.0.0.1:$up; } } }
CONF
  chown "$DYNO_USER" "$VWORK/nginx.conf"
  as_dyno "$VWORK/nginx/bin/nginx" -p "$VWORK/" -c "$VWORK/nginx.conf" &
  local i
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do sleep 0.05; done
  curl -s "http://127.0.0.1:$port/" >"$BATS_TEST_TMPDIR/inflight" &
  local c=$!
  sleep 0.5
  pkill -TERM -u "$DYNO_USER" -f 'nginx: master'
  wait "$c"
  kill "$upstream"
  assert_equal "$(cat "$BATS_TEST_TMPDIR/inflight")" "slow-ok"
  for i in $(seq 40); do pgrep -u "$DYNO_USER" -x nginx >/dev/null || break; sleep 0.05; done
  run pgrep -u "$DYNO_USER" -x nginx
  assert_failure
}

@test "pgbouncer ignores SIGTERM and stops on SIGINT" {
  cat >"$VWORK/pgb.ini" <<INI
[pgbouncer]
listen_addr =
unix_socket_dir = $VWORK
listen_port = 6999
auth_type = trust
auth_file = $VWORK/users.txt
[databases]
INI
  : >"$VWORK/users.txt"
  chown "$DYNO_USER" "$VWORK/pgb.ini" "$VWORK/users.txt"
  as_dyno "$VWORK/pgbouncer/bin/pgbouncer" "$VWORK/pgb.ini" 2>"$BATS_TEST_TMPDIR/pgb.log" &
  local pid
  for _ in $(seq 100); do [[ -S $VWORK/.s.PGSQL.6999 ]] && break; sleep 0.05; done
  pid=$(pgrep -u "$DYNO_USER" -x pgbouncer)
  kill -TERM "$pid"
  sleep 0.5
  kill -0 "$pid" || fail "pgbouncer exited on SIGTERM"
  [[ -S $VWORK/.s.PGSQL.6999 ]] || fail "pgbouncer stopped listening on SIGTERM"
  kill -INT "$pid"
  for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  ! kill -0 "$pid" 2>/dev/null || fail "pgbouncer ignored SIGINT"
  run cat "$BATS_TEST_TMPDIR/pgb.log"
  assert_output --partial "got SIGTERM, ignored"
}

@test "stunnel ignores SIGTERM and stops on SIGINT, even started with SIGINT ignored" {
  printf 'foreground = yes\npid =\n[x]\nclient = yes\naccept = 127.0.0.1:%s\nconnect = 127.0.0.1:9\n' "$("$REPO/test/support/free-port.sh")" >"$VWORK/st.conf"
  chown "$DYNO_USER" "$VWORK/st.conf"
  # A background job of a script starts with SIGINT ignored; stunnel must still honour it.
  as_dyno bash -c "'$VWORK/stunnel/bin/stunnel' '$VWORK/st.conf' & wait" 2>"$BATS_TEST_TMPDIR/st.log" &
  local pid
  for _ in $(seq 100); do pid=$(pgrep -u "$DYNO_USER" -x stunnel) && break; sleep 0.05; done
  sleep 0.3
  kill -TERM "$pid"
  sleep 0.5
  kill -0 "$pid" || fail "stunnel exited on SIGTERM"
  kill -INT "$pid"
  for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  ! kill -0 "$pid" 2>/dev/null || fail "stunnel ignored SIGINT"
  run cat "$BATS_TEST_TMPDIR/st.log"
  assert_output --partial "Received SIGTERM; ignored"
}
