#!/usr/bin/env bats
# bin/use-pgbouncer alone (it starts nothing): the URLs moved to Heroku Postgres's server-side
# pooler: the URL Heroku gives it, else port + 1, as heroku-buildpack-pgbouncer's script does.
load ../support/helpers

setup() {
  APP="$BATS_TEST_TMPDIR/app"
  mkdir -p "$APP/bin" "$APP/vendor/nginx-pgbouncer"
  cp "$REPO/dyno/bin/use-pgbouncer" "$APP/bin/"
  cp -r "$REPO/dyno/lib" "$APP/vendor/nginx-pgbouncer/"
}

@test "DATABASE_URL and DATABASE_URL_PGBOUNCER point at port + 1; the query and sslmode stay" {
  DATABASE_URL='postgresql://user:p%40ss@host.example.com:5432/name?sslmode=require&application_name=web' run "$APP/bin/use-pgbouncer" printenv
  assert_success
  assert_line 'DATABASE_URL_PGBOUNCER=postgres://user:p%40ss@host.example.com:5433/name?sslmode=require&application_name=web'
  assert_line 'DATABASE_URL=postgres://user:p%40ss@host.example.com:5433/name?sslmode=require&application_name=web'
  assert_line 'DATABASE_DIRECT_URL=postgresql://user:p%40ss@host.example.com:5432/name?sslmode=require&application_name=web'
  assert_line --partial "use-pgbouncer: DATABASE_CONNECTION_POOL_URL is not set: DATABASE_URL points at its database's port + 1"
  assert_line --partial "Essential plans have no server-side pooler"
}

@test "the URL Heroku gives its pooler (pg:connection-pooling:attach) is taken as it is, and said nothing of" {
  DATABASE_URL='postgres://u:p@h:5432/d' DATABASE_CONNECTION_POOL_URL='postgres://pool-u:pool-p@pool.example.com:6543/d?sslmode=require'     HEROKU_POSTGRESQL_RED_URL='postgres://u:p@red:5432/r' HEROKU_POSTGRESQL_RED_CONNECTION_POOL_URL='postgres://ru:rp@red-pool:6543/r'     PGBOUNCER_URLS='DATABASE_URL HEROKU_POSTGRESQL_RED_URL' run "$APP/bin/use-pgbouncer" printenv
  assert_success
  assert_line 'DATABASE_URL=postgres://pool-u:pool-p@pool.example.com:6543/d?sslmode=require'
  assert_line 'DATABASE_URL_PGBOUNCER=postgres://pool-u:pool-p@pool.example.com:6543/d?sslmode=require'
  assert_line 'DATABASE_DIRECT_URL=postgres://u:p@h:5432/d'
  assert_line 'HEROKU_POSTGRESQL_RED_URL=postgres://ru:rp@red-pool:6543/r'
  assert_line 'HEROKU_POSTGRESQL_RED_DIRECT_URL=postgres://u:p@red:5432/r'
  refute_output --partial "not set"
}

@test "a DATABASE_DIRECT_URL the app set itself is kept" {
  DATABASE_URL='postgres://u:p@h:5432/d' DATABASE_DIRECT_URL='postgres://admin:x@h:5432/d' run "$APP/bin/use-pgbouncer" printenv DATABASE_DIRECT_URL
  assert_success
  assert_line 'postgres://admin:x@h:5432/d'
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
