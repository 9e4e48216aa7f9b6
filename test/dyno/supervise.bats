#!/usr/bin/env bats
# The dyno's supervisor (builds/supervisor, the nginx artifact's libexec/supervise), alone, with
# plans written as the start scripts write them (dyno/lib/plan.sh): the rules a maintainer must
# keep, each held here.
load ../support/helpers

setup_file() {
  artifact::supervise "$BATS_FILE_TMPDIR/nginx/libexec/supervise"
}

setup() {
  SUPERVISE="$BATS_FILE_TMPDIR/nginx/libexec/supervise"
  PLAN="$BATS_TEST_TMPDIR/plan"
  W="$BATS_TEST_TMPDIR"
  plan voice test deadline 2
}

teardown() {
  # Only this test's processes: everything started under its tmp dir.
  pkill -KILL -f -- "$BATS_TEST_TMPDIR" 2>/dev/null || true
}

plan() { printf '%s\0' "$@" >>"$PLAN"; }

# supervise COMMAND...: the supervisor on PLAN, its exit status in $status and its lines in $output.
supervise() { run "$SUPERVISE" "$PLAN" -- "$@"; }

# sigterm_soon: SIGTERM to the supervisor that supervise is about to start, half a second from
# now, or as soon as it runs (a loaded machine may start it later), for up to 5 s more.
sigterm_soon() {
  (
    sleep 0.5
    for _ in $(seq 1 50); do pkill -TERM -f -- "$SUPERVISE $PLAN" && break; sleep 0.1; done
  ) &
}

# A pooler that stays through SIGTERM, as ours do, and leaves on SIGINT, saying when.
POOLER="trap '' TERM; trap 'echo pooler-int >>$BATS_TEST_TMPDIR/order; exit 0' INT; while :; do sleep 0.05; done"

@test "exit status: a worker's app gives its own; a web app ending at all is a failure, never 0" {
  plan child app test main
  supervise sh -c 'exit 3'
  assert_failure 3
  assert_line "test: app exited (status 3): stopping (up to 2 s)"
  assert_line "test: stopped (exit status 3)"
  plan voice test child app test main
  supervise true
  assert_success
  plan voice test main-end-fails 1 child app test main
  supervise true
  assert_failure 1
  assert_line "test: app exited on its own (status 0): stopping (up to 25 s)"
}

@test "exit status: any other child ending on its own fails the dyno, with its status or 1" {
  plan child pooler test before argv 3 sh -c 'sleep 0.2; exit 0' child app test main stop TERM
  supervise sleep 30
  assert_failure 1
  assert_line "test: pooler exited on its own (status 0): stopping (up to 2 s)"
  assert_line "test: app stopped (status 143)"
}

@test "exit status: a child that crashes during the stop makes it non-zero, though the app ended well" {
  plan child pooler test before after app INT argv 3 sh -c "trap 'kill -SEGV \$\$' INT; while :; do sleep 0.05; done" \
    child app test main stop TERM
  sigterm_soon
  supervise sh -c 'trap "exit 0" TERM; while :; do sleep 0.05; done'
  assert_failure 139
  assert_line "test: app stopped (status 0)"
  assert_line "test: pooler stopped (status 139)"
}

@test "no status is lost: 15 children ending at the same moment are each reported with their own" {
  local i
  # The app ends with them, as a web app whose end fails the dyno, so whichever is reaped first
  # fails it.
  plan main-end-fails 1
  for i in $(seq 1 15); do plan child "c$i" test before argv 3 sh -c "sleep 0.3; exit $i"; done
  plan child app test main
  supervise sleep 0.3
  assert_failure
  # Every child is reported with its own status, none as 0.
  for i in $(seq 1 15); do assert_line --regexp "^test: c$i (exited on its own|stopped) \\(status $i\\)"; done
  refute_line --regexp '^test: c[0-9]+ .*\(status 0\)$'
}

@test "the stop order: SIGTERM stops nginx and the app; the pooler goes after the app, stunnel after pgbouncer" {
  plan child stunnel test before after pgbouncer INT argv 3 sh -c "${POOLER//pooler/stunnel}" \
    child pgbouncer test before after app INT argv 3 sh -c "${POOLER//pooler/pgbouncer}" \
    child app test main stop TERM \
    child nginx test after stop TERM after app TERM argv 3 sh -c "trap 'echo nginx-term >>$W/order; exit 0' TERM; while :; do sleep 0.05; done"
  sigterm_soon
  supervise sh -c "trap 'sleep 0.3; echo app-done >>$W/order; exit 0' TERM; while :; do sleep 0.05; done"
  assert_success
  run cat "$W/order"
  assert_output $'nginx-term\napp-done\npgbouncer-int\nstunnel-int'
}

