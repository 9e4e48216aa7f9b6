#!/usr/bin/env bats
# Database URL parsing of the pooler wrapper: real parsing, errors that name the var, not its value.
load ../support/helpers

setup() {
  _SCRIPT_NAME="test"
  _BINARIES_DIR=/nonexistent
  # shellcheck source=dyno/lib/common.sh
  . "$REPO/dyno/lib/common.sh"
  # shellcheck source=dyno/lib/pgbouncer.sh
  . "$REPO/dyno/lib/pgbouncer.sh"
}

parse() {
  local -A u
  db_url::parse DB u && printf '%s|%s|%s|%s|%s|%s|%s\n' "${u[user]}" "${u[pass]}" "${u[host]}" "${u[port]}" "${u[name]}" "${u[sslmode]}" "${u[query]}"
}

@test "percent-encoded user and password with :/@% and quotes" {
  DB='postgres://u%40x:p%40ss%3Aw%2Frd%25%22%27@db.example.com:5433/my%20db' run parse
  assert_success
  assert_output "u@x|p@ss:w/rd%\"'|db.example.com|5433|my db||"
}

@test "postgresql:// scheme, default port, IPv6 host, query kept but sslmode taken" {
  DB='postgresql://u:p@[::1]/d?sslmode=verify-full&application_name=web' run parse
  assert_output "u|p|::1|5432|d|verify-full|application_name=web"
}

@test "a raw @ in the password (unencoded) still parses" {
  DB='postgres://u:p@ss@h:1/d' run parse
  assert_output "u|p@ss|h|1|d||"
}

@test "db_url::encode round-trips through db_url::decode" {
  local s='p@ss:w/rd%?#&"x '
  run db_url::decode "$(db_url::encode "$s")"
  assert_output "$s"
}
