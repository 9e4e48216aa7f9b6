#!/usr/bin/env bats
# Hatchet-style: the reference article's Django set-up, for gunicorn, uWSGI and waitress, compiled
# like a Heroku build, moved, and booted as a dyno against a TLS-only PostgreSQL.
load ../support/helpers

setup_file() {
  load ../support/helpers
  start_platform
}

teardown_file() { stop_platform; }

teardown() {
  [[ -n $(dyno::pids) ]] && dyno::stop
  return 0
}

wait_for_log() { # wait_for_log TEXT: until the dyno's log shows TEXT (10 s)
  for _ in $(seq 100); do grep -q "$1" "$DYNO_LOG" && return 0; sleep 0.1; done
  return 1
}

boot() { # boot SERVER STACK: the web process, answering
  local slug
  slug=$(django_slug "$1" "$2")
  dyno::clear_tmp
  start_dyno "$slug" "$(procfile "$slug" web)"
  dyno::wait_http /
}

json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

exercise_web() { # exercise_web SERVER STACK
  boot "$1" "$2"
  # The app's connection: TLS to the server, through the pooler's private socket.
  local body
  body=$(curl -fsS "http://127.0.0.1:$PORT/db")
  assert_equal "$(json_field tls <<<"$body")" "True"
  [[ $(json_field via <<<"$body") =~ ^/db1\?host=/tmp/pgbouncer\.[A-Za-z0-9]+\&port=6000$ ]] || fail "DATABASE_URL not rewritten: $body"
  [[ $(json_field connected_to <<<"$body") == /tmp/pgbouncer.* ]] || fail "Django did not connect to the socket: $body"
  # CONN_MAX_AGE=0: a new client connection per request, but the pool keeps the server ones.
  local backends
  backends=$(for _ in $(seq 20); do curl -fsS "http://127.0.0.1:$PORT/db" | json_field backend; done | sort -u | wc -l)
  ((backends <= 2)) || fail "20 requests used $backends server connections"
  # 60 concurrent slow requests all succeed.
  local ok
  ok=$(seq 60 | xargs -P 60 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 60 "http://127.0.0.1:$PORT/slow?s=0.3" | grep -c '^200$')
  assert_equal "$ok" 60
  # A multi-megabyte upload passes nginx.
  head -c 5000000 /dev/urandom >"$TEST_WORK/upload.bin"
  assert_equal "$(curl -fsS --data-binary @"$TEST_WORK/upload.bin" "http://127.0.0.1:$PORT/upload")" 5000000
  # SIGTERM to every process: clean and complete well within 30 s.
  local started=$SECONDS
  dyno::stop
  ((SECONDS - started < 30)) || { grep -E "stopp|still running|SIG|exit" "$DYNO_LOG" | tail -40 >&3; fail "shutdown took $((SECONDS - started)) s"; }
  assert_equal "$(dyno::pids)" ""
}

@test "gunicorn on heroku-24: TLS through the pooler, a real pool, 60 concurrent, upload, clean stop" {
  exercise_web gunicorn heroku-24
}

@test "uWSGI on heroku-24: TLS through the pooler, a real pool, 60 concurrent, upload, clean stop" {
  exercise_web uwsgi heroku-24
}

@test "waitress on heroku-24: TLS through the pooler, a real pool, 60 concurrent, upload, clean stop" {
  exercise_web waitress heroku-24
}

@test "gunicorn on cedar-14: TLS through the pooler, a real pool, 60 concurrent, upload, clean stop" {
  exercise_web gunicorn cedar-14
}

@test "uWSGI on cedar-14: TLS through the pooler, a real pool, 60 concurrent, upload, clean stop" {
  exercise_web uwsgi cedar-14
}

@test "waitress on cedar-14: TLS through the pooler, a real pool, 60 concurrent, upload, clean stop" {
  exercise_web waitress cedar-14
}

@test "daphne (Django Channels): a WebSocket through start-nginx's default config outlives the request read timeout" {
  local slug
  slug=$(django_slug daphne heroku-24)
  dyno::clear_tmp
  # A read timeout of 1 s for requests; the WebSocket then idles 3 s between its two messages.
  start_dyno "$slug" "$(procfile "$slug" web)" NGINX_PROXY_READ_TIMEOUT=1
  dyno::wait_http /
  run dyno::as_user /usr/bin/python3 "$REPO/test/support/websocket-echo.py" "ws://127.0.0.1:$PORT/ws/echo" 3
  assert_success
  assert_output "one two"
  run curl -fsS "http://127.0.0.1:$PORT/db"
  assert_success
  dyno::stop
  assert_equal "$(dyno::pids)" ""
}

@test "kill -9 of the app server ends the dyno non-zero, for each server" {
  local server pattern status
  for server in gunicorn uwsgi waitress; do
    case $server in gunicorn) pattern='gunicorn' ;; uwsgi) pattern='uwsgi' ;; waitress) pattern='python run.py' ;; esac
    boot "$server" heroku-24
    pkill -9 -o -u "$DYNO_USER" -f "$pattern" || fail "no $server process"
    status=0
    wait "$DYNO_PID" || status=$?
    ((status != 0)) || fail "$server: exited 0"
    dyno::stop
  done
}

