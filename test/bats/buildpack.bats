#!/usr/bin/env bats
# The buildpack end to end with the real vendored binaries: compile against a loopback mirror,
# move the slug, run the start scripts as a non-root user against a TLS-only PostgreSQL.
load helpers

setup_file() {
  load helpers
  start_platform
  TEST_PASSWORD=$("$REPO/test/support/pg.sh" password)
  APP_SRC="$BATS_FILE_TMPDIR/app-src"
  mkdir -p "$APP_SRC"
  cat >"$APP_SRC/wsgi.py" <<'PY'
import os, time
def application(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        # In flight when the dyno is told to stop: it still needs the pooler afterwards.
        time.sleep(2)
        import psycopg2
        with psycopg2.connect(os.environ["DATABASE_URL"]) as conn, conn.cursor() as cur:
            cur.execute("SELECT 'db-ok'")
            body = cur.fetchone()[0].encode()
    else:
        body = ("ok " + os.environ.get("DATABASE_URL", "").split("@")[-1]).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
PY
  export TEST_PASSWORD APP_SRC
}

teardown_file() { stop_platform; }

# slug STACK: a compiled slug for STACK, moved from its build dir to another place, owned by dyno.
slug() {
  local stack=$1 build="$BATS_FILE_TMPDIR/build-$1" cache="$BATS_FILE_TMPDIR/cache-$1"
  if [[ ! -d $TEST_WORK/slug-$stack ]]; then
    compile_app "$stack" "$APP_SRC" "$build" "$cache" >/dev/null
    mv "$build" "$TEST_WORK/slug-$stack"
    chown -R "$DYNO_USER" "$TEST_WORK/slug-$stack"
  fi
  echo "$TEST_WORK/slug-$stack"
}

@test "compile installs verified binaries and the start scripts, with Heroku-style output" {
  run compile_app heroku-24 "$APP_SRC" "$BATS_TEST_TMPDIR/build" "$BATS_TEST_TMPDIR/cache"
  assert_success
  assert_line "-----> Installing nginx, pgbouncer and stunnel for heroku-24"
  assert_line --regexp '^       nginx 1\.26\.3: .* downloaded, sha256 verified'
  assert_line --regexp '^       nginx -t: .* ok$'
  for f in bin/start-nginx bin/start-pgbouncer bin/start-pgbouncer-stunnel vendor/nginx/bin/nginx vendor/pgbouncer/bin/pgbouncer vendor/stunnel/bin/stunnel; do
    [[ -x $BATS_TEST_TMPDIR/build/$f ]] || fail "$f missing"
  done
  # A second compile with the same cache asks the mirror for nothing.
  local before
  before=$(mirror_requests)
  rm -rf "$BATS_TEST_TMPDIR/build"
  run compile_app heroku-24 "$APP_SRC" "$BATS_TEST_TMPDIR/build" "$BATS_TEST_TMPDIR/cache"
  assert_success
  assert_line --regexp 'nginx 1\.26\.3: .* from cache'
  assert_equal "$(mirror_requests)" "$before"
}

@test "cedar-14 with no Node on the build image: the bundle runs on the pinned Node 16" {
  local tools="$BATS_TEST_TMPDIR/tools" f
  mkdir -p "$tools"
  for f in /usr/local/bin/* /usr/bin/* /bin/*; do
    case ${f##*/} in node | nodejs | npm | npx | corepack) ;; *) ln -sf "$f" "$tools/" 2>/dev/null || true ;; esac
  done
  PATH=$tools run compile_app cedar-14 "$APP_SRC" "$BATS_TEST_TMPDIR/build" "$BATS_TEST_TMPDIR/cache"
  assert_success
  assert_line --partial "-----> Fetching node-16.20.2 to run the build"
  assert_line "-----> Installing nginx, pgbouncer and stunnel for cedar-14"
  run "$BATS_TEST_TMPDIR/cache/nginx-pgbouncer/compile-node/node-16.20.2-linux-x64/bin/node" --version
  assert_output "v16.20.2"
}

