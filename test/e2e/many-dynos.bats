#!/usr/bin/env bats
# Many dynos, one database: each dyno's pool is checked at boot against the room left in a
# PostgreSQL of 10 connections (3 of them the superuser's: 7 for the app), as Essential plans
# have few. The "dynos" share this machine, each pooler on a port of its own.
load ../support/helpers

setup_file() {
  load ../support/helpers
  start_platform
  SMALL_PG_DIR="$TEST_WORK/pg-small"
  SMALL_URL=$(PG_MAX_CONNECTIONS=10 "$REPO/test/support/pg.sh" start "$SMALL_PG_DIR" "$("$REPO/test/support/free-port.sh")")
  APP_SRC="$REPO/test/fixtures/plain"
  export SMALL_PG_DIR SMALL_URL APP_SRC
}

teardown_file() {
  [[ -z $(dyno::pids) ]] || dyno::stop 5
  "$REPO/test/support/pg.sh" stop "$SMALL_PG_DIR"
  stop_platform
}

teardown() {
  [[ -z $(dyno::pids) ]] || dyno::stop 5
  "$REPO/test/support/pg.sh" psql "$SMALL_PG_DIR" "ALTER ROLE app_user CONNECTION LIMIT -1" >/dev/null
}

# app_connections: the app user's connections to the small database.
app_connections() { "$REPO/test/support/pg.sh" psql "$SMALL_PG_DIR" "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app_user'"; }

# wait_connections N: until the app user holds N connections (10 s).
wait_connections() {
  for _ in $(seq 100); do [[ $(app_connections) == "$1" ]] && return 0; sleep 0.1; done
  fail "the app user holds $(app_connections) connections, not $1"
}

# pool_dyno NAME [VAR=VALUE...]: a dyno whose pool of 3 server connections is kept open
# (PGBOUNCER_MIN_POOL_SIZE), in the background; its log in $TEST_WORK/NAME.log.
pool_dyno() {
  local name=$1 s
  shift
  s=$(slug heroku-24)
  dyno::as_user env -i PATH=/usr/bin:/bin HOME="$s" DATABASE_URL="$SMALL_URL" PGBOUNCER_LISTEN_PORT="$("$REPO/test/support/free-port.sh")" \
    PGBOUNCER_DEFAULT_POOL_SIZE=3 PGBOUNCER_RESERVE_POOL_SIZE=0 PGBOUNCER_MIN_POOL_SIZE=3 "$@" \
    "$s/bin/start-pgbouncer" bash -c "echo app-started; sleep 60" >"$TEST_WORK/$name.log" 2>&1 &
}

# said NAME REGEX: until dyno NAME's log has a line matching REGEX (10 s).
said() {
  for _ in $(seq 100); do grep -qE -- "$2" "$TEST_WORK/$1.log" && return 0; sleep 0.1; done
  cat "$TEST_WORK/$1.log" >&3
  fail "$1 did not say: $2"
}

# Each test begins with none of the app's connections left by the one before.
setup() { wait_connections 0; }

@test "three dynos' pools of 3 on 7 connections: each says its share at boot; the third is warned, saying why and what to change" {
  # What a dyno counts in use includes its own pool, which pgbouncer is filling to 3 meanwhile, and
  # a test's own psql, as the server counts every session (hence ranges).
  pool_dyno first
  said first "db1: this dyno opens at most 3 server connections; [1-3] of 7 \\(max_connections\\) are in use$"
  said first "pool size 3 \\+ reserve 0 per database"
  wait_connections 3
  pool_dyno second
  said second "db1: this dyno opens at most 3 server connections; [4-6] of 7 \\(max_connections\\) are in use$"
  wait_connections 6
  pool_dyno third
  said third "db1: warning: this dyno may open 3 server connections, but [7-9] of 7 \\(max_connections\\) are in use, other dynos' included$"
  said third "db1: lower PGBOUNCER_DEFAULT_POOL_SIZE or PGBOUNCER_RESERVE_POOL_SIZE, or run fewer dynos"
  # A warning: the app runs all the same.
  said third "^app-started$"
}

@test "PGBOUNCER_CONNECTION_CHECK=refuse: a pool that does not fit stops the boot before the app starts" {
  pool_dyno first
  wait_connections 3
  pool_dyno second
  wait_connections 6
  pool_dyno third PGBOUNCER_CONNECTION_CHECK=refuse
  said third "db1: error: this dyno may open 3 server connections, but [7-9] of 7 \\(max_connections\\) are in use"
  said third "the database has no room for this dyno's pool: stopping"
  said third "stopped \\(exit status 1\\)"
  run grep -c app-started "$TEST_WORK/third.log"
  assert_output 0
}

@test "PGBOUNCER_CONNECTION_CHECK=refuse: a pool that fits boots, the app after the check" {
  pool_dyno first PGBOUNCER_CONNECTION_CHECK=refuse
  said first "db1: this dyno opens at most 3 server connections"
  said first "^app-started$"
  sleep 1
  run grep -E "stopp|error" "$TEST_WORK/first.log"
  assert_output ""
}

@test "the database user's own connection limit (Essential plans have one) is the one checked when it is the tightest" {
  "$REPO/test/support/pg.sh" psql "$SMALL_PG_DIR" "ALTER ROLE app_user CONNECTION LIMIT 4" >/dev/null
  pool_dyno first
  wait_connections 3
  pool_dyno second
  said second "db1: warning: this dyno may open 3 server connections, but 4 of 4 \\(the role's connection limit\\) are in use"
}

@test "PGBOUNCER_CONNECTION_BUDGET keeps room for the rest: the user's share, not the database's limit, is checked" {
  pool_dyno first
  wait_connections 3
  pool_dyno second PGBOUNCER_CONNECTION_BUDGET=5
  said second "db1: warning: this dyno may open 3 server connections, but 4 of 5 \\(PGBOUNCER_CONNECTION_BUDGET, app_user's\\) are in use"
  pool_dyno third PGBOUNCER_CONNECTION_CHECK=off
  said third "^app-started$"
  run grep -c "server connections" "$TEST_WORK/third.log"
  assert_output 0
}
