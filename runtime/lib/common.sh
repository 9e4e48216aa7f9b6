# shellcheck shell=bash
# Shared by the start scripts: paths, messages, waiting; it loads the settings and supervision.
# Sourced; the scripts set `set -euo pipefail` themselves.

# The slug root (bin/..) and where the binaries are: vendor/ in a classic slug, a layer in CNB
# (the CNB build sets NGINX_PGBOUNCER_VENDOR through env.launch/).
# shellcheck disable=SC2034 # used by the scripts that source this
APP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
# shellcheck disable=SC2034
VENDOR_DIR=${NGINX_PGBOUNCER_VENDOR:-$APP_DIR/vendor}
# This folder: the libraries source each other from here, in a slug or a checkout alike; and the
# runtime home above it (vendor/nginx-pgbouncer in a slug), which holds conf/ beside lib/.
LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034
RUNTIME_HOME=${LIB_DIR%/lib}

# Messages never stop the script: if the log pipe is gone, a failed write must not abandon the
# children mid-shutdown. A handler (not an ignore, which children would inherit) keeps SIGPIPE
# from killing the script.
trap ':' PIPE
# say writes to the stderr the script started with, kept as SAY_FD: a trap can run while reap has
# its stderr silenced. Children do not get SAY_FD (spawn and the exec's close it).
exec {SAY_FD}>&2
say() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&"$SAY_FD" || true; }

die() { # die MESSAGE [HINT]
  printf '%s: error: %s\n' "$SCRIPT_NAME" "$1" >&2
  [[ -n ${2:-} ]] && printf '%s: %s\n' "$SCRIPT_NAME" "$2" >&2
  exit 1
}

# wait_for TIMEOUT_S DESCRIPTION PID TEST...: polls TEST every 10 ms (the poolers start in a few ms,
# and the app starts only after them) until it succeeds; fails when time is up or PID has exited.
wait_for() {
  local timeout=$1 what=$2 pid=$3 deadline
  shift 3
  deadline=$((SECONDS + timeout))
  until "$@"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "exited before $what"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      say "gave up waiting for $what after ${timeout} s"
      return 1
    fi
    sleep 0.01
  done
}

# shellcheck source=runtime/lib/settings.sh
. "$LIB_DIR/settings.sh"
# shellcheck source=runtime/lib/supervise.sh
. "$LIB_DIR/supervise.sh"