@test "unknown STACK fails the compile with the supported stacks named" {
  STACK=heroku-18 run "$REPO/bin/compile" "$BATS_TEST_TMPDIR/b" "$BATS_TEST_TMPDIR/c" "$BATS_TEST_TMPDIR"
  assert_failure
  assert_output --partial "heroku-18"
  assert_output --partial "cedar-14, heroku-20, heroku-22, heroku-24, heroku-26"
}

@test "the vendored binaries are static and run as a non-root user" {
  local s
  s=$(slug heroku-24)
  for f in nginx/bin/nginx pgbouncer/bin/pgbouncer stunnel/bin/stunnel; do
    run file "$s/vendor/$f"
    assert_output --partial "statically linked"
  done
  run as_dyno "$s/vendor/nginx/bin/nginx" -V
  assert_output --partial "nginx/1.26.3"
  assert_output --partial "with-http_v2_module"
  run as_dyno "$s/vendor/pgbouncer/bin/pgbouncer" --version
  assert_output --partial "tls: OpenSSL 3.5"
  run as_dyno "$s/vendor/stunnel/bin/stunnel" -version
  assert_output --partial "stunnel 5.68"
}

pooled_query() { # pooled_query SLUG SCRIPT: one query through the pooler, as the app would
  as_dyno env -i PATH=/usr/bin:/bin HOME="$1" DATABASE_URL="$DATABASE_URL" "$1/bin/$2" \
    bash -c 'psql "$DATABASE_URL" -Atc "select ssl, current_user from pg_stat_ssl where pid = pg_backend_pid()"; echo "URL=${DATABASE_URL%%\?*}"'
}

@test "start-pgbouncer: native TLS to PostgreSQL, DATABASE_URL rewritten, password never printed" {
  run pooled_query "$(slug heroku-24)" start-pgbouncer
  assert_success
  assert_line "t|app_user"
  assert_line --regexp '^URL=postgres://app_user:.*@%2Ftmp%2Fpgbouncer\.[A-Za-z0-9]+:6000/db1$'
  refute_output --partial "$TEST_PASSWORD"
}

@test "start-pgbouncer-stunnel: through stunnel's TLS, on the cedar-14 slug" {
  run pooled_query "$(slug cedar-14)" start-pgbouncer-stunnel
  assert_success
  assert_line "t|app_user"
  assert_output --partial "Service [db1] accepted connection"
  refute_output --partial "$TEST_PASSWORD"
}

