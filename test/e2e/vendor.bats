#!/usr/bin/env bats
# The vendor artifacts themselves (artifacts, as built by npm run vendor:build): what our patches
# change about signals, and what the Node builds need from a stack's glibc.
load ../support/helpers

setup_file() {
  load ../support/helpers
  dyno::ensure_user
  VWORK=$(mktemp -d /tmp/hbnp-vendor.XXXXXX)
  chmod 755 "$VWORK"
  local f
  for f in nginx pgbouncer stunnel; do
    mkdir -p "$VWORK/$f"
    tar -xzf "$REPO"/artifacts/"$f"-*-linux-x64.tar.gz -C "$VWORK/$f"
  done
  chown -R "$DYNO_USER" "$VWORK"
  export VWORK
}

load ../support/nginx-cves
load ../support/pgbouncer-cves
load ../support/mruby-checks
# shellcheck disable=SC2034 # read by test/support/nginx-cves.bash, pgbouncer-cves.bash and mruby-checks.bash
setup() {
  NGINX_WORK=$VWORK NGINX_CMD=("$VWORK/nginx/bin/nginx")
  PGBOUNCER_WORK=$VWORK PGBOUNCER_CMD=("$VWORK/pgbouncer/bin/pgbouncer")
  MRUBY_CMD=("$VWORK/nginx/libexec/mruby")
}

teardown_file() { rm -rf "$VWORK"; }

teardown() { pkill -KILL -u "$DYNO_USER" 2>/dev/null || true; }

# ignores_term_stops_on_int PID NAME STILL_SERVING: SIGTERM leaves PID running (and STILL_SERVING
# true), SIGINT ends it within 3 s.
ignores_term_stops_on_int() {
  kill -TERM "$1"
  sleep 0.5
  kill -0 "$1" || fail "$2 exited on SIGTERM"
  eval "$3" || fail "$2 stopped serving on SIGTERM"
  kill -INT "$1"
  for _ in $(seq 60); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
  ! kill -0 "$1" 2>/dev/null || fail "$2 ignored SIGINT"
}

# max_glibc BINARY: the newest GLIBC_x.y symbol version BINARY needs.
max_glibc() { objdump -T "$1" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1; }

@test "Node for cedar-14 needs nothing newer than its glibc 2.19; Node 22 nothing newer than heroku-20's 2.31" {
  local d="$BATS_TEST_TMPDIR/node"
  mkdir -p "$d/16" "$d/22"
  tar -xzf "$REPO"/artifacts/node-16.*-linux-x64.tar.gz -C "$d/16"
  tar -xzf "$REPO"/artifacts/node-22.*-linux-x64.tar.gz -C "$d/22"
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
  dyno::as_user "$VWORK/nginx/bin/nginx" -p "$VWORK/" -c "$VWORK/nginx.conf" &
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do sleep 0.05; done
  curl -s "http://127.0.0.1:$port/" >"$BATS_TEST_TMPDIR/inflight" &
  local c=$!
  sleep 0.5
  pkill -TERM -u "$DYNO_USER" -f 'nginx: master'
  wait "$c"
  kill "$upstream"
  assert_equal "$(cat "$BATS_TEST_TMPDIR/inflight")" "slow-ok"
  for _ in $(seq 40); do pgrep -u "$DYNO_USER" -x nginx >/dev/null || break; sleep 0.05; done
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
  dyno::as_user "$VWORK/pgbouncer/bin/pgbouncer" "$VWORK/pgb.ini" 2>"$BATS_TEST_TMPDIR/pgb.log" &
  local pid
  for _ in $(seq 100); do [[ -S $VWORK/.s.PGSQL.6999 ]] && break; sleep 0.05; done
  pid=$(pgrep -u "$DYNO_USER" -x pgbouncer)
  ignores_term_stops_on_int "$pid" pgbouncer "[[ -S $VWORK/.s.PGSQL.6999 ]]"
  run cat "$BATS_TEST_TMPDIR/pgb.log"
  assert_output --partial "got SIGTERM, ignored"
}

