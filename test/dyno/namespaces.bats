#!/usr/bin/env bats
# The naming rules of the dyno's bash (dyno/lib/common.sh says why), held here rather than in
# comments: a library's functions carry its name, and no global of ours can be mistaken for, or
# overwrite, an app's config var.
load ../support/helpers

# Every library sourced by the start scripts, and the build's (bin/lib).
libraries() { ls "$REPO"/dyno/lib/*.sh "$REPO"/bin/lib/*.sh; }

@test "each library's functions are named LIBRARY::NAME, after its file (db-url.sh: db_url::)" {
  local lib ns bad=""
  while read -r lib; do
    ns=$(basename "$lib" .sh)
    ns=${ns//-/_}
    bad+=$(grep -nE '^[[:space:]]*(function[[:space:]]+)?[A-Za-z_][A-Za-z0-9_:]*[[:space:]]*\(\)' "$lib" |
      grep -vE "^[0-9]+:[[:space:]]*(function[[:space:]]+)?${ns}::" | sed "s#^#${lib#"$REPO"/}:#")
  done < <(libraries)
  [[ -z $bad ]] || fail "functions outside their library's namespace:"$'\n'"$bad"
}

@test "no global of ours starts with NGINX_ or PGBOUNCER_ unless it is a config var; internals passed on start with _NGINX_PGBOUNCER_" {
  local settings bad=""
  settings=$(bash -c '. "$1"; printf "%s\n" "${SETTING_NAMES[@]}"' _ "$REPO/dyno/lib/settings.sh")
  [[ $(wc -l <<<"$settings") -gt 30 ]] || fail "read only $(wc -l <<<"$settings") settings"
  # Assignments (NAME=, NAME+=, NAME[…]=, declare/export/readonly NAME) of any name with those
  # prefixes, in the scripts and libraries; `local` ones are not globals.
  while IFS= read -r hit; do
    name=$(grep -oE '(NGINX|PGBOUNCER)_[A-Z0-9_]+' <<<"${hit#*:*:}" | head -n1)
    grep -qxF "$name" <<<"$settings" || bad+="$hit"$'\n'
  done < <(grep -nE '(^|[[:space:];]|export[[:space:]]+|declare[[:space:]]+-[a-zA-Z]+[[:space:]]+|readonly[[:space:]]+)(NGINX|PGBOUNCER)_[A-Z0-9_]+(\[[^]]*\])?\+?=' \
    "$REPO"/dyno/lib/*.sh "$REPO"/dyno/bin/* | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(#|local )')
  [[ -z $bad ]] || fail "globals that share the config vars' prefixes:"$'\n'"$bad"
  # What our processes pass each other through the environment (the TypeScript's env and env.launch
  # included) is ours by its prefix.
  run grep -rhoE '\b_?NGINX_PGBOUNCER_[A-Z_]+\b' "$REPO/dyno" "$REPO/src" "$REPO/builds/supervisor"
  assert_success
  local name
  for name in $(sort -u <<<"$output"); do
    [[ $name == _NGINX_PGBOUNCER_* ]] || grep -qxF "$name" <<<"$settings" || fail "$name: neither a config var nor _NGINX_PGBOUNCER_"
  done
}

@test "a config var named like an internal of ours reaches nothing: the app's NGINX_BIN and friends are left alone" {
  local T="$BATS_TEST_TMPDIR"
  mkdir -p "$T/vendor/nginx-pgbouncer"
  cp -r "$REPO/dyno/lib" "$T/vendor/nginx-pgbouncer/"
  run env -i PATH=/usr/bin:/bin NGINX_BIN=/theirs NGINX_ARGS=theirs NGINX_RUN_DIR=/theirs PGBOUNCER_BIN=/theirs bash -c '
    set -euo pipefail; SCRIPT_NAME=test
    . "$1/vendor/nginx-pgbouncer/lib/common.sh"; . "$LIB_DIR/nginx-config.sh"; . "$LIB_DIR/pgbouncer.sh"
    echo "$NGINX_BIN $NGINX_ARGS $NGINX_RUN_DIR $PGBOUNCER_BIN"' _ "$T"
  assert_success
  assert_output "/theirs theirs /theirs /theirs"
}
