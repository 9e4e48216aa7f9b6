# shellcheck shell=bash
# Sourced first by every start script: where things are, then the libraries every script uses
# (output, settings, the supervisor's plan). The scripts set `set -euo pipefail` themselves.
#
# Globals: the environment the scripts inherit is the app's (its config vars, which a bash
# variable of the same name would overwrite for the app and its nginx.conf.erb) and each other's
# (a Procfile nests them). So every global of ours starts with _, and what our processes pass
# each other in the environment with _NGINX_PGBOUNCER_ (test/dyno/namespaces.bats).

# The slug root (bin/..) and where the binaries are: vendor/ in a classic slug, a layer in CNB
# (the CNB build sets _NGINX_PGBOUNCER_BINARIES through env.launch/).
# shellcheck disable=SC2034 # used by the scripts that source this
_APP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
# shellcheck disable=SC2034
_BINARIES_DIR=${_NGINX_PGBOUNCER_BINARIES:-$_APP_DIR/vendor}
# This folder: the libraries source each other from here, in a slug or a checkout alike; and the
# buildpack's home above it (vendor/nginx-pgbouncer in a slug, dyno/ in a checkout), which holds
# conf/ and libexec/ beside lib/.
_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034
_BUILDPACK_HOME=${_LIB_DIR%/lib}
# The programs the scripts run, from the artifacts (builds/): nginx's carries mruby (which renders
# config/nginx.conf.erb) and the supervisor, pgbouncer's the certificate maker.
# shellcheck disable=SC2034
declare -gA _BIN=(
  [nginx]=$_BINARIES_DIR/nginx/bin/nginx
  [mruby]=$_BINARIES_DIR/nginx/libexec/mruby
  [supervise]=$_BINARIES_DIR/nginx/libexec/supervise
  [pgbouncer]=$_BINARIES_DIR/pgbouncer/bin/pgbouncer
  [localhost-cert]=$_BINARIES_DIR/pgbouncer/libexec/localhost-cert
  [stunnel]=$_BINARIES_DIR/stunnel/bin/stunnel
)

# shellcheck source=dyno/lib/output.sh
. "$_LIB_DIR/output.sh"
# shellcheck source=dyno/lib/settings.sh
. "$_LIB_DIR/settings.sh"
# shellcheck source=dyno/lib/plan.sh
. "$_LIB_DIR/plan.sh"
