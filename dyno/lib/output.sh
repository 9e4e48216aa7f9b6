# shellcheck shell=bash
# What the start scripts say on the dyno's stderr, under the script's name (_SCRIPT_NAME), as
# heroku-buildpack-nginx's and heroku-buildpack-pgbouncer's scripts do. Sourced by common.sh.
# Every message is listed in the README's Troubleshooting (test/dyno/messages.bats).

# output::say MESSAGE: a line; a closed stderr is no reason to stop.
output::say() { printf '%s: %s\n' "$_SCRIPT_NAME" "$*" >&2 || true; }

# output::die MESSAGE [HINT]: the error and how to fix it, then exit 1.
output::die() {
  printf '%s: error: %s\n' "$_SCRIPT_NAME" "$1" >&2
  [[ -n ${2:-} ]] && printf '%s: %s\n' "$_SCRIPT_NAME" "$2" >&2
  exit 1
}
