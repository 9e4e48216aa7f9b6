# shellcheck shell=bash
# Sourced first by every start script: where things are, then the libraries every script uses
# (output, settings, the supervisor's plan). The scripts set `set -euo pipefail` themselves.
#
# Globals: the start scripts read each other's environment (a Procfile nests them) and the app's
# config vars, whose names start with NGINX_ and PGBOUNCER_. So no global of ours has those
# prefixes (test/dyno/namespaces.bats), and what our processes pass each other in the
# environment starts with _NGINX_PGBOUNCER_, which no config var does.

# The slug root (bin/..) and where the binaries are: vendor/ in a classic slug, a layer in CNB
# (the CNB build sets _NGINX_PGBOUNCER_BINARIES through env.launch/).
# shellcheck disable=SC2034 # used by the scripts that source this
APP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
# shellcheck disable=SC2034
BINARIES_DIR=${_NGINX_PGBOUNCER_BINARIES:-$APP_DIR/vendor}
# This folder: the libraries source each other from here, in a slug or a checkout alike; and the
# buildpack's home above it (vendor/nginx-pgbouncer in a slug, dyno/ in a checkout), which holds
# conf/ and libexec/ beside lib/.
LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034
BUILDPACK_HOME=${LIB_DIR%/lib}
# The programs the scripts run, from the artifacts (builds/): nginx's carries mruby (which renders
# config/nginx.conf.erb) and the supervisor, pgbouncer's the certificate maker.
# shellcheck disable=SC2034
declare -gA BIN=(
  [nginx]=$BINARIES_DIR/nginx/bin/nginx
  [mruby]=$BINARIES_DIR/nginx/libexec/mruby
  [supervise]=$BINARIES_DIR/nginx/libexec/supervise
  [pgbouncer]=$BINARIES_DIR/pgbouncer/bin/pgbouncer
  [localhost-cert]=$BINARIES_DIR/pgbouncer/libexec/localhost-cert
  [stunnel]=$BINARIES_DIR/stunnel/bin/stunnel
)

# shellcheck source=dyno/lib/output.sh
. "$LIB_DIR/output.sh"
# shellcheck source=dyno/lib/settings.sh
. "$LIB_DIR/settings.sh"
# shellcheck source=dyno/lib/plan.sh
. "$LIB_DIR/plan.sh"
