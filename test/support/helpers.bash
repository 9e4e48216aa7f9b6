# shellcheck shell=bash
# What the bats files share: assertions, the repo's paths, the dyno harness (dyno.sh), and the
# platform a suite of dynos runs on.
REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
load "$REPO/node_modules/bats-support/load"
load "$REPO/node_modules/bats-assert/load"
# shellcheck source=test/support/dyno.sh
. "$REPO/test/support/dyno.sh"

# artifact::extract NAME DEST [PATH...]: the x64 artifact NAME (nginx, pgbouncer, stunnel) the
# factory built into artifacts/, unpacked into DEST (only PATH... when given). In the fast loop
# (npm run test:fast), which builds none, a suite that needs one is skipped, saying which.
artifact::extract() {
  local name=$1 dest=$2 tarball
  shift 2
  tarball=$(compgen -G "$REPO/artifacts/$name-*-linux-x64.tar.gz" | head -n1 || true)
  if [[ -z $tarball ]]; then
    [[ -n ${TEST_FAST:-} ]] || fail "artifacts/ has no $name artifact: run npm run vendor:build"
    skip "needs the factory's $name (npm run vendor:build), which the fast loop does not build"
  fi
  mkdir -p "$dest"
  tar -xzf "$tarball" -C "$dest" "$@"
}

# artifact::supervise DEST: the dyno's supervisor at DEST: the nginx artifact's, or in the fast loop
# one the host's cc builds from the same source (builds/supervisor), so that edits to it are tested
# in seconds.
artifact::supervise() {
  mkdir -p "$(dirname "$1")"
  if [[ -n ${TEST_FAST:-} ]]; then
    cc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$1" "$REPO"/builds/supervisor/*.c
  else
    artifact::extract nginx "$BATS_FILE_TMPDIR/supervise-from" ./libexec/supervise
    mv "$BATS_FILE_TMPDIR/supervise-from/libexec/supervise" "$1"
  fi
}

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

# compile_app STACK APP_SRC BUILD CACHE: app::compile with this file's env dir.
compile_app() { app::compile "$@" "$BATS_FILE_TMPDIR/env"; }

# make_test_work: a work dir the postgres and dyno users can traverse (bats' own are root-only);
# sets TEST_WORK. Also a bin dir with `python`, which Heroku's Python buildpack provides.
make_test_work() {
  TEST_WORK=$(mktemp -d /tmp/hbnp-test.XXXXXX)
  chmod 755 "$TEST_WORK"
  mkdir -p "$TEST_WORK/pybin"
  ln -s /usr/bin/python3 "$TEST_WORK/pybin/python"
  DYNO_PATH="$TEST_WORK/pybin:/usr/bin:/bin"
  export TEST_WORK DYNO_PATH
}

# start_dyno SLUG COMMAND [VAR=VALUE...]: dyno::start on a free port, logging into TEST_WORK.
start_dyno() {
  local slug=$1 command=$2
  shift 2
  # shellcheck disable=SC2034 # read by dyno.sh's dyno::start and the tests
  PORT=$("$REPO/test/support/free-port.sh")
  dyno::start "$slug" "$TEST_WORK/dyno-$RANDOM.log" "$command" "$@"
}

# start_platform / stop_platform: what a suite of dynos needs around it: the dyno user, a mirror
# of the vendor artifacts, a work dir and a TLS-only PostgreSQL (DATABASE_URL, PG_DIR, PG_PORT).
start_platform() {
  dyno::ensure_user
  mirror::start "$REPO/artifacts" "$BATS_FILE_TMPDIR"
  make_test_work
  PG_DIR="$TEST_WORK/pg"
  PG_PORT=$("$REPO/test/support/free-port.sh")
  DATABASE_URL=$("$REPO/test/support/pg.sh" start "$PG_DIR" "$PG_PORT")
  export PG_DIR PG_PORT DATABASE_URL
}

stop_platform() {
  [[ -n $(dyno::pids) ]] && dyno::stop
  mirror::stop
  "$REPO/test/support/pg.sh" stop "$PG_DIR"
  rm -rf "$TEST_WORK"
}

# slug STACK: $APP_SRC compiled for STACK, moved from its build dir to another place, owned by dyno.
slug() {
  local stack=$1 build="$BATS_FILE_TMPDIR/build-$1" cache="$BATS_FILE_TMPDIR/cache-$1"
  if [[ ! -d $TEST_WORK/slug-$stack ]]; then
    compile_app "$stack" "$APP_SRC" "$build" "$cache" >/dev/null
    app::slug "$build" "$TEST_WORK/slug-$stack"
  fi
  echo "$TEST_WORK/slug-$stack"
}

# boot_web SLUG [VAR=VALUE...]: the reference chain, booted and answering; sets WEB_PID, WEB_LOG.
boot_web() {
  local slug=$1
  shift
  dyno::clear_tmp
  start_dyno "$slug" "bin/start-nginx bin/start-pgbouncer-stunnel gunicorn --bind unix:/tmp/nginx.socket -w 2 wsgi:application" NGINX_WORKERS=2 "$@"
  # shellcheck disable=SC2034 # read by the bats files that boot a web dyno
  WEB_PID=$DYNO_PID WEB_LOG=$DYNO_LOG
  dyno::wait_http /
}

# django_slug SERVER STACK: the reference article's Django app (test/fixtures/django) with SERVER's
# files (gunicorn, uwsgi, waitress), compiled for STACK and moved; migrated once.
django_slug() {
  local server=$1 stack=$2 slug="$TEST_WORK/slug-$1-$2"
  if [[ ! -d $slug ]]; then
    local src="$TEST_WORK/src-$server"
    mkdir -p "$src"
    cp -r "$REPO/test/fixtures/django/." "$REPO/test/fixtures/$server/." "$src/"
    compile_app "$stack" "$src" "$TEST_WORK/build-$server-$stack" "$TEST_WORK/cache-$stack" >"$TEST_WORK/compile-$server-$stack.log" 2>&1 ||
      { cat "$TEST_WORK/compile-$server-$stack.log" >&3; return 1; }
    mv "$TEST_WORK/build-$server-$stack" "$slug"
    chown -R "$DYNO_USER" "$slug"
    dyno::as_user env -i PATH="$TEST_WORK/pybin:/usr/bin:/bin" HOME="$slug" DATABASE_URL="$DATABASE_URL" \
      bash -c "cd '$slug' && bin/start-pgbouncer python manage.py migrate --noinput" >/dev/null 2>&1
  fi
  echo "$slug"
}

# procfile SLUG TYPE: the command of TYPE in SLUG's Procfile.
procfile() { sed -n "s/^$2: *//p" "$1/Procfile"; }

# app_dir::claim / app_dir::release: /app for a suite that puts a slug there, as Heroku does. Only
# an /app the suite claimed is removed: bats runs teardown_file even when setup_file refused.
app_dir::claim() {
  [[ ! -e /app ]] || { echo "/app exists: these tests put a slug there, as Heroku does; move it away" >&2; return 1; }
  export APP_DIR_CLAIMED=1
}
app_dir::release() { [[ -z ${APP_DIR_CLAIMED:-} ]] || rm -rf /app; }

# stop_dyno_if_running: a test's teardown, for suites that start dynos.
stop_dyno_if_running() {
  [[ -n $(dyno::pids) ]] && dyno::stop
  return 0
}