@test "bad pooler settings stop the boot before the command runs" {
  local s
  s=$(slug heroku-24)
  run as_dyno env PGBOUNCER_POOL_MODE=bogus DATABASE_URL="$DATABASE_URL" "$s/bin/start-pgbouncer" echo RAN
  assert_failure
  assert_output --partial "PGBOUNCER_POOL_MODE must be one of: session transaction statement"
  refute_output --partial RAN
  run as_dyno env PGBOUNCER_DEFAULT_POOL_SIZE=many DATABASE_URL="$DATABASE_URL" "$s/bin/start-pgbouncer" echo RAN
  assert_failure
  assert_output --partial "PGBOUNCER_DEFAULT_POOL_SIZE must be a whole number"
  run as_dyno env PGBOUNCER_ENABLED=0 DATABASE_URL="$DATABASE_URL" "$s/bin/start-pgbouncer" echo RAN
  assert_success
  assert_line RAN
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

teardown() {
  [[ -n $(dyno_pids) ]] && stop_dyno
  return 0
}

@test "web: nginx answers on \$PORT in front of gunicorn, with the pooled DATABASE_URL" {
  boot_web "$(slug heroku-24)"
  run curl -fsS "http://127.0.0.1:$PORT/"
  assert_success
  assert_output --regexp '^ok %2Ftmp%2Fpgbouncer\.[A-Za-z0-9]+:6000/db1$'
  stop_dyno
}

@test "web: kill -9 of nginx ends the dyno non-zero within seconds, leaving nothing behind" {
  boot_web "$(slug heroku-24)"
  pkill -9 -u "$DYNO_USER" -f 'nginx: master' || pkill -9 -u "$DYNO_USER" -x nginx
  local started=$EPOCHREALTIME status=0
  wait "$WEB_PID" || status=$?
  ((status != 0)) || fail "exited 0 after nginx was killed"
  local ms=$(( (${EPOCHREALTIME/./} - ${started/./}) / 1000 ))
  echo "# dyno ended $ms ms after kill -9 of nginx" >&3
  ((ms <= 5000)) || fail "took $ms ms"
  sleep 0.5
  assert_equal "$(dyno_pids)" ""
}

@test "web: SIGTERM to every process at once finishes requests in flight, then everything exits" {
  boot_web "$(slug heroku-24)"
  curl -sS -o "$BATS_TEST_TMPDIR/slow.out" -w '%{http_code}' "http://127.0.0.1:$PORT/slow" >"$BATS_TEST_TMPDIR/slow.code" &
  local curl_pid=$! started
  sleep 0.5
  started=$SECONDS
  pkill -TERM -u "$DYNO_USER" || true
  wait "$WEB_PID" || true
  wait "$curl_pid" || true
  assert_equal "$(cat "$BATS_TEST_TMPDIR/slow.code")" "200"
  assert_equal "$(cat "$BATS_TEST_TMPDIR/slow.out")" "db-ok"
  ((SECONDS - started < 30)) || fail "shutdown took $((SECONDS - started)) s"
  sleep 0.5
  assert_equal "$(dyno_pids)" ""
}

@test "web: kill -9 of the app server, of pgbouncer or of stunnel ends the dyno non-zero within seconds" {
  local target status started
  for target in 'gunicorn' 'pgbouncer' 'stunnel'; do
    boot_web "$(slug heroku-24)"
    pkill -9 -o -u "$DYNO_USER" -f "$target" || fail "no $target"
    started=$SECONDS status=0
    wait "$WEB_PID" || status=$?
    ((status != 0)) || fail "exited 0 after $target was killed"
    ((SECONDS - started <= 5)) || fail "$target: took $((SECONDS - started)) s"
    stop_dyno
    [[ -z $(dyno_pids) ]] || fail "left behind after $target: $(dyno_pids)"
  done
}

@test "web: stale socket and ready file of a previous run are cleaned before the app starts" {
  as_dyno python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.bind("/tmp/nginx.socket")'
  as_dyno touch /tmp/app-initialized
  # Not boot_web: it would clear them first.
  start_dyno "$(slug heroku-24)" "bin/start-nginx bin/start-pgbouncer-stunnel gunicorn --bind unix:/tmp/nginx.socket wsgi:application"
  wait_http /
  [[ ! -e /tmp/app-initialized ]] || fail "the stale /tmp/app-initialized was not removed"
  stop_dyno
}

@test "web: an app that never binds the socket gets a clear message and a non-zero exit" {
  local s status=0
  s=$(slug heroku-24)
  run as_dyno env -i PATH=/usr/bin:/bin HOME="$s" PORT=5999 NGINX_APP_BOOT_TIMEOUT=2 bash -c "cd '$s' && exec bin/start-nginx sleep 60"
  assert_failure
  assert_output --partial "the app did not create /tmp/nginx.socket (or /tmp/app-initialized) within 2 s"
}

@test "the password never shows in ps while the dyno runs" {
  boot_web "$(slug heroku-24)"
  run ps -eo args
  refute_output --partial "$TEST_PASSWORD"
  stop_dyno
  run cat "$WEB_LOG"
  refute_output --partial "$TEST_PASSWORD"
}

@test "a start script under another reuses its pooler: one pgbouncer, the pooled URL everywhere" {
  local s
  s=$(slug heroku-24)
  run as_dyno env -i PATH=/usr/bin:/bin HOME="$s" DATABASE_URL="$DATABASE_URL" "$s/bin/start-pgbouncer" \
    "$s/bin/start-pgbouncer-stunnel" bash -c 'echo "count=$(pgrep -cx pgbouncer) stunnel=$(pgrep -cx stunnel || true)"; echo "url=${DATABASE_URL##*@}"'
  assert_success
  assert_line "count=1 stunnel=0"
  assert_line --regexp '^url=%2Ftmp%2Fpgbouncer\.[A-Za-z0-9]+:6000/db1$'
}

@test "one-off dyno with a terminal: the command gets the tty and the pooler goes away after it" {
  local s
  s=$(slug heroku-24)
  run as_dyno env -i PATH=/usr/bin:/bin HOME="$s" DATABASE_URL="$DATABASE_URL" TERM=dumb \
    script -qec "$s/bin/start-pgbouncer bash -c 'test -t 0 && echo has-tty; psql -P pager=off \"\$DATABASE_URL\" -Atc \"select 40+2\"'" /dev/null
  assert_success
  assert_output --partial has-tty
  assert_output --partial 42
  sleep 0.3
  assert_equal "$(dyno_pids)" ""
}

@test "start-nginx-solo serves the app's own config without an app, and refuses to run without one" {
  local s port body=""
  port=$("$REPO/test/support/free-port.sh")
  s=$(slug heroku-24)
  run as_dyno env -i PATH=/usr/bin:/bin HOME="$s" PORT="$port" "$s/bin/start-nginx-solo"
  assert_failure
  assert_output --partial "start-nginx-solo needs your own config/nginx.conf.erb"
  mkdir -p "$s/config"
  cat >"$s/config/nginx.conf.erb" <<'CONF'
daemon off;
events {}
http { access_log off; server { listen <%= ENV["PORT"] %>; location / { return 200 "solo <%= ENV.fetch('GREETING', 'hi') %>"; } } }
CONF
  chown -R "$DYNO_USER" "$s/config"
  as_dyno env -i PATH=/usr/bin:/bin HOME="$s" PORT="$port" GREETING=hello setsid "$s/bin/start-nginx-solo" >/dev/null 2>&1 &
  DYNO_PID=$!
  for _ in $(seq 100); do body=$(curl -fsS "http://127.0.0.1:$port/" 2>/dev/null) && break; sleep 0.05; done
  rm -rf "$s/config"
  stop_dyno
  assert_equal "$body" "solo hello"
}

@test "verify-full with the server's CA works in both modes; the wrong CA is refused" {
  local s script
  s=$(slug heroku-24)
  cp "$PG_DIR/ca.crt" "$s/db-ca.pem" && chown "$DYNO_USER" "$s/db-ca.pem"
  for script in start-pgbouncer start-pgbouncer-stunnel; do
    run as_dyno env -i PATH=/usr/bin:/bin HOME="$s" DATABASE_URL="$DATABASE_URL" PGBOUNCER_SERVER_TLS_SSLMODE=verify-full \
      PGBOUNCER_SERVER_TLS_CA_FILE="$s/db-ca.pem" "$s/bin/$script" bash -c 'psql -P pager=off "$DATABASE_URL" -Atc "select 1"; echo "via=${DATABASE_URL##*@}"'
    assert_success
    assert_line "1"
    assert_line --regexp '^via=%2Ftmp%2Fpgbouncer'
    assert_output --regexp 'TLS|SSL established|accepted connection'

    # The system CAs do not sign the test server's certificate: the connection must fail.
    run as_dyno env -i PATH=/usr/bin:/bin HOME="$s" DATABASE_URL="$DATABASE_URL" PGBOUNCER_SERVER_TLS_SSLMODE=verify-full \
      "$s/bin/$script" bash -c 'psql -P pager=off "$DATABASE_URL" -Atc "select 1" 2>&1; true'
    refute_line "1"
  done
}

@test "web: SIGTERM to the top process alone (docker stop, kill PID) also drains and ends everything" {
  boot_web "$(slug heroku-24)"
  curl -sS -o "$BATS_TEST_TMPDIR/slow.out" "http://127.0.0.1:$PORT/slow" &
  local c=$!
  sleep 0.5
  pkill -TERM -u "$DYNO_USER" -o -f 'bin/start-nginx' || fail "no start-nginx"
  wait "$WEB_PID" || true
  wait "$c" || true
  assert_equal "$(cat "$BATS_TEST_TMPDIR/slow.out")" "db-ok"
  sleep 0.3
  assert_equal "$(dyno_pids)" ""
}

@test "passwords with quotes, spaces and backslashes survive pgbouncer's config quoting" {
  local s enc
  s=$(slug heroku-24)
  "$REPO/test/support/pg.sh" psql "$PG_DIR" "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'q_user') THEN CREATE ROLE q_user LOGIN; END IF; END \$\$; ALTER ROLE q_user PASSWORD 'it''s a \"p\"''w\\x';"
  enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "it's a \"p\"'w\\x")
  run as_dyno env -i PATH=/usr/bin:/bin HOME="$s" DATABASE_URL="postgres://q_user:$enc@localhost:$PG_PORT/app_db" \
    "$s/bin/start-pgbouncer" bash -c 'psql -P pager=off "$DATABASE_URL" -Atc "select current_user"'
  assert_success
  assert_line "q_user"
}

