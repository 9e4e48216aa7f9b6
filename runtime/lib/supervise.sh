# shellcheck shell=bash
# Supervision of a start script's children. Sourced by common.sh.
#
# Children are registered with their role. The first one that exits on its own (not during a
# shutdown) ends the whole group: the platform sees a non-zero exit and restarts the dyno.
# A SIGTERM or SIGINT starts a shutdown: the children are asked to stop (on_shutdown), nothing is
# treated as a crash any more, and whatever is left after NGINX_PGBOUNCER_STOP_TIMEOUT seconds
# (25 by default: Heroku's SIGKILL comes at 30) is killed.
#
# bash's own `wait` is not trusted to see every end: when several children end together (the
# dyno's SIGTERM reaches them all), bash 5.2 was seen to drop one's status, so that `wait -n`
# never reports it and `wait PID` blocks for good (1 stop in 10 under load with the pool sampler
# on: the script silent until the script above killed it). So a ticker child wakes the script
# once a second with SIGUSR1, which interrupts either wait: a child that is gone is then found by
# `kill -0`, and one whose status bash lost is recorded as such. Nothing is forked in a trap.
# Children that would end at once on the dyno's SIGTERM (the samplers, tail) ignore it and are
# stopped later, once what they watch is gone, with SIGHUP (not SIGINT: bash starts background
# children with SIGINT ignored, and a script cannot trap a signal ignored at its start).

declare -A CHILD_ROLE=() CHILD_STATUS=() CHILD_KILLED=() CHILD_LOST=()
SHUTTING_DOWN=0
BOOT_FAILED=0 # set when a start script gives up before everything was up
STOP_DEADLINE="" # in $SECONDS, once a shutdown began
TICKER="" TICKED=0

register_child() { CHILD_ROLE[$1]=$2; } # register_child PID ROLE

# spawn ROLE CMD...: starts CMD in the background as a supervised child, in a session and process
# group of its own: a Ctrl-C on a one-off dyno's terminal then reaches only the foreground command,
# and when a child dies, what it leaves behind (nginx workers of a killed master) can be found.
spawn() {
  local role=$1
  shift
  setsid "$@" {SAY_FD}>&- &
  register_child $! "$role"
}

# kill_tree SIGNAL PID: PID and everything below it (a child may be a start script of its own).
kill_tree() {
  local sig=$1 pid=$2 child
  for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do kill_tree "$sig" "$child"; done
  kill "-$sig" "$pid" 2>/dev/null || true
}

# live_children: LIVE, the children not yet reaped (an array: nothing forked while reaping; read as
# ${LIVE[@]+"${LIVE[@]}"}, as bash 4.3, cedar-14's, calls an empty array unset).
LIVE=()
live_children() {
  local pid
  LIVE=()
  for pid in "${!CHILD_ROLE[@]}"; do [[ -n ${CHILD_STATUS[$pid]:-} ]] || LIVE+=("$pid"); done
}

signal_role() { # signal_role SIGNAL ROLE: to each live child with that role
  local sig=$1 role=$2 pid
  live_children
  for pid in ${LIVE[@]+"${LIVE[@]}"}; do
    # A child may be gone already (the dyno's SIGTERM reaches it too): not an error under set -e.
    if [[ ${CHILD_ROLE[$pid]} == "$role" ]]; then kill "-$sig" "$pid" 2>/dev/null || true; fi
  done
  return 0
}

# How deep this script is among start scripts (start-nginx running start-pgbouncer-stunnel: 2).
# A nested script stops 2 s sooner than the one above it: an app server that hangs at the stop
# (gunicorn can, when the dyno's SIGTERM reaches its master and workers at once) is then killed,
# and said to be, by the script that runs it, before the script above kills that script.
export NGINX_PGBOUNCER_DEPTH=$((${NGINX_PGBOUNCER_DEPTH:-0} + 1))
STOP_AFTER=""

begin_shutdown() { # begin_shutdown REASON
  ((SHUTTING_DOWN)) && return 0
  SHUTTING_DOWN=1
  STOP_AFTER=$((SETTING[NGINX_PGBOUNCER_STOP_TIMEOUT] - 2 * (NGINX_PGBOUNCER_DEPTH - 1)))
  ((STOP_AFTER >= 1)) || STOP_AFTER=1
  say "$1: stopping (up to $STOP_AFTER s)"
  on_shutdown
  STOP_DEADLINE=$((SECONDS + STOP_AFTER))
}

# give_up REASON MAIN_ROLE MAIN_END_FAILS: boot failed; stop what was started and exit non-zero.
give_up() {
  BOOT_FAILED=1
  begin_shutdown "$1"
  supervise "$2" "$3"
}

# Default hook: ask every child to stop. Scripts override it to stop children in order.
on_shutdown() {
  local pid
  live_children
  for pid in ${LIVE[@]+"${LIVE[@]}"}; do kill -TERM "$pid" 2>/dev/null || true; done
  return 0
}