@test "one deadline: what still runs NGINX_PGBOUNCER_STOP_TIMEOUT s after the stop began is killed, said plainly" {
  plan child pooler test before after app INT argv 3 sh -c "trap '' TERM INT; while :; do sleep 0.05; done" child app test main stop TERM
  sigterm_soon
  local started=$SECONDS
  supervise sh -c 'trap "" TERM; while :; do sleep 0.05; done'
  assert_failure 137
  assert_line "test: got SIGTERM: stopping (up to 2 s)"
  assert_line "test: app killed: still running 2 s after it was asked to stop (status 137)"
  assert_line "test: pooler killed: still running 2 s after it was asked to stop (status 137)"
  ((SECONDS - started <= 4)) || fail "took $((SECONDS - started)) s"
}

@test "the stop signal reaches the app's whole process group, as Heroku's reaches every process" {
  # The app's own process ignores SIGTERM and waits for its worker, which does not.
  plan deadline 20 child app test main stop TERM
  sigterm_soon
  local started=$SECONDS
  supervise python3 -c "import os, signal, time
pid = os.fork()
if pid == 0:
    time.sleep(60); os._exit(0)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
os.waitpid(pid, 0)
print('worker-gone')"
  assert_success
  assert_line worker-gone
  ((SECONDS - started < 5)) || fail "took $((SECONDS - started)) s"
}

@test "the stop signal is sent once more a second later: a process that missed the first (a worker still booting) stops" {
  # A worker whose first SIGTERM only arms its handler, as a gunicorn worker booting at that
  # moment does; its master ignores SIGTERM and waits for it.
  plan deadline 20 child app test main stop TERM
  sigterm_soon
  local started=$SECONDS
  supervise python3 -c "import os, signal, time
def second(*_):
    print('second-term', flush=True); os._exit(0)
pid = os.fork()
if pid == 0:
    signal.signal(signal.SIGTERM, lambda *_: signal.signal(signal.SIGTERM, second))
    while True: time.sleep(0.05)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
os.waitpid(pid, 0)"
  assert_success
  assert_line second-term
  ((SECONDS - started < 5)) || fail "took $((SECONDS - started)) s"
}

@test "…but not to a process that no longer catches it: a worker already on its way out (Python's finalization) exits 0" {
  # A gunicorn worker: its handler sets a flag, then Python's exit puts SIGTERM back to its
  # default while it finishes. Its master reports how the worker ended.
  plan deadline 20 child app test main stop TERM
  sigterm_soon
  supervise python3 -c "import os, signal, sys, time
pid = os.fork()
if pid == 0:
    asked = []
    signal.signal(signal.SIGTERM, lambda *_: asked.append(1))
    while not asked: time.sleep(0.01)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    time.sleep(2)
    os._exit(0)
signal.signal(signal.SIGTERM, lambda *_: None)
_, w = os.waitpid(pid, 0)
print('worker ended by signal %d' % os.WTERMSIG(w) if os.WIFSIGNALED(w) else 'worker exited %d' % os.WEXITSTATUS(w))
sys.exit(os.waitstatus_to_exitcode(w))"
  assert_success
  assert_line "worker exited 0"
}

@test "readiness: the app starts once the pooler's socket exists, nginx once the app's does" {
  local sock="$W/pool.sock" app_sock="$W/app.sock"
  plan child pooler test before after app INT ready-socket "$sock" ready-wait 5 "the pooler listened" "pooler did not start" \
    ready-say "pooler ready" argv 3 python3 -c "import socket, time; time.sleep(0.3); s = socket.socket(socket.AF_UNIX); s.bind('$sock'); time.sleep(30)" \
    child app test main stop TERM ready-socket "$app_sock" ready-wait 5 "the app's socket" "app not ready" \
    child nginx test after stop TERM ready-say "nginx ready" argv 3 sh -c "ls $app_sock >/dev/null && echo nginx-saw-the-app; exit 0"
  supervise python3 -c "import os, socket, time; assert os.path.exists('$sock'); time.sleep(0.2); s = socket.socket(socket.AF_UNIX); s.bind('$app_sock'); time.sleep(30)"
  assert_failure
  assert_line --index 0 "test: pooler ready"
  assert_line --index 1 "test: nginx ready"
  assert_line "nginx-saw-the-app"
}

