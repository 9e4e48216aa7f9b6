#!/usr/bin/env bash
# `npm run demo [-- --check]`: compiles example/ (a small Django app with the reference article's
# Procfile) with this buildpack against a loopback mirror of the vendor artifacts, moves the slug as
# Heroku does, boots its web process as a non-root dyno user with a TLS-only PostgreSQL behind it,
# and prints the URL. Ctrl-C stops the dyno the way Heroku does (SIGTERM to every process).
#
# --check: the same, without a person: asks / and /db, requires 200 from both and a TLS server
# connection behind the pooler, stops everything, and fails if any of it is still running.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
# shellcheck source=builds/lib.sh
. builds/lib.sh
# shellcheck source=test/support/dyno.sh
. test/support/dyno.sh

CHECK=0
case ${1:-} in
  --check) CHECK=1 ;;
  "") ;;
  *) echo "usage: npm run demo [-- --check]" >&2; exit 2 ;;
esac
# Fixed ports, all below the kernel's ephemeral range (32768 and up), so no outgoing connection
# can hold one.
PORT=${PORT:-5000}
MIRROR_PORT=8769
PG_PORT=15439
WORK=${DEMO_DIR:-/tmp/hbnp-demo}
DYNO_PID=

prepare_machine() {
  step "Preparing this machine (Debian packages, npm packages, vendor artifacts)"
  bash support/setup-host.sh
  [[ -d node_modules ]] || npm ci --no-audit --no-fund >/dev/null
  # The demo runs this machine's binaries only: the other platform's build is npm test's to wait for.
  npm run -s vendor:build -- --this-platform
}

start_services() {
  rm -rf "$WORK/build" "$WORK/app" "$WORK/env" && mkdir -p "$WORK/env" && chmod 755 "$WORK"
  # shellcheck disable=SC2034 # read by dyno.sh's dyno::start
  DATABASE_URL=$(test/support/pg.sh start "$WORK/pg" "$PG_PORT")
  mirror::start artifacts "$WORK" "$MIRROR_PORT"
}

compile_example() {
  app::compile heroku-24 example "$WORK/build" "$WORK/cache" "$WORK/env"
  app::slug "$WORK/build" "$WORK/app"
}

boot_web() {
  local web
  web=$(sed -n 's/^web: *//p' "$WORK/app/Procfile")
  step "Booting web: $web"
  dyno::ensure_user
  dyno::clear_tmp
  dyno::start "$WORK/app" "$WORK/web.log" "$web"
  tail -n +1 -f "$WORK/web.log" --pid "$DYNO_PID" &
  dyno::wait_http /
}

# check_answers: / and /db answer 200, and /db's query went through the pooler over TLS.
check_answers() {
  local db
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/" || { echo "demo: / did not answer 200" >&2; return 1; }
  db=$(curl -fsS "http://127.0.0.1:$PORT/db") || { echo "demo: /db did not answer 200" >&2; return 1; }
  detail "/db: $db"
  [[ $db == *'"tls": true'* && $db == *'"via": "/tmp/pgbouncer.'* ]] ||
    { echo "demo: /db did not go through the pooler over TLS" >&2; return 1; }
}

# stop_all: the dyno as Heroku stops one (SIGTERM to all, SIGKILL 30 s later), then our services.
stop_all() {
  if [[ -n $DYNO_PID ]]; then
    dyno::stop
    DYNO_PID=
  fi
  mirror::stop
  test/support/pg.sh stop "$WORK/pg"
}

# check_nothing_left: no process of the dyno, the mirror or the database outlives the demo.
check_nothing_left() {
  local left
  left=$(ps -u "$DYNO_USER" -o pid=,args= || true)
  left+=$(pgrep -af "http.server $MIRROR_PORT" || true)
  left+=$(pgrep -af "postgres.*-D $WORK/pg/data" || true)
  if [[ -n $left ]]; then
    printf 'demo: still running after the stop:\n%s\n' "$left" >&2
    return 1
  fi
  detail "stopped: nothing left running"
}

main() {
  prepare_machine
  trap stop_all EXIT
  start_services
  compile_example
  boot_web
  step "The example app is up: http://127.0.0.1:$PORT/  (and /db: one query through the pooler)"
  if ((CHECK)); then
    check_answers
    stop_all
    trap - EXIT
    check_nothing_left
    step "Demo check passed"
  else
    curl -fsS "http://127.0.0.1:$PORT/db" || true
    detail "Ctrl-C to stop the dyno."
    wait "$DYNO_PID" || true
  fi
}

main "$@"
