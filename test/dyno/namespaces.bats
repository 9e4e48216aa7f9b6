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

# Our globals: every upper-case name the scripts and libraries assign (NAME=, NAME+=, NAME[…]=,
# declare/export/readonly NAME, exec {NAME}>, for NAME in); `local` ones are not globals.
assigned_names() {
  cat "$REPO"/dyno/lib/*.sh "$REPO"/dyno/bin/* | grep -vE '^[[:space:]]*#' | {
    grep -oE '(^|[[:space:];{]|export[[:space:]]+|declare[[:space:]]+-[a-zA-Z]+[[:space:]]+|readonly[[:space:]]+|exec[[:space:]]+\{)_?[A-Z][A-Z0-9_]*(\[[^]]*\])?(\+?=|\}[<>])|for[[:space:]]+_?[A-Z][A-Z0-9_]*[[:space:]]+in[[:space:]]'
  } | sed -E 's/(\[[^]]*\])?(\+?=|\}[<>]|[[:space:]]+in[[:space:]])$//; s/^.*[^A-Za-z0-9_]//' | sort -u
}
config_vars() { bash -c '. "$1"; printf "%s\n" "${_SETTING_NAMES[@]}"' _ "$REPO/dyno/lib/settings.sh"; }

@test "an upper-case name without a leading _ is the app's or the platform's: the scripts assign only config vars and PORT" {
  local settings names name bad=""
  settings=$(config_vars)
  [[ $(wc -l <<<"$settings") -gt 30 ]] || fail "read only $(wc -l <<<"$settings") settings"
  names=$(assigned_names)
  [[ $(wc -l <<<"$names") -gt 30 ]] || fail "found only $(wc -l <<<"$names") globals: is assigned_names still reading the scripts?"
  for name in $names; do
    # PORT: start-nginx gives a local run the platform's default; IFS: the shell's own.
    [[ $name == _* || $name == PORT || $name == IFS ]] || grep -qxF "$name" <<<"$settings" || bad+=" $name"
  done
  [[ -z $bad ]] || fail "globals an app's config var could hold (start them with _):$bad"
  # What our processes pass each other through the environment (the TypeScript's env and env.launch
  # included) is ours by its prefix.
  run grep -rhoE '\b_?NGINX_PGBOUNCER_[A-Z_]+\b' "$REPO/dyno" "$REPO/src" "$REPO/builds/supervisor"
  assert_success
  for name in $(sort -u <<<"$output"); do
    [[ $name == _NGINX_PGBOUNCER_* ]] || grep -qxF "$name" <<<"$settings" || fail "$name: neither a config var nor _NGINX_PGBOUNCER_"
  done
}

# app_env: NAME=theirs-NAME for every global of ours without its leading _ (SCRIPT_NAME, which
# gunicorn reads as the app's mount point; APP_SETTINGS, which Flask apps name their config by),
# and for the internals' names before they took the _NGINX_PGBOUNCER_ prefix.
app_env() {
  local name
  for name in $(assigned_names | grep '^_' | grep -v '^_NGINX_PGBOUNCER_') NGINX_BIN NGINX_ARGS NGINX_RUN_DIR PGBOUNCER_BIN; do
    echo "${name#_}=theirs-${name#_}"
  done
}

@test "an app's config var named like a global of ours reaches the app unchanged (use-pgbouncer, no binaries)" {
  local T="$BATS_TEST_TMPDIR" vars
  mkdir -p "$T/bin" "$T/vendor/nginx-pgbouncer"
  cp "$REPO/dyno/bin/use-pgbouncer" "$T/bin/"
  cp -r "$REPO/dyno/lib" "$T/vendor/nginx-pgbouncer/"
  mapfile -t vars < <(app_env)
  [[ ${#vars[@]} -gt 30 ]] || fail "only ${#vars[@]} names"
  run env -i PATH=/usr/bin:/bin DATABASE_URL=postgres://u:p@db.example.com:5432/d "${vars[@]}" "$T/bin/use-pgbouncer" env
  assert_success
  for var in "${vars[@]}"; do assert_line "$var"; done
}

@test "…and through start-nginx's render and the pooler's config (both read ENV: an nginx.conf.erb does too)" {
  local T="$BATS_TEST_TMPDIR" vars
  mkdir -p "$T/vendor/nginx-pgbouncer" "$T/tmp"
  cp -r "$REPO/dyno/lib" "$REPO/dyno/libexec" "$REPO/dyno/conf" "$T/vendor/nginx-pgbouncer/"
  artifact::extract nginx "$T/vendor/nginx"
  artifact::extract pgbouncer "$T/vendor/pgbouncer"
  mapfile -t vars < <(app_env)
  run env -i PATH=/usr/bin:/bin TMPDIR="$T/tmp" PORT=5000 DATABASE_URL=postgres://u:p@db.example.com:5432/d "${vars[@]}" bash -c '
    set -euo pipefail; _SCRIPT_NAME=test
    . "$0/vendor/nginx-pgbouncer/lib/common.sh"; . "$_LIB_DIR/nginx-config.sh"; . "$_LIB_DIR/pgbouncer.sh"
    nginx_config::require_port; nginx_config::export_settings; nginx_config::render
    _MODE=native; settings::read; pgbouncer_config::write
    for e in "${_POOLED_EXPORTS[@]}"; do export "${e?}"; done
    env' "$T"
  assert_success
  for var in "${vars[@]}"; do assert_line "$var"; done
}
