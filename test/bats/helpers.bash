# shellcheck shell=bash
# Shared by the bats files: assertions, the repo's paths, and a loopback mirror of dist/vendor.
REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
load "$REPO/node_modules/bats-support/load"
load "$REPO/node_modules/bats-assert/load"

# Tests run the start scripts as a non-root user, as a dyno does (pgbouncer refuses root).
DYNO_USER=${DYNO_USER:-dyno}
ensure_dyno_user() {
  id "$DYNO_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$DYNO_USER"
}
as_dyno() { if ((EUID == 0)); then runuser -u "$DYNO_USER" -- "$@"; else "$@"; fi; }

# start_mirror: serves dist/vendor on loopback, logging requests to $MIRROR_LOG; sets MIRROR_URL.
start_mirror() {
  MIRROR_LOG="$BATS_FILE_TMPDIR/mirror.log"
  : >"$MIRROR_LOG"
  python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$REPO/dist/vendor" >"$BATS_FILE_TMPDIR/mirror.out" 2>"$MIRROR_LOG" &
  MIRROR_PID=$!
  local i
  for i in $(seq 100); do
    grep -qoE 'port [0-9]+' "$BATS_FILE_TMPDIR/mirror.out" 2>/dev/null && break
    sleep 0.05
  done
  MIRROR_URL="http://127.0.0.1:$(grep -oE 'port [0-9]+' "$BATS_FILE_TMPDIR/mirror.out" | head -n1 | cut -d' ' -f2)"
  export MIRROR_URL MIRROR_LOG MIRROR_PID
}
stop_mirror() { [[ -n ${MIRROR_PID:-} ]] && kill "$MIRROR_PID" 2>/dev/null || true; }
mirror_requests() { grep -c '"GET ' "$MIRROR_LOG" || true; }

# copy_buildpack DEST: the buildpack as a platform gets it: the files package.json declares it
# ships ("files"), and nothing else.
copy_buildpack() {
  local dest=$1 f
  mkdir -p "$dest"
  for f in $(python3 -c 'import json, sys; print("\n".join(json.load(open(sys.argv[1]))["files"]))' "$REPO/package.json"); do
    mkdir -p "$dest/$(dirname "$f")"
    cp -r "$REPO/$f" "$dest/$f"
  done
}

# compile_app STACK APP_SRC BUILD CACHE: runs bin/compile as Heroku does, against the mirror.
compile_app() {
  local stack=$1 src=$2 build=$3 cache=$4
  mkdir -p "$build" "$cache" "$BATS_FILE_TMPDIR/env"
  cp -r "$src/." "$build/"
  echo "$MIRROR_URL" >"$BATS_FILE_TMPDIR/env/BUILDPACK_VENDOR_URL"
  STACK=$stack "$REPO/bin/compile" "$build" "$cache" "$BATS_FILE_TMPDIR/env"
}

# make_test_work: a work dir the postgres and dyno users can traverse (bats' own are root-only);
# sets TEST_WORK. Also a bin dir with `python`, which Heroku's Python buildpack provides.
make_test_work() {
  TEST_WORK=$(mktemp -d /tmp/hbnp-test.XXXXXX)
  chmod 755 "$TEST_WORK"
  mkdir -p "$TEST_WORK/pybin"
  ln -s /usr/bin/python3 "$TEST_WORK/pybin/python"
  export TEST_WORK
}

# start_dyno SLUG COMMAND [VAR=VALUE...]: runs a Procfile command as the platform does: as the
# non-root dyno user, in a session of its own, with PORT, HOME and DATABASE_URL and nothing of
# ours. Sets DYNO_PID, PORT and DYNO_LOG.
start_dyno() {
  local slug=$1 command=$2
  shift 2
  PORT=$("$REPO/test/support/free-port.sh")
  DYNO_LOG="$TEST_WORK/dyno-$RANDOM.log"
  # The dyno's stdout must be its own: nginx reopens /dev/stdout for the access log.
  : >"$DYNO_LOG" && chown "$DYNO_USER" "$DYNO_LOG"
  as_dyno env -i PATH="$TEST_WORK/pybin:/usr/bin:/bin" HOME="$slug" PORT="$PORT" DATABASE_URL="$DATABASE_URL" "$@" \
    setsid bash -c "cd '$slug' && exec $command" >"$DYNO_LOG" 2>&1 &
  DYNO_PID=$!
}

# wait_http PATH: until the dyno answers 200 on PATH (Heroku's boot limit is 60 s).
wait_http() {
  local i
  for i in $(seq 600); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT$1" 2>/dev/null && return 0
    kill -0 "$DYNO_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$DYNO_LOG" >&3
  return 1
}

# Live processes of the dyno user (zombies are dead already; reaping them is init's job).
dyno_pids() { ps -u "$DYNO_USER" -o pid=,stat=,args= | awk '$2 !~ /^Z/' || true; }

# stop_dyno: as Heroku does: SIGTERM to every process of the dyno, SIGKILL 30 s later.
stop_dyno() {
  pkill -TERM -u "$DYNO_USER" || true
  local i
  for i in $(seq 300); do
    [[ -z $(dyno_pids) ]] && break
    sleep 0.1
  done
  pkill -KILL -u "$DYNO_USER" || true
  wait "${DYNO_PID:-}" 2>/dev/null || true
}

# Stale files of a dyno run as another user would stop the next one; clear ours.
clear_dyno_tmp() { rm -f /tmp/nginx.socket /tmp/app-initialized; }

# start_platform / stop_platform: what a suite of dynos needs around it: the dyno user, a mirror
# of the vendor artifacts, a work dir and a TLS-only PostgreSQL (DATABASE_URL, PG_DIR, PG_PORT).
start_platform() {
  ensure_dyno_user
  start_mirror
  make_test_work
  PG_DIR="$TEST_WORK/pg"
  PG_PORT=$("$REPO/test/support/free-port.sh")
  DATABASE_URL=$("$REPO/test/support/pg.sh" start "$PG_DIR" "$PG_PORT")
  export PG_DIR PG_PORT DATABASE_URL
}

stop_platform() {
  [[ -n $(dyno_pids) ]] && stop_dyno
  stop_mirror
  "$REPO/test/support/pg.sh" stop "$PG_DIR"
  rm -rf "$TEST_WORK"
}

# slug STACK: $APP_SRC compiled for STACK, moved from its build dir to another place, owned by dyno.
slug() {
  local stack=$1 build="$BATS_FILE_TMPDIR/build-$1" cache="$BATS_FILE_TMPDIR/cache-$1"
  if [[ ! -d $TEST_WORK/slug-$stack ]]; then
    compile_app "$stack" "$APP_SRC" "$build" "$cache" >/dev/null
    mv "$build" "$TEST_WORK/slug-$stack"
    chown -R "$DYNO_USER" "$TEST_WORK/slug-$stack"
  fi
  echo "$TEST_WORK/slug-$stack"
}

# boot_web SLUG [VAR=VALUE...]: the reference chain, booted and answering; sets WEB_PID, WEB_LOG.
boot_web() {
  local slug=$1
  shift
  clear_dyno_tmp
  start_dyno "$slug" "bin/start-nginx bin/start-pgbouncer-stunnel gunicorn --bind unix:/tmp/nginx.socket -w 2 wsgi:application" NGINX_WORKERS=2 "$@"
  WEB_PID=$DYNO_PID WEB_LOG=$DYNO_LOG
  wait_http /
}