# torn_stderr_writes TRACE: the writes of data to fd 2 in an `strace -o TRACE` log whose data does
# not end in a newline (what is left of a line after cutting from the last quote, the end of its
# data). Fails unless at least 3 writes went to fd 2 and one of them was over 80 bytes (musl's
# unpatched buffer), so that a quiet program cannot pass.
torn_stderr_writes() {
  local writes
  writes=$(grep -E '^[0-9]+ +(write|writev)\(2, ' "$1" | grep -v ') = 0$' || true)
  (($(grep -c . <<<"$writes") >= 3)) || fail "fewer than 3 writes to stderr in $1"
  grep -qE ' = ([89][0-9]|[1-9][0-9]{2,})$' <<<"$writes" || fail "no write to stderr over 80 bytes in $1"
  sed -E 's/"[^"]*$//' <<<"$writes" | grep -v '\\n$' || true
}

@test "a log line of pgbouncer or stunnel reaches stderr in one write, its newline included (a dyno's processes share one log pipe)" {
  # Without our musl patch 0001 a line over 80 bytes went out as the line, then "\n" alone.
  command -v strace >/dev/null || fail "strace is missing: run support/setup-host.sh"
  local t=$VWORK port name pid
  port=$("$REPO/test/support/free-port.sh")
  cat >"$t/pgb-log.ini" <<INI
[pgbouncer]
listen_addr =
unix_socket_dir = $t
listen_port = 6998
auth_type = trust
auth_file = $t/users.txt
[databases]
INI
  : >"$t/users.txt"
  printf 'foreground = yes\npid =\ndebug = 7\n[x]\nclient = yes\naccept = 127.0.0.1:%s\nconnect = 127.0.0.1:9\n' "$port" >"$t/st-log.conf"
  chown "$DYNO_USER" "$t/pgb-log.ini" "$t/users.txt" "$t/st-log.conf"
  # Bounded: a program that missed its SIGINT must not hold the suite.
  dyno::as_user timeout -s KILL 30 strace -f -qq -e trace=write,writev -e signal=none -s 65535 -o "$t/pgbouncer.trace" \
    "$VWORK/pgbouncer/bin/pgbouncer" "$t/pgb-log.ini" 2>/dev/null &
  dyno::as_user timeout -s KILL 30 strace -f -qq -e trace=write,writev -e signal=none -s 65535 -o "$t/stunnel.trace" \
    "$VWORK/stunnel/bin/stunnel" "$t/st-log.conf" 2>/dev/null &
  # Each is told to stop once it serves, so that its handler is in place and it has logged.
  for _ in $(seq 200); do [[ -S $t/.s.PGSQL.6998 ]] && break; sleep 0.05; done
  for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
  sleep 0.3
  for name in pgbouncer stunnel; do
    pid=$(pgrep -n -u "$DYNO_USER" -x "$name") || fail "$name did not start (trace: $t/$name.trace)"
    kill -INT "$pid"
  done
  wait
  for name in pgbouncer stunnel; do
    run torn_stderr_writes "$t/$name.trace"
    assert_success
    assert_output ""
  done
}

@test "pgbouncer CVE-2026-19888: a SCRAM client-final-message without its nonce is refused before auth, and the pooler keeps serving" {
  pgbouncer_cves::cve_2026_19888
}

@test "pgbouncer CVE-2026-107349: a startup option with an empty name is refused, and the pooler keeps serving" {
  pgbouncer_cves::cve_2026_107349
}

@test "pgbouncer CVE-2026-6669: a server asking for 2^31 SCRAM iterations is refused at once, not computed for minutes" {
  pgbouncer_cves::cve_2026_6669
}

@test "pgbouncer CVE-2026-6665 (the rest, upstream PR #1505): a server nonce that leaves no room for the proof is refused, not written past the stack buffer" {
  pgbouncer_cves::cve_2026_6665_rest
}

@test "stunnel ignores SIGTERM and stops on SIGINT, even started with SIGINT ignored" {
  printf 'foreground = yes\npid =\n[x]\nclient = yes\naccept = 127.0.0.1:%s\nconnect = 127.0.0.1:9\n' "$("$REPO/test/support/free-port.sh")" >"$VWORK/st.conf"
  chown "$DYNO_USER" "$VWORK/st.conf"
  # A background job of a script starts with SIGINT ignored; stunnel must still honour it.
  dyno::as_user bash -c "'$VWORK/stunnel/bin/stunnel' '$VWORK/st.conf' & wait" 2>"$BATS_TEST_TMPDIR/st.log" &
  local pid
  for _ in $(seq 100); do pid=$(pgrep -u "$DYNO_USER" -x stunnel) && break; sleep 0.05; done
  sleep 0.3
  ignores_term_stops_on_int "$pid" stunnel true
  run cat "$BATS_TEST_TMPDIR/st.log"
  assert_output --partial "Received SIGTERM; ignored"
}

