#!/usr/bin/env bats
# The start scripts' supervision (runtime/lib/supervise.sh), alone: no binaries, no dyno.
load ../support/helpers

# in_script CODE: CODE in a bash of its own, as the start scripts run (set -euo pipefail), with
# the runtime libraries loaded and the settings read.
in_script() {
  bash -c "set -euo pipefail; SCRIPT_NAME=test VENDOR_DIR=/nonexistent; . '$REPO/runtime/lib/common.sh'; settings::read; $1"
}

@test "asking a child that has already exited to stop is not an error: the dyno's SIGTERM often gets there first" {
  run in_script 'spawn app true; sleep 0.3; signal_role TERM app; on_shutdown; echo still-supervising'
  assert_success
  assert_output "still-supervising"
}

@test "NGINX_PGBOUNCER_STOP_TIMEOUT is checked with the other settings, before anything starts" {
  NGINX_PGBOUNCER_STOP_TIMEOUT=soon run in_script 'echo read'
  assert_failure
  assert_output --partial "NGINX_PGBOUNCER_STOP_TIMEOUT must be a whole number from 1 to 3600 (it is 'soon')"
}

@test "a child that ignores SIGTERM is killed at NGINX_PGBOUNCER_STOP_TIMEOUT, and the log says so plainly" {
  NGINX_PGBOUNCER_STOP_TIMEOUT=1 run in_script "spawn app bash -c 'trap \"\" TERM; sleep 30'; (sleep 0.3; kill -TERM \$\$) & supervise app 0"
  assert_failure 137
  assert_output "test: got SIGTERM: stopping (up to 1 s)
test: app killed: still running 1 s after it was asked to stop (status 137)
test: stopped (exit status 137)"
}
