# shellcheck shell=bash
# The supervisor's plan. Sourced by common.sh.
#
# A start script supervises nothing itself: it does its config work, adds its children to the
# dyno's plan (what to run, when it is ready, how to stop it), and hands over. When its command is
# another start script (bin/start-nginx bin/start-pgbouncer-stunnel gunicorn …), it execs that
# script, which adds its own children to the same plan; the last one execs the supervisor
# (builds/supervisor/supervise.c, shipped as vendor/nginx/libexec/supervise) with the app's
# command. Whatever the Procfile nests, one process then supervises nginx, the pooler, the app
# and the samplers, with one ordered stop and one deadline.
#
# The plan is a file of NUL-terminated words, named by _NGINX_PGBOUNCER_PLAN while the scripts
# hand over; the supervisor reads it, deletes it, and takes the name out of the app's environment.

# plan::begin DIR: the plan, in DIR (this script's private directory, removed at the end); the
# first script's name is the one the supervisor speaks under.
plan::begin() {
  if [[ -z ${_NGINX_PGBOUNCER_PLAN:-} ]]; then
    export _NGINX_PGBOUNCER_PLAN="$1/plan"
    : >"$_NGINX_PGBOUNCER_PLAN"
    plan::words voice "$_SCRIPT_NAME" deadline "${_SETTING[NGINX_PGBOUNCER_STOP_TIMEOUT]}"
  fi
  plan::words cleanup "$1"
}

plan::words() { printf '%s\0' "$@" >>"$_NGINX_PGBOUNCER_PLAN"; }

# plan::child ROLE PHASE WORD...: a child and its words (see read_plan in supervise.c). PHASE:
# before (started before the app), main (the app), after. The same ROLE again adds to it.
plan::child() { plan::words child "$1" "$_SCRIPT_NAME" "${@:2}"; }

# plan::argv COMMAND...: the command of the child last named.
plan::argv() { plan::words argv "$#" "$@"; }

# plan::is_start_script COMMAND: COMMAND is one of our start scripts, which adds to the plan (by
# its second line: an anchor buildpack's bin/start-pgbouncer, kept in an app, is not).
_START_SCRIPT_MARK="# One of heroku-buildpack-nginx-pgbouncer's start scripts: see dyno/lib/plan.sh."
plan::is_start_script() {
  local path mark
  path=$(command -v -- "$1" 2>/dev/null) && [[ -f $path ]] || return 1
  { read -r _ && read -r mark; } <"$path" 2>/dev/null && [[ $mark == "$_START_SCRIPT_MARK" ]]
}

# plan::hand_over COMMAND...: to the next start script, or to the supervisor with the app's command.
plan::hand_over() {
  if plan::is_start_script "${1:-}"; then exec "$@"; fi
  exec "${_BIN[supervise]}" "$_NGINX_PGBOUNCER_PLAN" -- "$@"
}
