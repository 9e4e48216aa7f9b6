# shellcheck shell=bash
# Shared by the start scripts: paths and messages; it loads the settings and the supervisor's plan.
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

say() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2 || true; }

die() { # die MESSAGE [HINT]
  printf '%s: error: %s\n' "$SCRIPT_NAME" "$1" >&2
  [[ -n ${2:-} ]] && printf '%s: %s\n' "$SCRIPT_NAME" "$2" >&2
  exit 1
}

# shellcheck source=runtime/lib/settings.sh
. "$LIB_DIR/settings.sh"
# shellcheck source=runtime/lib/plan.sh
. "$LIB_DIR/plan.sh"