@test "gunicorn: requests in flight at the SIGTERM, which then query the database, all get their 200" {
  boot gunicorn heroku-24
  # As many as gunicorn has workers (4), and the stop once all four have reached the app: a request
  # still queued in the socket's backlog when the app stops accepting has not, and no app server
  # can answer it.
  local marks="$TEST_WORK/inflight" i
  mkdir -p "$marks" && chown "$DYNO_USER" "$marks"
  for i in $(seq 4); do
    curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$PORT/slow?s=2&mark=$marks/$i" >>"$TEST_WORK/inflight.codes" &
  done
  all_in_app() { [[ -e $marks/1 && -e $marks/2 && -e $marks/3 && -e $marks/4 ]]; }
  for _ in $(seq 200); do all_in_app && break; sleep 0.05; done
  all_in_app || fail "the 4 requests did not all reach the app in 10 s"
  dyno::stop
  wait
  assert_equal "$(grep -c '^200$' "$TEST_WORK/inflight.codes")" 4
}

@test "the qcluster worker runs a task through its own pooler" {
  local slug
  slug=$(django_slug gunicorn heroku-24)
  dyno::clear_tmp
  start_dyno "$slug" "$(procfile "$slug" worker)" PGBOUNCER_LOG_CONNECTIONS=1
  wait_for_log "login attempt: db=db1" || true
  # Enqueue from a one-off dyno; the worker (its own start-pgbouncer-stunnel) picks it up. Dynos
  # share this machine's loopback here, unlike on Heroku: the one-off's pooler takes another port.
  run dyno::as_user env -i PATH="$TEST_WORK/pybin:/usr/bin:/bin" HOME="$slug" DATABASE_URL="$DATABASE_URL" PGBOUNCER_LISTEN_PORT=6001 bash -c "cd '$slug' && bin/start-pgbouncer python manage.py shell -c '
from django_q.tasks import async_task, result
import time
task = async_task(\"math.floor\", 41.5)
for _ in range(100):
    r = result(task)
    if r is not None:
        print(\"result\", r)
        break
    time.sleep(0.2)
'"
  assert_success
  # pgbouncer logs to the same stderr: a log line may end up in front of ours, never after it.
  assert_line --regexp 'result 41$' || { cat "$DYNO_LOG" >&3; false; }
  run cat "$DYNO_LOG"
  # The worker's own pgbouncer and stunnel carried its queries.
  assert_output --partial "login attempt: db=db1"
  assert_output --partial "Service [db1] accepted connection"
  assert_output --partial "Processed ["
  dyno::stop
}

@test "DATABASE_DIRECT_URL is the database itself: Django's migrate runs through it beside the pooled URL" {
  local slug out="$TEST_WORK/direct.out"
  slug=$(django_slug gunicorn heroku-24)
  dyno::clear_tmp
  : >"$out" && chown "$DYNO_USER" "$out"
  # As a Procfile line would. The lines go to a file: pgbouncer logs to the same stderr.
  run dyno::as_user env -i PATH="$TEST_WORK/pybin:/usr/bin:/bin" HOME="$slug" DATABASE_URL="$DATABASE_URL" OUT="$out" bash -c "cd '$slug' && bin/start-pgbouncer-stunnel sh -c '
DATABASE_URL=\$DATABASE_DIRECT_URL python manage.py migrate --noinput >>\$OUT &&
DATABASE_URL=\$DATABASE_DIRECT_URL python manage.py shell -c \"from django.db import connection; connection.ensure_connection(); print(\\\"direct\\\", connection.connection.info.host)\" >>\$OUT &&
python manage.py shell -c \"from django.db import connection; connection.ensure_connection(); print(\\\"pooled\\\", connection.connection.info.host)\" >>\$OUT'"
  assert_success
  run cat "$out"
  assert_line --regexp '^  (Apply|No migrations to apply)'
  assert_line "direct $(python3 -c 'import sys, urllib.parse; print(urllib.parse.urlsplit(sys.argv[1]).hostname)' "$DATABASE_URL")"
  assert_line --regexp '^pooled /tmp/pgbouncer\.'
}

@test "PostgreSQL restarted while the dyno runs: the pool reconnects, no dyno restart" {
  boot gunicorn heroku-24
  local before after ok=0
  before=$(curl -fsS "http://127.0.0.1:$PORT/db" | json_field backend)
  "$REPO/test/support/pg.sh" stop "$PG_DIR"
  "$REPO/test/support/pg.sh" start "$PG_DIR" "$PG_PORT" >/dev/null
  for _ in $(seq 100); do
    if after=$(curl -fsS "http://127.0.0.1:$PORT/db" 2>/dev/null | json_field backend); then ok=1; break; fi
    sleep 0.1
  done
  ((ok)) || fail "the app did not recover"
  [[ $after != "$before" ]] || fail "still the old backend $before"
  kill -0 "$DYNO_PID" || fail "the dyno restarted"
  dyno::stop
}