# Called with the role of each child that exits; scripts override it to stop the next one in
# order (the pooler once the app is gone).
on_child_exit() { :; }

# reap: waits for the next child to exit, records its status and sets LAST_EXITED (empty when a
# signal or the stop timer woke us instead). Returns 1 when no child is left.
LAST_EXITED=""
reap() {
  # Quietly: bash reports a child killed by a signal ("… Killed setsid …") on its stderr when it
  # notices; the status recorded here says it better.
  { reap_next; } 2>/dev/null
}

# start_ticker: the child that sends SIGUSR1 once a second (see the top). It ignores the dyno's
# SIGTERM, ends when the script is gone, and runs nothing (nap.sh), so stopping it leaves no
# process behind.
start_ticker() {
  trap 'TICKED=1' USR1
  (trap '' TERM INT
    # shellcheck source=runtime/lib/nap.sh
    . "$LIB_DIR/nap.sh"
    while nap 1; do kill -USR1 "$$" 2>/dev/null || exit 0; done) >/dev/null 2>&1 {SAY_FD}>&- &
  TICKER=$!
}
stop_ticker() { [[ -z $TICKER ]] || { kill -KILL "$TICKER"; wait "$TICKER"; } 2>/dev/null || true; }

# record_exit PID STATUS [lost]
record_exit() {
  CHILD_STATUS[$1]=$2
  [[ -z ${3:-} ]] || CHILD_LOST[$1]=1
  LAST_EXITED=$1
  kill -KILL -- "-$1" 2>/dev/null || true # its group's leftovers, if any
}

reap_next() {
  local status pid
  LAST_EXITED=""
  live_children
  ((${#LIVE[@]})) || return 1
  [[ -n $TICKER ]] || start_ticker
  wait -n && status=0 || status=$?
  if [[ -n $STOP_DEADLINE ]] && ((SECONDS >= STOP_DEADLINE)); then
    STOP_DEADLINE=""
    live_children
    for pid in ${LIVE[@]+"${LIVE[@]}"}; do
      CHILD_KILLED[$pid]=1
      kill_tree KILL "$pid"
    done
    return 0
  fi
  live_children
  for pid in ${LIVE[@]+"${LIVE[@]}"}; do
    kill -0 "$pid" && continue
    # bash has reaped it: ask for the status it keeps. If bash lost it, the wait blocks until the
    # next tick interrupts it (status 138, SIGUSR1's).
    TICKED=0
    wait "$pid" && status=0 || status=$?
    if ((TICKED && status == 138)); then record_exit "$pid" 0 lost; else record_exit "$pid" "$status"; fi
    return 0
  done
  return 0
}

# supervise MAIN_ROLE MAIN_END_FAILS: runs until every child has exited.
# The MAIN_ROLE child ending on its own ends the group with its status, or, when MAIN_END_FAILS is
# 1 (a web process must not end), non-zero. Any other child ending on its own is a crash: exit
# non-zero. After a SIGTERM or SIGINT, exits are expected and the main child's status is returned.
supervise() {
  local main_role=$1 main_end_fails=$2 pid role status failed=""
  trap 'begin_shutdown "got SIGTERM"' TERM
  trap 'begin_shutdown "got SIGINT"' INT
  while reap; do
    pid=$LAST_EXITED
    [[ -n $pid ]] || continue
    role=${CHILD_ROLE[$pid]} status=${CHILD_STATUS[$pid]}
    if ((!SHUTTING_DOWN)); then
      if [[ $role != "$main_role" || $main_end_fails == 1 ]]; then
        failed=$status
        ((failed == 0)) && failed=1
        begin_shutdown "$role exited on its own (status $status)"
      else
        begin_shutdown "$role exited (status $status)"
      fi
    else
      # How each part ended is the proof of a clean stop: 0, or 128+N for a signal N it was sent
      # (137 after the stop timer's SIGKILL, 139 for a crash).
      if [[ -n ${CHILD_KILLED[$pid]:-} ]]; then
        say "$role killed: still running $STOP_AFTER s after it was asked to stop (status $status)"
      elif [[ -n ${CHILD_LOST[$pid]:-} ]]; then
        say "$role stopped (status unknown)"
      else
        say "$role stopped (status $status)"
      fi
    fi
    on_child_exit "$role"
  done
  stop_ticker
  wait 2>/dev/null || true
  status=1
  for pid in "${!CHILD_ROLE[@]}"; do
    [[ ${CHILD_ROLE[$pid]} == "$main_role" ]] && status=${CHILD_STATUS[$pid]:-1}
  done
  ((BOOT_FAILED)) && status=1
  [[ -n $failed ]] && status=$failed
  say "stopped (exit status $status)"
  exit "$status"
}