@test "readiness: a child that is not ready in time, or exits before it is, stops the dyno, saying which" {
  # As the real pooler: deaf to SIGTERM, stopped only once the app is gone; here the app never
  # started, and it is stopped all the same, at once, not at the deadline.
  plan child pooler test before after app INT ready-socket "$W/never" ready-wait 1 "the pooler listened" "pooler did not start" \
    argv 3 sh -c "$POOLER" child app test main
  local started=$SECONDS
  supervise true
  assert_failure 1
  assert_line "test: gave up waiting for the pooler listened after 1 s"
  assert_line "test: pooler did not start: stopping (up to 2 s)"
  assert_line "test: pooler stopped (status 0)"
  refute_output --partial "app"
  ((SECONDS - started < 2)) || fail "took $((SECONDS - started)) s"
  plan voice test child pooler test before ready-socket "$W/never" ready-wait 5 "the pooler listened" "pooler did not start" argv 3 sh -c 'exit 1' child app test main
  supervise true
  assert_failure 1
  assert_line "test: exited before the pooler listened"
  assert_line "test: pooler did not start: stopping (up to 25 s)"
}

@test "a check (once) that passes is no failure; with ready-wait the app waits for it, and a failed one stops the boot" {
  plan child check test before once argv 3 sh -c 'sleep 0.2; echo checked' child app test main
  supervise sh -c 'echo app-ran; exit 0'
  assert_success
  assert_line checked
  refute_output --regexp 'check (exited|stopped)'
  plan voice test child check test before once ready-wait 5 "the check passed" "the check failed" argv 3 sh -c "sleep 0.3; touch $W/checked" \
    child app test main
  supervise sh -c "test -e $W/checked && echo app-after-the-check"
  assert_success
  assert_line app-after-the-check
  plan voice test child check test before once ready-wait 5 "the check passed" "the check failed" argv 3 sh -c 'exit 1' child app test main
  supervise sh -c 'echo app-ran'
  assert_failure 1
  assert_line "test: the check failed: stopping (up to 25 s)"
  refute_line app-ran
}

@test "a check that passes while the app has not started yet ends nothing: the pooler waiting for the app stays" {
  plan child pooler test before after app INT argv 3 sh -c "$POOLER" \
    child check test before once ready-wait 5 "the check" "the check failed" argv 3 sh -c 'exit 0' child app test main
  supervise sh -c 'sleep 0.3; echo app-ran'
  assert_success
  assert_line app-ran
  refute_output --partial "exited on its own"
}

@test "an app on the port nginx must take is named at once, with the fix" {
  local port
  port=$("$REPO/test/support/free-port.sh")
  plan child app test main stop TERM ready-socket "$W/never" ready-wait 30 "the app's socket" "app not ready" \
    forbid-port "$port" "app on port $port" forbid-say "error: the app is listening on port $port itself" forbid-say "bind it elsewhere"
  local started=$SECONDS
  supervise python3 -c "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', $port)); s.listen(); time.sleep(30)"
  assert_failure 1
  assert_line "test: error: the app is listening on port $port itself"
  assert_line "test: bind it elsewhere"
  assert_line "test: app on port $port: stopping (up to 2 s)"
  ((SECONDS - started < 3)) || fail "took $((SECONDS - started)) s"
}

@test "nothing left behind: a child's orphans are killed with it, and reaped, zombies included" {
  # A program of a name of its own, so that a zombie of it is known by its name (ps shows no args).
  cp "$(command -v sleep)" "$W/lingerer"
  plan child app test main stop TERM
  supervise sh -c "'$W/lingerer' 3601 & '$W/lingerer' 3602 & (setsid '$W/lingerer' 3603 &); exit 0"
  assert_success
  sleep 0.2
  run ps -eo stat=,comm=
  refute_output --partial lingerer
}

