#!/usr/bin/env bash
# Prints the README's table of config vars from dyno/lib/settings.sh, the one list the start
# scripts read them from. `npm run docs` puts it into the README; a test checks that it is current.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=dyno/lib/settings.sh
. "$REPO/dyno/lib/settings.sh"

# settings::table: the README's table of config vars.
config_var_table() {
  local name default origin
  printf '| var | default | accepts | same as | notes |\n| --- | --- | --- | --- | --- |\n'
  for name in "${_SETTING_NAMES[@]}"; do
    default=${_SETTING_DEFAULT[$name]:+\`${_SETTING_DEFAULT[$name]}\`}
    [[ -z ${_SETTING_WEB_DEFAULT[$name]:-} ]] || default+="; \`${_SETTING_WEB_DEFAULT[$name]}\` on web dynos"
    [[ -z ${_SETTING_RAILS_DEFAULT[$name]:-} ]] || default+="; \`${_SETTING_RAILS_DEFAULT[$name]}\` where \`Gemfile.lock\` has \`activerecord\`"
    case ${_SETTING_ORIGIN[$name]} in
      pgbouncer) origin=heroku-buildpack-pgbouncer ;;
      nginx) origin=heroku-buildpack-nginx ;;
      pgbouncer-other-default) origin="heroku-buildpack-pgbouncer, other default" ;;
      nginx-other-default) origin="heroku-buildpack-nginx, other default" ;;
      *) origin="new here" ;;
    esac
    printf '| `%s` | %s | %s | %s | %s |\n' "$name" "${default:-empty}" "$(settings::accepts "${_SETTING_CHECK[$name]}")" "$origin" "${_SETTING_ABOUT[$name]}"
  done
}

if [[ ${1:-} == --write ]]; then
  # Between the README's two markers, nothing else touched.
  python3 - "$REPO/README.md" "$(config_var_table)" <<'PY'
import re, sys
path, table = sys.argv[1], sys.argv[2]
text = open(path).read()
begin, end = "<!-- config-vars:begin -->", "<!-- config-vars:end -->"
if begin not in text or end not in text:
    sys.exit("config-var-table: README.md has no %s ... %s markers" % (begin, end))
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(path, "w").write(head + begin + "\n" + table + "\n" + end + tail)
PY
else
  config_var_table
fi
