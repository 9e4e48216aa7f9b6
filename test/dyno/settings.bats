#!/usr/bin/env bats
# The config vars (dyno/lib/settings.sh), alone: what each accepts, and the README's table.
load ../support/helpers

# read_as VAR=VALUE... -- NAME...: the settings read with these vars set, printing NAME=value.
read_as() {
  local vars=() name out=""
  while [[ $1 != -- ]]; do vars+=("$1"); shift; done
  shift
  for name; do out+="echo $name=\${_SETTING[$name]}; "; done
  env -i PATH=/usr/bin:/bin "${vars[@]}" bash -c "set -euo pipefail; _SCRIPT_NAME=test; . '$REPO/dyno/lib/common.sh'; settings::read; $out"
}

@test "values the anchors documented or passed through are accepted, as pgbouncer and nginx read them" {
  run read_as PGBOUNCER_SERVER_LIFETIME=3600.0 PGBOUNCER_SERVER_IDLE_TIMEOUT=600.0 PGBOUNCER_POOL_MODE=Transaction \
    NGINX_WORKERS=auto PGBOUNCER_AUTH_TYPE=MD5 PGBOUNCER_ENABLED=TRUE -- \
    PGBOUNCER_SERVER_LIFETIME PGBOUNCER_SERVER_IDLE_TIMEOUT PGBOUNCER_POOL_MODE NGINX_WORKERS PGBOUNCER_AUTH_TYPE PGBOUNCER_ENABLED
  assert_success
  assert_output "PGBOUNCER_SERVER_LIFETIME=3600.0
PGBOUNCER_SERVER_IDLE_TIMEOUT=600.0
PGBOUNCER_POOL_MODE=transaction
NGINX_WORKERS=auto
PGBOUNCER_AUTH_TYPE=md5
PGBOUNCER_ENABLED=1"
}

@test "unset and empty take the default, except where empty means something" {
  run read_as PGBOUNCER_POOL_MODE= PGBOUNCER_SERVER_TIMEZONE= -- PGBOUNCER_POOL_MODE PGBOUNCER_SERVER_TIMEZONE NGINX_WORKERS PGBOUNCER_ENABLED
  assert_success
  assert_output "PGBOUNCER_POOL_MODE=transaction
PGBOUNCER_SERVER_TIMEZONE=
NGINX_WORKERS=4
PGBOUNCER_ENABLED=1"
  run read_as PGBOUNCER_ENABLED=0 -- PGBOUNCER_ENABLED
  assert_output "PGBOUNCER_ENABLED=0"
}

@test "a bad value names the var, what it accepts and the fix; a number never wraps around" {
  run read_as PGBOUNCER_SERVER_LIFETIME=1h -- PGBOUNCER_SERVER_LIFETIME
  assert_failure
  assert_output "test: error: PGBOUNCER_SERVER_LIFETIME must be seconds from 0 to 604800 (it is '1h')
test: Fix it with: heroku config:set PGBOUNCER_SERVER_LIFETIME=3600 (the default), or unset it."
  run read_as PGBOUNCER_SERVER_LIFETIME=99999999999999999999 -- PGBOUNCER_SERVER_LIFETIME
  assert_failure
  run read_as NGINX_CLIENT_MAX_BODY_SIZE=100m -- NGINX_CLIENT_MAX_BODY_SIZE
  assert_output --partial "NGINX_CLIENT_MAX_BODY_SIZE must be a whole number from 0 to 100000 (it is '100m')"
}

@test "no start script reads a config var of the list except through settings.sh" {
  local name raw
  for name in $(bash -c ". '$REPO/dyno/lib/settings.sh'; echo \"\${_SETTING_NAMES[*]}\""); do
    raw=$(grep -n "\${$name\b\|\$$name\b\|!$name\b" "$REPO"/dyno/bin/* "$REPO"/dyno/lib/*.sh | grep -v '/settings.sh:' || true)
    [[ -z $raw ]] || fail "$name read raw: $raw"
  done
}

@test "the README's table of config vars is the one settings.sh prints (npm run docs)" {
  run bash "$REPO/support/config-var-table.sh"
  assert_success
  local table=$output
  run python3 -c 'import sys; t = open(sys.argv[1]).read(); print(t.split("<!-- config-vars:begin -->\n", 1)[1].split("\n<!-- config-vars:end -->", 1)[0])' "$REPO/README.md"
  assert_success
  assert_equal "$output" "$table"
}