@test "stunnel stopped while its connections close: 100 rounds each of SIGINT and SIGTERM end by exit 0, never a hang or a crash" {
  # Without our patch 0003 about 4 rounds in 10 hang in pthread_join or die of SIGSEGV.
  run dyno::as_user python3 "$REPO/test/support/stunnel-stop-race.py" "$VWORK/stunnel/bin/stunnel" 100 INT
  assert_success
  assert_output --partial "100 of 100 rounds clean"
  run dyno::as_user python3 "$REPO/test/support/stunnel-stop-race.py" "$VWORK/stunnel/bin/stunnel" 100 TERM
  assert_success
  assert_output --partial "100 of 100 rounds clean"
}

# The requests of test/support/nginx-cves.bash, against the x64 build.
@test "nginx CVE-2026-42945: a capture used after a rewrite with arguments is neither escaped nor overrun" {
  nginx_cves::cve_2026_42945
}

@test "nginx CVE-2026-9256: overlapping captures in a redirect or its arguments are copied whole" {
  nginx_cves::cve_2026_9256
}

@test "nginx CVE-2026-42533: a map regex that moves the captures mid-expression gives a clean string" {
  nginx_cves::cve_2026_42533
}

@test "nginx CVE-2026-15176: request_filename after a rewrite to a URI shorter than the alias is not found, and no worker dies" {
  nginx_cves::cve_2026_15176
}

@test "nginx (upstream eec047c9): proxy_pass with a URI after try_files made the URI shorter than the location" {
  nginx_cves::proxy_uri_shorter_than_location
}

@test "each binary carries its SBOM; nginx -V and the SBOM give the same configure arguments" {
  local f args
  for f in nginx pgbouncer stunnel; do
    [[ -s $VWORK/$f/sbom.cdx.json ]] || fail "$f has no sbom.cdx.json"
  done
  args=$("$VWORK/nginx/bin/nginx" -V 2>&1 | sed -n 's/^configure arguments: //p')
  [[ $args == *--without-http_ssi_module* && $args == *--without-http_grpc_module* && $args == *headers-more* ]] || fail "SSI or grpc compiled, or headers-more not: $args"
  run python3 -c '
import json, sys
bom = json.load(open(sys.argv[1]))
print(next(p["value"] for p in bom["metadata"]["component"]["properties"] if p["name"] == "nginx:configure-arguments"))
print(" ".join(sorted({v["id"] for v in bom["vulnerabilities"]})))' "$VWORK/nginx/sbom.cdx.json"
  assert_line --index 0 "$args"
  assert_line --index 1 --partial "CVE-2026-42945"
  assert_line --index 1 --partial "CVE-2026-27171"
}

@test "each SBOM's VEX holds every advisory of the ledger for its components, and nginx compiles only modules the ledger reviewed" {
  run python3 -c '
import json, sys
ledger = {c["name"]: c for c in json.load(open(sys.argv[1]))["components"]}
for f in sys.argv[2:]:
    bom = json.load(open(f))
    comps = [bom["metadata"]["component"]] + bom["components"]
    want = {(i, c["bom-ref"]) for c in comps for a in ledger[c["name"]]["advisories"] for i in a["ids"]}
    got = {(v["id"], v["affects"][0]["ref"]) for v in bom["vulnerabilities"]}
    if want != got: print(f, "differs:", sorted(want ^ got))
    states = {v["id"]: v["analysis"]["state"] for v in bom["vulnerabilities"]}
    if "pgbouncer" in f: print("19888", states["CVE-2026-19888"])
    if "nginx" in f:
        props = {p["name"]: p["value"] for p in bom["metadata"]["component"]["properties"]}
        extra = set(props["nginx:modules"].split()) - set(ledger["nginx"]["modules"])
        print("unreviewed:", " ".join(sorted(extra)) or "none")
        print("v2:", "ngx_http_v2_module" in props["nginx:modules"])
' "$REPO/builds/advisories.json" "$VWORK"/{nginx,pgbouncer,stunnel}/sbom.cdx.json
  assert_success
  refute_output --partial "differs"
  assert_line "19888 resolved_with_pedigree"
  assert_line "unreviewed: none"
  assert_line "v2: False"
}

@test "mruby (renders config/nginx.conf.erb): no sockets, no bigint; our backports hold; it renders a real template's Ruby" {
  mruby_checks::gems_left_out
  mruby_checks::method_missing_packed_arguments
  mruby_checks::renders
}
