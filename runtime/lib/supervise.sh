# shellcheck shell=bash
# Supervision of a start script's children. Sourced by common.sh.
#
# Children are registered with their role. The first one that exits on its own (not during a
# shutdown) ends the whole group: the platform sees a non-zero exit and restarts the dyno.
# A SIGTERM or SIGINT starts a shutdown: the children are asked to stop (on_shutdown), nothing is
# treated as a crash any more, and whatever is left after NGINX_PGBOUNCER_STOP_TIMEOUT seconds
# (25 by default: Heroku's SIGKILL comes at 30) is killed.

declare -A CHILD_ROLE=() CHILD_STATUS=() CHILD_KILLED=()
SHUTTING_DOWN=0
BOOT_FAILED=0 # set when a start script gives up before everything was up
STOP_TIMER=""

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

live_children() {
  local pid
  for pid in "${!CHILD_ROLE[@]}"; do [[ -z ${CHILD_STATUS[$pid]:-} ]] && printf '%s\n' "$pid"; done
  return 0
}

signal_role() { # signal_role SIGNAL ROLE: to each live child with that role
  local sig=$1 role=$2 pid
  for pid in $(live_children); do
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
  sleep "$STOP_AFTER" &
  STOP_TIMER=$!
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
  for pid in $(live_children); do kill -TERM "$pid" 2>/dev/null || true; done
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

reap_next() {
  local status pid killed=()
  LAST_EXITED=""
  [[ -n $(live_children) ]] || return 1
  wait -n && status=0 || status=$?
  if [[ -n $STOP_TIMER ]] && ! kill -0 "$STOP_TIMER"; then
    STOP_TIMER=""
    for pid in $(live_children); do
      CHILD_KILLED[$pid]=1
      killed+=("$pid")
      kill_tree KILL "$pid"
    done
    # Until bash has noticed their deaths, so that it reports them in here.
    for pid in "${killed[@]}"; do
      for _ in {1..200}; do kill -0 "$pid" || break; sleep 0.01; done
    done
    return 0
  fi
  for pid in $(live_children); do
    if ! kill -0 "$pid"; then
      # bash may have reaped it already (wait -n then says 127): ask for its own status, which
      # bash keeps.
      wait "$pid" && status=0 || status=$?
      CHILD_STATUS[$pid]=$status
      LAST_EXITED=$pid
      kill -KILL -- "-$pid" || true # its group's leftovers, if any
      return 0
    fi
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
      else
        say "$role stopped (status $status)"
      fi
    fi
    on_child_exit "$role"
  done
  [[ -z $STOP_TIMER ]] || kill "$STOP_TIMER" 2>/dev/null || true
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