@test "a broken config/nginx.conf.erb fails the build, not the dyno, with the line named" {
  local app="$BATS_TEST_TMPDIR/app"
  mkdir -p "$app/config"
  printf 'daemon off;\nworker_processes <%%= `nproc` %%>;\n' >"$app/config/nginx.conf.erb"
  run compile_app heroku-24 "$app" "$BATS_TEST_TMPDIR/b1" "$BATS_TEST_TMPDIR/cache"
  assert_failure
  assert_output --partial "config/nginx.conf.erb:2: unsupported ERB"
  printf 'daemon off;\nevents {}\nhttp { server { listen <%%= ENV["PORT"] %%> } }\n' >"$app/config/nginx.conf.erb"
  run compile_app heroku-24 "$app" "$BATS_TEST_TMPDIR/b2" "$BATS_TEST_TMPDIR/cache"
  assert_failure
  assert_output --partial "nginx -t rejected config/nginx.conf.erb"
}

@test "NGINX_WORKERS=0 or many stops the boot, naming the variable" {
  local s value
  s=$(slug heroku-24)
  for value in 0 many; do
    run as_dyno env -i PATH=/usr/bin:/bin HOME="$s" PORT=5998 NGINX_WORKERS="$value" "$s/bin/start-nginx" true
    assert_failure
    assert_output --partial "NGINX_WORKERS must be a whole number from 1 to 256 (it is '$value')"
  done
}

