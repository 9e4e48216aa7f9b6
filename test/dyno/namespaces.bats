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

# dyno_code: the scripts' and libraries' lines, comments left out.
dyno_code() { cat "$REPO"/dyno/lib/*.sh "$REPO"/dyno/bin/* | grep -vE '^[[:space:]]*#'; }

# Our globals: every upper-case name the scripts and libraries assign (NAME=, NAME+=, NAME[…]=,
# declare/export/readonly NAME, exec {NAME}>, for NAME in); `local` ones are not globals.
assigned_names() {
  dyno_code | {
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

# app_env: NAME=theirs-NAME for every name the scripts and libraries assign in any form, of any
# case, locals included (an over-wide net costs nothing: a name that was not ours must come through
# too), each also without its leading _, and the names our globals had before they took the _
# (SCRIPT_NAME, which gunicorn reads as the app's mount point; APP_SETTINGS, which Flask apps
# name their config by) or the _NGINX_PGBOUNCER_ prefix. Left out: what we set on purpose (the
# config vars, the URLs we point at the pooler, PORT), the platform's and bash's own.
app_env() {
  local name settings
  settings=$(config_vars)
  for name in $({
    dyno_code |
      grep -oE '(\b|\{)[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?(\+?=|\}[<>])|\b(for|read|printf -v|mapfile|readarray|local|declare)([[:space:]]+-[a-zA-Z]+)*[[:space:]]+[A-Za-z_][A-Za-z0-9_]*' |
      sed -E 's/(\[[^]]*\])?(\+?=|\}[<>])$//; s/^.*[^A-Za-z0-9_]//'
    echo SCRIPT_NAME APP_SETTINGS APP_DIR LIB_DIR BIN MODE VALUE DEFAULT SETTING RENDER_DIR POOLER_DIR BINARIES_DIR BUILDPACK_HOME
    echo NGINX_BIN NGINX_ARGS NGINX_RUN_DIR PGBOUNCER_BIN
  } | tr ' ' '\n' | sed 's/^_//' | sort -u); do
    [[ $name =~ ^(PORT|PATH|HOME|TMPDIR|DYNO|IFS|PWD|OLDPWD|SHLVL|REPLY|OPTIND|OPTARG|RANDOM|SECONDS|LINENO|BASH.*|[a-z]|.*_URL.*|NGINX_PGBOUNCER_.*)$ ]] && continue
    grep -qxF "$name" <<<"$settings" && continue
    echo "$name=theirs-$name"
  done
}

# assert_reached VAR=VALUE...: each line is in $output (grep: bats-assert's assert_line walks the
# lines in bash, seconds for each of 130 names).
assert_reached() {
  local missing
  missing=$(printf '%s\n' "$@" | grep -vxFf <(printf '%s\n' "$output") || true)
  [[ -z $missing ]] || fail "changed or dropped on the way to the app:"$'\n'"$missing"
}

@test "an app's config var named like a global of ours reaches the app unchanged (use-pgbouncer, no binaries)" {
  local T="$BATS_TEST_TMPDIR" vars
  mkdir -p "$T/bin" "$T/vendor/nginx-pgbouncer"
  cp "$REPO/dyno/bin/use-pgbouncer" "$T/bin/"
  cp -r "$REPO/dyno/lib" "$T/vendor/nginx-pgbouncer/"
  mapfile -t vars < <(app_env)
  [[ ${#vars[@]} -gt 60 ]] || fail "only ${#vars[@]} names"
  run env -i PATH=/usr/bin:/bin DATABASE_URL=postgres://u:p@db.example.com:5432/d "${vars[@]}" "$T/bin/use-pgbouncer" env
  assert_success
  assert_reached "${vars[@]}"
}

@test "…and through start-pgbouncer and start-nginx to the command they hand over to (an nginx.conf.erb reads ENV too)" {
  local T="$BATS_TEST_TMPDIR" vars script
  mkdir -p "$T/bin" "$T/vendor/nginx-pgbouncer" "$T/tmp"
  cp -r "$REPO/dyno/lib" "$REPO/dyno/libexec" "$REPO/dyno/conf" "$T/vendor/nginx-pgbouncer/"
  # The scripts' main without its call, to run with the hand-over made a plain exec: the supervisor
  # passes on the environment it is given (supervise.bats), so what reaches the exec reaches the app.
  sed '$d' "$REPO/dyno/bin/start-nginx" >"$T/bin/start-nginx"
  artifact::extract nginx "$T/vendor/nginx"
  artifact::extract pgbouncer "$T/vendor/pgbouncer"
  mapfile -t vars < <(app_env)
  for script in 'pgbouncer::main native env' 'main env' 'main --debug -f env'; do
    run env -i PATH=/usr/bin:/bin TMPDIR="$T/tmp" PORT=5000 DATABASE_URL=postgres://u:p@db.example.com:5432/d "${vars[@]}" bash -c '
      set -euo pipefail
      if [[ $1 == main* ]]; then . "$0/bin/start-nginx"; else _SCRIPT_NAME=test; . "$0/vendor/nginx-pgbouncer/lib/common.sh"; . "$_LIB_DIR/pgbouncer.sh"; fi
      plan::hand_over() { exec "$@"; }
      '"$script" "$T" "$script"
    assert_success
    assert_line --partial "DATABASE_URL="
    assert_reached "${vars[@]}"
  done
}
