#!/usr/bin/env bats
# Faults at run time, tried on purpose against a booted web dyno (nginx, start-pgbouncer-stunnel,
# gunicorn, a TLS-only PostgreSQL): a part killed, the dyno stopped under load, the database
# restarted under load, an app that never comes up.
load ../support/helpers

setup_file() {
  load ../support/helpers
  start_platform
  APP_SRC="$REPO/test/fixtures/plain"
  export APP_SRC
}

teardown_file() { stop_platform; }

teardown() {
  [[ -n $(dyno::pids) ]] && dyno::stop
  return 0
}

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# killed_ends_dyno PATTERN: kill -9 of the oldest dyno process matching PATTERN must end the dyno
# non-zero within 1 s (Heroku then restarts it), with nothing of it left running.
killed_ends_dyno() {
  boot_web "$(slug heroku-24)"
  local started status=0 ms
  started=$(now_ms)
  pkill -9 -o -u "$DYNO_USER" -f "$1" || fail "no process matches $1"
  wait "$WEB_PID" || status=$?
  ms=$(($(now_ms) - started))
  echo "# dyno ended $ms ms after kill -9 of $1, status $status" >&3
  ((status != 0)) || fail "the dyno exited 0"
  ((ms <= 1000)) || fail "the dyno took $ms ms to end"
  local left
  for _ in $(seq 20); do
    left=$(dyno::pids)
    [[ -z $left ]] && break
    sleep 0.05
  done
  assert_equal "$left" ""
}

@test "kill -9 of the nginx master: the dyno exits non-zero within 1 s, no orphan" {
  killed_ends_dyno 'nginx: master'
}

@test "kill -9 of the app server (gunicorn master): the dyno exits non-zero within 1 s, no orphan" {
  killed_ends_dyno 'bin/gunicorn'
}

@test "kill -9 of pgbouncer: the dyno exits non-zero within 1 s, no orphan" {
  killed_ends_dyno 'vendor/pgbouncer/bin/pgbouncer'
}

@test "kill -9 of stunnel: the dyno exits non-zero within 1 s, no orphan" {
  killed_ends_dyno 'vendor/stunnel/bin/stunnel'
}

# probe_new_connections FILE: new connections, one every 50 ms for 3 s, each outcome on a line:
# an HTTP code, or "refused" (curl exit 7), or "curl-N" for any other failure.
probe_new_connections() {
  local code rc
  for _ in $(seq 60); do
    rc=0
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/") || rc=$?
    case $rc in 0) echo "$code" ;; 7) echo refused ;; *) echo "curl-$rc" ;; esac
    sleep 0.05
  done >"$1"
}

@test "SIGTERM to every process under load: in-flight requests finish, new connections refused, all gone within 30 s" {
  # Pool samples each second: the sampler is mid-query at the stop as often as not (with it, the
  # bash supervisors of before hung 1 stop in 10 until they stopped trusting bash's wait alone).
  boot_web "$(slug heroku-24)" PGBOUNCER_STATS_PERIOD=1
  local work=$BATS_TEST_TMPDIR
  wrk -t2 -c8 -d8s --timeout 10s "http://127.0.0.1:$PORT/" >"$work/wrk.out" 2>&1 &
  local wrk_pid=$!
  curl -s -o "$work/slow.body" -w '%{http_code}' "http://127.0.0.1:$PORT/slow" >"$work/slow.code" &
  local slow_pid=$!
  sleep 1
  local started=$SECONDS
  pkill -TERM -u "$DYNO_USER" || true
  probe_new_connections "$work/probe" &
  local probe_pid=$!
  wait "$WEB_PID" || true
  wait "$slow_pid" "$probe_pid" "$wrk_pid" || true
  echo "# after SIGTERM, new connections: $(sort "$work/probe" | uniq -c | xargs)" >&3
  echo "# wrk: $(grep -E 'requests in|Non-2xx|Socket errors' "$work/wrk.out" | xargs)" >&3
  assert_equal "$(cat "$work/slow.code") $(cat "$work/slow.body")" "200 db-ok"
  # A new connection is served (nginx had not closed its listener yet) or refused: never an error
  # page, a reset or a hang.
  assert_equal "$(grep -cvE '^(200|refused)$' "$work/probe")" 0
  grep -q refused "$work/probe" || fail "nginx still accepted connections 3 s after the SIGTERM"
  # Nothing under load hung: wrk saw no timeouts.
  run cat "$work/wrk.out"
  refute_output --regexp 'timeout [1-9]'
  ((SECONDS - started < 30)) || fail "shutdown took $((SECONDS - started)) s"
  assert_equal "$(dyno::pids)" ""
  # Each part ended on its own: nginx, pgbouncer, stunnel, gunicorn and the sampler with 0; none by
  # the stop timer's SIGKILL or a crash.
  run grep -E ' stopped \(status [0-9]+\)$| killed: ' "$WEB_LOG"
  echo "# $(echo "$output" | xargs)" >&3
  for role in nginx pgbouncer stunnel; do assert_line --partial "$role stopped (status 0)"; done
  assert_line --regexp '^start-nginx: app stopped \(status 0\)$'
  refute_output --partial " killed: "
  run bash -c "grep -E ' stopped \(status [0-9]+\)$' '$WEB_LOG' | grep -vE '\(status (0|143)\)$' || true"
  assert_output ""
}

@test "PostgreSQL restarted under load: the pool reconnects within 2 s of its return, nothing hangs, no dyno restart" {
  boot_web "$(slug heroku-24)"
  local work=$BATS_TEST_TMPDIR code=""
  wrk -t2 -c8 -d8s --timeout 10s "http://127.0.0.1:$PORT/db" >"$work/wrk.out" 2>&1 &
  local wrk_pid=$!
  sleep 2
  "$REPO/test/support/pg.sh" stop "$PG_DIR"
  sleep 2
  "$REPO/test/support/pg.sh" start "$PG_DIR" "$PG_PORT" >/dev/null
  local back ms
  back=$(now_ms)
  for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$PORT/db") || true
    [[ $code == 200 ]] && break
    sleep 0.05
  done
  ms=$(($(now_ms) - back))
  wait "$wrk_pid" || true
  echo "# /db answering again $ms ms after the database was back; wrk: $(grep -E 'requests in|Non-2xx|Socket errors' "$work/wrk.out" | xargs)" >&3
  assert_equal "$code" 200
  ((ms <= 2000)) || fail "the pool took $ms ms to reconnect"
  kill -0 "$WEB_PID" || fail "the dyno restarted"
  run cat "$work/wrk.out"
  refute_output --regexp 'timeout [1-9]'
}

@test "an app that never creates its socket: a clear message before Heroku's boot timeout, non-zero exit" {
  local s
  s=$(slug heroku-24)
  run dyno::as_user env -i PATH=/usr/bin:/bin HOME="$s" PORT=5999 DATABASE_URL="$DATABASE_URL" NGINX_APP_BOOT_TIMEOUT=2 \
    bash -c "cd '$s' && exec bin/start-nginx bin/start-pgbouncer-stunnel sleep 60"
  assert_failure
  assert_output --partial "the app did not create /tmp/nginx.socket (or /tmp/app-initialized) within 2 s"
  assert_equal "$(dyno::pids)" ""
}
