# shellcheck shell=bash
# Our pgbouncer's security backports, checked by the requests of each advisory
# (test/support/pgbouncer-cves.py), for the x64 build (vendor.bats) and the arm64 one under qemu
# (vendor-arm64.bats). Before the fixes pgbouncer crashed or spun at full CPU on each of them. The
# caller sets PGBOUNCER_WORK (a dir the dyno user owns) and PGBOUNCER_CMD (how to run the
# pgbouncer binary); load after helpers.bash.

# pgbouncer_cves::start INI_BODY: pgbouncer as the dyno user listening on 127.0.0.1:$PORT, with
# INI_BODY after the [pgbouncer] listen lines and user "app" in its auth_file; its log in
# $BATS_TEST_TMPDIR/pgb.log, its pid (or that of runuser, which lives as long) in PGBOUNCER_PID.
pgbouncer_cves::start() {
  PORT=$("$REPO/test/support/free-port.sh")
  printf '[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = %s\nunix_socket_dir =\nauth_file = %s\n%s\n' \
    "$PORT" "$PGBOUNCER_WORK/cve-users.txt" "$1" >"$PGBOUNCER_WORK/cve.ini"
  printf '"app" "secret"\n' >"$PGBOUNCER_WORK/cve-users.txt"
  chown "$DYNO_USER" "$PGBOUNCER_WORK/cve.ini" "$PGBOUNCER_WORK/cve-users.txt"
  dyno::as_user "${PGBOUNCER_CMD[@]}" "$PGBOUNCER_WORK/cve.ini" 2>"$BATS_TEST_TMPDIR/pgb.log" &
  PGBOUNCER_PID=$!
  for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0; sleep 0.05; done
  fail "pgbouncer did not listen on $PORT: $(cat "$BATS_TEST_TMPDIR/pgb.log")"
}

# pgbouncer_cves::request CASE [SERVER_PORT]: pgbouncer-cves.py's CASE against the running pooler.
pgbouncer_cves::request() {
  run python3 "$REPO/test/support/pgbouncer-cves.py" "$1" 127.0.0.1 "$PORT" app app "${@:2}"
  assert_success
}

# pgbouncer_cves::serving: the pooler lives, and a client is answered at once by a free event loop
# (an empty option name is refused without a server).
pgbouncer_cves::serving() {
  kill -0 "$PGBOUNCER_PID" 2>/dev/null || fail "pgbouncer died: $(cat "$BATS_TEST_TMPDIR/pgb.log")"
  pgbouncer_cves::request empty-option-name
  assert_output --partial "error:"
}

# Client auth as our start script sets it on 127.0.0.1 (SCRAM), with its ignore_startup_parameters.
PGBOUNCER_CVES_CLIENT_AUTH='auth_type = scram-sha-256
ignore_startup_parameters = extra_float_digits
[databases]
app = host=127.0.0.1 port=9'

# CVE-2026-19888: a SCRAM client-final-message without its nonce is refused, twice (unpatched, the
# first killed pgbouncer with SIGSEGV in strlen and the second found nothing).
pgbouncer_cves::cve_2026_19888() {
  pgbouncer_cves::start "$PGBOUNCER_CVES_CLIENT_AUTH"
  for _ in 1 2; do
    pgbouncer_cves::request scram-final-without-nonce
    assert_output --partial "error:"
  done
  pgbouncer_cves::serving
  run cat "$BATS_TEST_TMPDIR/pgb.log"
  assert_output --partial 'attribute "r" expected'
}

# CVE-2026-107349: a startup option with an empty name (-c=) is refused (unpatched, pgbouncer spun
# at full CPU from the first packet on and answered nothing).
pgbouncer_cves::cve_2026_107349() {
  pgbouncer_cves::start "$PGBOUNCER_CVES_CLIENT_AUTH"
  pgbouncer_cves::request empty-option-name
  assert_output --partial "error:"
  pgbouncer_cves::serving
}

# pgbouncer_cves::malicious_server CASE: a client logs in through pgbouncer to a server played by
# pgbouncer-cves.py, which pgbouncer logs in to with a plain-text password (as our start script's
# [databases] entries do). pgbouncer must refuse that login and serve on; the waiting client itself
# hears nothing until pgbouncer's server_login_retry.
pgbouncer_cves::malicious_server() {
  local server
  server=$("$REPO/test/support/free-port.sh")
  pgbouncer_cves::start "auth_type = trust
[databases]
app = host=127.0.0.1 port=$server user=app password=secret"
  pgbouncer_cves::request "$1" "$server"
  # shellcheck disable=SC2154 # output: set by bats' run
  printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/cve-request.out"
  pgbouncer_cves::serving
  run cat "$BATS_TEST_TMPDIR/pgb.log"
  assert_output --partial "new connection to server"
}

# CVE-2026-6669: a server asking for 2^31-1 SCRAM iterations is refused at once (unpatched,
# pgbouncer computed them for minutes and answered no other client).
pgbouncer_cves::cve_2026_6669() {
  pgbouncer_cves::malicious_server server-iterations
  assert_output --partial "over the limit of 1000000"
}

# CVE-2026-6665, the rest (upstream PR #1505): a server nonce that leaves no room for the proof is
# refused (unpatched, the proof was written past the stack buffer and pgbouncer died).
pgbouncer_cves::cve_2026_6665_rest() {
  pgbouncer_cves::malicious_server server-long-nonce
  # Refused before it is sent, not just survived: where the overflow misses the stack canary, the
  # unpatched pgbouncer lives on and sends a message cut short.
  run cat "$BATS_TEST_TMPDIR/cve-request.out"
  assert_output --partial "server got a client-final-message: no"
}
