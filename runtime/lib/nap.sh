# shellcheck shell=bash
# nap SECONDS: waits without a child process. A `sleep` child outlives a script stopped in the
# middle of it: orphaned, then killed with the script's process group, it is left for PID 1 to
# reap, and a dyno's PID 1 need not (it showed as `[sleep] <defunct>` after a stop). Reading a pipe
# this shell holds both ends of times out instead, and a trapped signal still interrupts it.
# Sourced by the samplers and by the supervisor's ticker (never by a start script itself: its children
# would inherit the pipe).
# The process substitution that makes the pipe is reaped here: left to bash, it can linger as a
# zombie for a second, long enough to be orphaned the same way.
exec {NAP_FD}<> <(:)
wait $! 2>/dev/null || true
nap() { read -r -t "$1" -u "$NAP_FD" _ || true; }
