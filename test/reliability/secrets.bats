#!/usr/bin/env bats
# The database password, tried on purpose: where it is written, who can read it, where it must never
# appear; and TLS to the server, required by default in both pooler modes.
load ../support/helpers

setup_file() {
  load ../support/helpers
  start_platform
  APP_SRC="$REPO/test/fixtures/plain"
  TEST_PASSWORD=$("$REPO/test/support/pg.sh" password)
  export APP_SRC TEST_PASSWORD
}

teardown_file() { stop_platform; }

teardown() {
  [[ -n $(dyno::pids) ]] && dyno::stop
  return 0
}

# The password as pgbouncer's files hold it may be quoted; this part of it survives any quoting.
password_core() { printf '%s' "${TEST_PASSWORD:0:9}"; }

@test "files holding the password: 0600, in a 0700 directory of the dyno user, unreadable by others, gone after exit" {
  local dir files f before
  before=$(find /tmp -maxdepth 1 -name 'pgbouncer.*' | sort)
  boot_web "$(slug heroku-24)"
  dir=$(comm -13 <(echo "$before") <(find /tmp -maxdepth 1 -name 'pgbouncer.*' | sort))
  [[ -n $dir && $dir != *$'\n'* ]] || fail "not one new pooler directory: '$dir'"
  assert_equal "$(stat -c '%a %U' "$dir")" "700 $DYNO_USER"
  files=$(grep -rlF "$(password_core)" "$dir" || true)
  [[ -n $files ]] || fail "no file in $dir holds the password: the check would prove nothing"
  for f in $files; do
    assert_equal "$(stat -c '%a %U' "$f")" "600 $DYNO_USER"
    run runuser -u nobody -- cat "$f"
    assert_failure
  done
  dyno::stop
  [[ ! -e $dir ]] || fail "$dir is still there after the dyno stopped"
}

@test "the password never shows in build output, boot output, logs, or ps" {
  # Even with DATABASE_URL among the build's config vars, the build never echoes it.
  local env="$BATS_TEST_TMPDIR/env" out="$BATS_TEST_TMPDIR/all-output"
  mkdir -p "$env" && echo "$MIRROR_URL" >"$env/BUILDPACK_VENDOR_URL" && printf '%s' "$DATABASE_URL" >"$env/DATABASE_URL"
  mkdir -p "$BATS_TEST_TMPDIR/build" && cp -r "$APP_SRC/." "$BATS_TEST_TMPDIR/build/"
  STACK=heroku-24 "$REPO/bin/compile" "$BATS_TEST_TMPDIR/build" "$BATS_TEST_TMPDIR/cache" "$env" >"$out" 2>&1
  boot_web "$(slug heroku-24)" PGBOUNCER_LOG_CONNECTIONS=1 PGBOUNCER_STUNNEL_LOGLEVEL=debug
  curl -fsS "http://127.0.0.1:$PORT/db" >>"$out"
  ps -eo args >>"$out"
  dyno::stop
  cat "$WEB_LOG" >>"$out"
  # A boot that fails on a bad URL still names only the variable.
  dyno::as_user env -i PATH=/usr/bin:/bin DATABASE_URL="${DATABASE_URL/@/:99999@}" "$(slug heroku-24)/bin/start-pgbouncer" true >>"$out" 2>&1 || true
  grep -q "nginx -t" "$out" && grep -q "login attempt" "$out" || fail "the captured output is not what the check needs"
  run grep -cF "$(password_core)" "$out"
  assert_output 0
}

# fake_plaintext_server PORT LOG: a "PostgreSQL" that declines TLS ('N' to SSLRequest) and logs
# how many bytes a client sends after that: a client that goes on in cleartext shows there.
fake_plaintext_server() {
  python3 - "$1" "$2" <<'PY' &
import socket, sys
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1]))); srv.listen(8)
log = open(sys.argv[2], "ab", buffering=0)
while True:
    c, _ = srv.accept()
    c.settimeout(2)
    try:
        first = c.recv(8)
        if first[4:8] == b"\x04\xd2\x16\x2f":  # SSLRequest
            c.sendall(b"N")
            rest = c.recv(4096)
            log.write(b"after-N: %d bytes\n" % len(rest))
        else:
            log.write(b"no-ssl-request\n")
    except OSError:
        pass
    c.close()
PY
  FAKE_PID=$!
}

@test "TLS to the server is required by default, in both modes: a server without TLS gets no cleartext login" {
  local s port log script
  s=$(slug heroku-24)
  port=$("$REPO/test/support/free-port.sh")
  log="$BATS_TEST_TMPDIR/fake.log"
  : >"$log"
  fake_plaintext_server "$port" "$log"
  sleep 0.3
  for script in start-pgbouncer start-pgbouncer-stunnel; do
    run dyno::as_user env -i PATH=/usr/bin:/bin HOME="$s" DATABASE_URL="${DATABASE_URL/localhost:$PG_PORT/127.0.0.1:$port}" \
      PGBOUNCER_QUERY_WAIT_TIMEOUT=3 "$s/bin/$script" bash -c 'psql -P pager=off "$DATABASE_URL" -Atc "select 1" 2>&1; true'
    refute_line "1"
  done
  kill "$FAKE_PID" 2>/dev/null || true
  grep -q . "$log" || fail "the fake server saw no client: the check would prove nothing"
  run grep -vx 'after-N: 0 bytes' "$log"
  assert_output ""
}
