# shellcheck shell=bash
# What the dyno benchmarks share: a work dir, the test suite's TLS-only PostgreSQL, an app compiled
# and moved like a Heroku build (the harness of test/support/dyno.sh runs it), and medians. Run as
# root on a machine set up by support/setup-host.sh. Callers set REPO.
# shellcheck source=test/support/dyno.sh
. "$REPO/test/support/dyno.sh"
# shellcheck source=bench/lib-stats.sh
. "$REPO/bench/lib-stats.sh"
BENCH_WORK=$(mktemp -d /tmp/hbnp-bench.XXXXXX)
chmod 755 "$BENCH_WORK"

bench_cleanup() {
  pkill -KILL -u "$DYNO_USER" 2>/dev/null || true
  mirror::stop
  [[ -d $BENCH_WORK/pg ]] && "$REPO/test/support/pg.sh" stop "$BENCH_WORK/pg"
  rm -rf "$BENCH_WORK"
}
trap bench_cleanup EXIT

# bench_database: starts PostgreSQL; sets DATABASE_URL.
bench_database() {
  # shellcheck disable=SC2034 # read by the benches and dyno.sh's dyno::start
  DATABASE_URL=$("$REPO/test/support/pg.sh" start "$BENCH_WORK/pg" "$("$REPO/test/support/free-port.sh")")
}

# bench_app FIXTURE_DIR...: the fixture dirs copied into one app, compiled for heroku-24 from a
# loopback mirror and moved to $BENCH_WORK/app (APP), owned by the dyno user; PORT, a free port.
bench_app() {
  mirror::start "$REPO/artifacts" "$BENCH_WORK"
  mkdir -p "$BENCH_WORK/src"
  local d
  for d; do cp -r "$d/." "$BENCH_WORK/src/"; done
  app::compile heroku-24 "$BENCH_WORK/src" "$BENCH_WORK/build" "$BENCH_WORK/cache" "$BENCH_WORK/env" >/dev/null
  APP=$BENCH_WORK/app
  app::slug "$BENCH_WORK/build" "$APP"
  # shellcheck disable=SC2034 # read by dyno.sh's dyno::start and the benches
  PORT=$("$REPO/test/support/free-port.sh")
}

# dyno_run LOG COMMAND [VAR=VALUE...]: COMMAND as a dyno of $APP (dyno::start), stale files cleared.
dyno_run() {
  dyno::clear_tmp
  dyno::start "$APP" "$@"
}

