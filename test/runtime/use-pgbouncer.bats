#!/usr/bin/env bats
# bin/use-pgbouncer alone (it starts nothing): the URLs moved to Heroku Postgres's server-side
# pooler on port + 1, as heroku-buildpack-pgbouncer's script of the same name does.
load ../support/helpers

setup() {
  APP="$BATS_TEST_TMPDIR/app"
  mkdir -p "$APP/bin" "$APP/vendor/nginx-pgbouncer"
  cp "$REPO/runtime/bin/use-pgbouncer" "$APP/bin/"
  cp -r "$REPO/runtime/lib" "$APP/vendor/nginx-pgbouncer/"
}

@test "DATABASE_URL and DATABASE_URL_PGBOUNCER point at port + 1; the query and sslmode stay" {
  DATABASE_URL='postgresql://user:p%40ss@host.example.com:5432/name?sslmode=require&application_name=web' run "$APP/bin/use-pgbouncer" printenv
  assert_success
  assert_line 'DATABASE_URL_PGBOUNCER=postgres://user:p%40ss@host.example.com:5433/name?sslmode=require&application_name=web'
  assert_line 'DATABASE_URL=postgres://user:p%40ss@host.example.com:5433/name?sslmode=require&application_name=web'
}

@test "only the vars of PGBOUNCER_URLS change; an IPv6 host keeps its brackets" {
  PGBOUNCER_URLS=HEROKU_POSTGRESQL_RED_URL DATABASE_URL='postgres://u:p@h:5432/d' HEROKU_POSTGRESQL_RED_URL='postgres://u:p@[2001:db8::1]:6543/d' \
    run "$APP/bin/use-pgbouncer" printenv
  assert_success
  assert_line 'HEROKU_POSTGRESQL_RED_URL=postgres://u:p@[2001:db8::1]:6544/d'
  assert_line 'DATABASE_URL=postgres://u:p@h:5432/d'
}

@test "a URL it cannot read stops it before the command runs, naming the variable and not the password" {
  DATABASE_URL='postgres://u:secret-9f2@h:port/d' run "$APP/bin/use-pgbouncer" echo COMMAND-RAN
  assert_failure
  assert_output --partial "DATABASE_URL has an invalid port"
  refute_output --partial COMMAND-RAN
  refute_output --partial secret-9f2
}