@test "the app's environment and files: no plan, no fd of the scripts; the lock held until the pooler is ready" {
  plan child pooler test before stop TERM hold-fd 7 ready-file "$W/ready" 0 \
    argv 3 sh -c "flock -n $W/lock true || echo pooler-saw-the-lock-held >$W/pooler-lock; ls /proc/\$\$/fd >$W/pooler-fds; touch $W/ready; sleep 30" \
    child app test main
  # As pgbouncer.sh hands it over: the lock taken, its fd (and another) open across the exec.
  run env _NGINX_PGBOUNCER_PLAN=x bash -c "exec 7>'$W/lock' 8>'$W/other'; flock 7; exec '$SUPERVISE' '$PLAN' -- sh -c \"echo plan=\\\${_NGINX_PGBOUNCER_PLAN-unset}; ls /proc/\\\$\\\$/fd >$W/app-fds; flock -n $W/lock true && echo lock-free\""
  assert_line "plan=unset"
  assert_line "lock-free"
  run cat "$W/pooler-lock"
  assert_output pooler-saw-the-lock-held
  run cat "$W/app-fds" "$W/pooler-fds"
  refute_line 7
  refute_line 8
}

@test "a relayed child's output reaches the dyno's stdout and stderr, all of it, after the child is gone" {
  plan child nginx test before relay argv 3 sh -c 'seq 1 20000; echo to-stderr >&2; exit 0' child app test main stop TERM
  supervise sleep 30
  # grep, not assert_line: bats-assert walks 20000 lines in bash for a minute and more.
  [[ $(grep -cxE '[0-9]+' <<<"$output") == 20000 ]] || fail "$(grep -cxE '[0-9]+' <<<"$output") of 20000 lines relayed"
  grep -qx 20000 <<<"$output" || fail "the last line is missing"
  grep -qx to-stderr <<<"$output" || fail "stderr was not relayed"
}

@test "on a one-off dyno's terminal the app owns it: Ctrl-C is the app's, and the pooler stops after it, quietly" {
  # The app starts once the pooler's traps are set (its ready file), as pgbouncer's socket gates it
  # on a dyno: the app's Ctrl-C reaches the whole group at once.
  plan child pooler test before after app INT ready-file "$W/pooler-ready" 0 \
    argv 3 sh -c "${POOLER/; while/; touch $W/pooler-ready; while}" child app test main stop TERM
  run script -qec "$SUPERVISE $PLAN -- sh -c 'test -t 0 && echo has-tty; trap \"echo app-got-int; exit 5\" INT; kill -INT 0; sleep 5'" /dev/null
  assert_output --partial has-tty
  assert_output --partial app-got-int
  refute_output --partial "stopping"
  run cat "$W/order"
  assert_output pooler-int
}

@test "NGINX_PGBOUNCER_STOP_TIMEOUT is checked with the other settings, before anything starts, and is the plan's deadline" {
  local script="set -euo pipefail; _SCRIPT_NAME=test _BINARIES_DIR=/nonexistent; . '$REPO/dyno/lib/common.sh'; settings::read"
  NGINX_PGBOUNCER_STOP_TIMEOUT=soon run bash -c "$script"
  assert_failure
  assert_output --partial "NGINX_PGBOUNCER_STOP_TIMEOUT must be a whole number from 1 to 3600 (it is 'soon')"
  NGINX_PGBOUNCER_STOP_TIMEOUT=7 run bash -c "$script; unset _NGINX_PGBOUNCER_PLAN; plan::begin '$W'; tr '\\0' ' ' <'$W/plan'"
  assert_success
  assert_output "voice test deadline 7 cleanup $W "
}

@test "a start script hands over to the next one only when it is ours: an anchor's bin/start-pgbouncer kept in the app is the app" {
  mkdir -p "$W/bin"
  printf '#!/usr/bin/env bash\n%s\n' "# One of heroku-buildpack-nginx-pgbouncer's start scripts: see dyno/lib/plan.sh." >"$W/bin/start-ours"
  printf '#!/usr/bin/env bash\n# heroku-buildpack-pgbouncer\n' >"$W/bin/start-pgbouncer"
  chmod +x "$W"/bin/*
  run bash -c "_SCRIPT_NAME=test _BINARIES_DIR=/nonexistent; . '$REPO/dyno/lib/common.sh'; cd '$W'
    plan::is_start_script bin/start-ours && echo ours; plan::is_start_script bin/start-pgbouncer || echo not-ours
    plan::is_start_script gunicorn || echo not-a-script; plan::is_start_script '$REPO/dyno/bin/start-nginx-debug' && echo debug-ours"
  assert_output $'ours\nnot-ours\nnot-a-script\ndebug-ours'
}