@test "a build directory the build cannot write to is a clear error, not a stack trace" {
  local ro="$TEST_WORK/read-only-build" cache="$TEST_WORK/dyno-cache"
  mkdir -p "$ro" "$cache" && chown "$DYNO_USER" "$cache" && chmod 555 "$ro"
  mkdir -p "$TEST_WORK/env" && echo "$MIRROR_URL" >"$TEST_WORK/env/BUILDPACK_VENDOR_URL"
  run as_dyno env STACK=heroku-24 PATH="$PATH" "$REPO/bin/compile" "$ro" "$cache" "$TEST_WORK/env"
  assert_failure
  assert_output --partial "cannot write"
  assert_output --partial "permission denied"
  refute_output --partial "    at "
}

@test "a full disk at compile time is a clear error, and the slug holds no half install" {
  local full="$TEST_WORK/full"
  mkdir -p "$full"
  mount -t tmpfs -o size=3M tmpfs "$full"
  run compile_app heroku-24 "$APP_SRC" "$full/build" "$BATS_TEST_TMPDIR/cache"
  local left
  left=$(ls -A "$full/build/vendor" 2>/dev/null || true)
  umount "$full"
  assert_failure
  assert_output --partial "no space left on the device"
  refute_output --partial "    at "
  assert_equal "$left" ""
}

@test "a stack missing from the vendor manifest fails the compile, naming what is missing" {
  local bp="$BATS_TEST_TMPDIR/bp"
  mkdir -p "$bp"
  cp -r "$REPO/bin" "$REPO/dist" "$REPO/vendor-manifest.json" "$bp/"
  mkdir -p "$bp/src" && cp -r "$REPO/src/runtime" "$bp/src/"
  python3 - "$bp/vendor-manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["stacks"]["heroku-22"] = [f for f in m["stacks"]["heroku-22"] if not f.startswith("pgbouncer")]
json.dump(m, open(sys.argv[1], "w"))
PY
  mkdir -p "$BATS_TEST_TMPDIR/env" && echo "$MIRROR_URL" >"$BATS_TEST_TMPDIR/env/BUILDPACK_VENDOR_URL"
  STACK=heroku-22 run "$bp/bin/compile" "$BATS_TEST_TMPDIR/b" "$BATS_TEST_TMPDIR/c" "$BATS_TEST_TMPDIR/env"
  assert_failure
  assert_output --partial "vendor-manifest.json has no pgbouncer artifact for heroku-22"
}
