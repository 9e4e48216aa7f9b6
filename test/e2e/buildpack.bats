#!/usr/bin/env bats
# The buildpack end to end with the real vendored binaries: compile against a loopback mirror,
# move the slug, run the start scripts as a non-root user against a TLS-only PostgreSQL.
load ../support/helpers

setup_file() {
  load ../support/helpers
  start_platform
  TEST_PASSWORD=$("$REPO/test/support/pg.sh" password)
  APP_SRC="$REPO/test/fixtures/plain"
  export TEST_PASSWORD APP_SRC
}

teardown_file() { stop_platform; }

@test "compile installs verified binaries and the start scripts, with Heroku-style output" {
  run compile_app heroku-24 "$APP_SRC" "$BATS_TEST_TMPDIR/build" "$BATS_TEST_TMPDIR/cache"
  assert_success
  assert_line "-----> Installing nginx, pgbouncer and stunnel for heroku-24"
  assert_line --regexp '^       nginx 1\.26\.3: .* downloaded, sha256 verified, SBOM matches'
  assert_line --regexp '^       nginx -t: .* ok$'
  for f in bin/start-nginx bin/start-pgbouncer bin/start-pgbouncer-stunnel vendor/nginx/bin/nginx vendor/pgbouncer/bin/pgbouncer vendor/stunnel/bin/stunnel; do
    [[ -x $BATS_TEST_TMPDIR/build/$f ]] || fail "$f missing"
  done
  # Where scanners of a slug look for an SBOM: beside each binary.
  for f in nginx pgbouncer stunnel; do
    grep -q '"bomFormat": "CycloneDX"' "$BATS_TEST_TMPDIR/build/vendor/$f/sbom.cdx.json" || fail "vendor/$f/sbom.cdx.json missing"
  done
  # A second compile with the same cache asks the mirror for nothing.
  local before
  before=$(mirror::requests)
  rm -rf "$BATS_TEST_TMPDIR/build"
  run compile_app heroku-24 "$APP_SRC" "$BATS_TEST_TMPDIR/build" "$BATS_TEST_TMPDIR/cache"
  assert_success
  assert_line --regexp 'nginx 1\.26\.3: .* from cache'
  assert_equal "$(mirror::requests)" "$before"
}

@test "an anchor buildpack still in the list wrote bin/start-pgbouncer: kept, and the fix is named" {
  local app="$BATS_TEST_TMPDIR/app"
  mkdir -p "$app/bin" && cp -r "$APP_SRC/." "$app/"
  printf '#!/bin/bash\n# heroku/pgbouncer'"'"'s\nexec "$@"\n' >"$app/bin/start-pgbouncer"
  run compile_app heroku-24 "$app" "$BATS_TEST_TMPDIR/build" "$BATS_TEST_TMPDIR/cache"
  assert_success
  assert_line " !     bin/start-pgbouncer is already in the app: keeping it, not installing ours."
  assert_line " !     If heroku/pgbouncer is still in the app's buildpacks (it writes this script), remove it: heroku buildpacks:remove heroku/pgbouncer"
  grep -q "heroku/pgbouncer's" "$BATS_TEST_TMPDIR/build/bin/start-pgbouncer"
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

@test "the vendored binaries are static and run as a non-root user" {
  local s
  s=$(slug heroku-24)
  for f in nginx/bin/nginx pgbouncer/bin/pgbouncer stunnel/bin/stunnel nginx/libexec/supervise pgbouncer/libexec/localhost-cert; do
    run file "$s/vendor/$f"
    assert_output --partial "statically linked"
  done
  run dyno::as_user "$s/vendor/nginx/bin/nginx" -V
  assert_output --partial "nginx/1.26.3"
  refute_output --partial "http_v2"
  run dyno::as_user "$s/vendor/pgbouncer/bin/pgbouncer" --version
  assert_output --partial "tls: OpenSSL 3.5"
  run dyno::as_user "$s/vendor/stunnel/bin/stunnel" -version
  assert_output --partial "stunnel 5.68"
}

pooled_query() { # pooled_query SLUG SCRIPT: one query through the pooler, as the app would
  dyno::as_user env -i PATH=/usr/bin:/bin HOME="$1" DATABASE_URL="$DATABASE_URL" "$1/bin/$2" \
    bash -c 'psql "$DATABASE_URL" -Atc "select ssl, current_user from pg_stat_ssl where pid = pg_backend_pid()"; echo "URL=$DATABASE_URL"'
}

@test "start-pgbouncer: native TLS to PostgreSQL, DATABASE_URL rewritten, password never printed" {
  run pooled_query "$(slug heroku-24)" start-pgbouncer
  assert_success
  refute_output --regexp ' (WARNING|ERROR|FATAL) '
  assert_line "t|app_user"
  assert_line --regexp '^URL=postgres://app_user:.*@/db1\?host=/tmp/pgbouncer\.[A-Za-z0-9]+&port=6000$'
  refute_output --partial "$TEST_PASSWORD"
}

@test "start-pgbouncer-stunnel: through stunnel's TLS, on the cedar-14 slug" {
  run pooled_query "$(slug cedar-14)" start-pgbouncer-stunnel
  assert_success
  assert_line "t|app_user"
  assert_output --partial "Service [db1] accepted connection"
  refute_output --partial "$TEST_PASSWORD"
}

@test "config/pgbouncer.ini and PGBOUNCER_CONNECT_QUERY reach pgbouncer" {
  local s
  s=$(slug heroku-24)
  mkdir -p "$s/config"
  printf '[pgbouncer]\n; more detail in the log\nverbose = 1\n' >"$s/config/pgbouncer.ini"
  local out="$TEST_WORK/connect-query.out"
  : >"$out" && chown "$DYNO_USER" "$out"
  run dyno::as_user env -i PATH=/usr/bin:/bin HOME="$s" DATABASE_URL="$DATABASE_URL" OUT="$out" \
    PGBOUNCER_CONNECT_QUERY="SET app.quoted = 'it''s set'" "$s/bin/start-pgbouncer" \
    bash -c 'psql "$DATABASE_URL" -Atc "select current_setting('"'"'app.quoted'"'"')" >"$OUT"'
  rm -f "$s/config/pgbouncer.ini"
  assert_success
  assert_output --partial " DEBUG "
  assert_equal "$(cat "$out")" "it's set"
}

@test "pool samples: one l2met line per pool each period, by dyno; cl_waiting rises while 30 clients share a pool of 1" {
  local s
  s=$(slug heroku-24)
  run dyno::as_user env -i PATH=/usr/bin:/bin HOME="$s" DYNO=web.1 DATABASE_URL="$DATABASE_URL" PGBOUNCER_STATS_PERIOD=1 PGBOUNCER_POOL_SAMPLES=1 \
    PGBOUNCER_LOG_CONNECTIONS=0 PGBOUNCER_LOG_DISCONNECTIONS=0 "$s/bin/start-pgbouncer" bash -c '
      psql "$DATABASE_URL" -Atc "select 1" >/dev/null; sleep 1.5
      for i in $(seq 30); do psql "$DATABASE_URL" -Atc "select pg_sleep(0.2)" >/dev/null & done; wait
      sleep 1.5'
  assert_success
  run grep 'database=db1' <<<"$output"
  echo "$output" | sed 's/^/# /' >&3
  # The form log-based metrics read, as Heroku's runtime metrics: the dyno as the source, the
  # database a tag; one line per pool and nothing else on it.
  local line
  while IFS= read -r line; do
    [[ $line =~ ^source=web\.1\ database=db1(\ sample#pgbouncer\.[a-z_]+=[0-9]+)+$ ]] || fail "not an l2met line: $line"
  done <<<"$output"
  assert_line --regexp 'sample#pgbouncer\.cl_waiting=0 .*sample#pgbouncer\.sv_idle=1( |$)'
  assert_line --regexp 'sample#pgbouncer\.cl_waiting=([1-9]|[12][0-9]) '
  ((${#lines[@]} >= 4)) || fail "only ${#lines[@]} samples in about 5 s at a period of 1 s"
}

@test "nginx samples: one l2met line each period, by dyno; requests counted exactly, slow requests seen as active" {
  boot_web "$(slug heroku-24)" DYNO=web.2 NGINX_SAMPLES=1 NGINX_SAMPLES_PERIOD=1
  nginx_samples() { grep -E '^source=web\.2 sample#nginx\.' "$WEB_LOG" || true; }
  wait_samples() { # wait_samples N: until N sample lines are logged
    for _ in $(seq 100); do (($(nginx_samples | wc -l) >= $1)) && return 0; sleep 0.1; done
    fail "fewer than $1 nginx samples after 10 s"
  }
  wait_samples 2
  local before
  before=$(nginx_samples | wc -l)
  # 6 slow requests (2 s each; 2 gunicorn workers: they stay open for seconds) and 30 quick ones.
  local slow=()
  for _ in $(seq 6); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/slow" & slow+=($!); done
  for _ in $(seq 30); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/"; done
  wait "${slow[@]}"
  # The next line's read comes after the last request: every one of them is counted by then.
  wait_samples $(($(nginx_samples | wc -l) + 1))
  run nginx_samples
  dyno::stop
  echo "$output" | sed 's/^/# /' >&3
  local line
  for line in "${lines[@]}"; do
    [[ $line =~ ^source=web\.2\ (sample#nginx\.connections\.(active|reading|writing|waiting)=[0-9]+\ ){4}count#nginx\.requests=[0-9]+\ count#nginx\.connections\.dropped=0$ ]] ||
      fail "not an l2met line: $line"
  done
  # Every request made after line $before is in the lines after it, and the sampler's own are not.
  local counted
  counted=$(printf '%s\n' "${lines[@]:before}" | sed -E 's/.*count#nginx\.requests=([0-9]+).*/\1/' | awk '{ n += $1 } END { print n }')
  assert_equal "$counted" 36
  assert_line --regexp 'sample#nginx\.connections\.active=([5-9]|[1-9][0-9]) sample#nginx\.connections\.reading=0 sample#nginx\.connections\.writing=([5-9]|[1-9][0-9]) '
  assert_line --index 0 --regexp 'active=0 .*writing=0 '
}

@test "the samplers run no child process: stopped mid-wait, they leave nothing for PID 1 to reap" {
  boot_web "$(slug heroku-24)" NGINX_SAMPLES=1 NGINX_SAMPLES_PERIOD=1 PGBOUNCER_STATS_PERIOD=1
  # A child of a sampler (a `sleep`, a psql) is orphaned when its sampler stops, and a PID 1 that
  # does not reap (this machine's, some containers') keeps it as a zombie.
  local samplers kids=""
  for _ in $(seq 30); do
    samplers=$(pgrep -d, -u "$DYNO_USER" -f 'libexec/supervise (pool|nginx)-samples') || fail "no sampler running"
    kids+=$(ps --ppid "$samplers" -o pid=,stat=,comm=,args= || true)
    sleep 0.1
  done
  dyno::stop
  assert_equal "$kids" ""
  assert_equal "$(ps -u "$DYNO_USER" -o pid=,stat=,args= || true)" ""
}

@test "bin/pgbouncer-console opens the running pooler's admin console, read-only; says so when none runs" {
  local s
  s=$(slug heroku-24)
  run dyno::as_user env -i PATH=/usr/bin:/bin HOME="$s" DATABASE_URL="$DATABASE_URL" "$s/bin/start-pgbouncer" \
    bash -c "psql \"\$DATABASE_URL\" -Atc 'select 1' >/dev/null; '$s/bin/pgbouncer-console' 'SHOW POOLS'; '$s/bin/pgbouncer-console' 'PAUSE db1' || true"
  assert_success
  assert_line --regexp '^ db1 +\| app_user +\|'
  assert_output --partial "admin access needed"
  run dyno::as_user env -i PATH=/usr/bin:/bin HOME="$s" "$s/bin/pgbouncer-console"
  assert_failure
  assert_output --partial "pgbouncer-console: error: no pooler is running in this dyno"
}

@test "PGBOUNCER_ENABLED=0 runs the command without a pooler; DATABASE_DIRECT_URL is there all the same" {
  run dyno::as_user env PGBOUNCER_ENABLED=0 DATABASE_URL="$DATABASE_URL" "$(slug heroku-24)/bin/start-pgbouncer" bash -c 'echo "URL=$DATABASE_URL"; echo "DIRECT=$DATABASE_DIRECT_URL"'
  assert_success
  assert_line "URL=$DATABASE_URL"
  assert_line "DIRECT=$DATABASE_URL"
}

teardown() {
  [[ -n $(dyno::pids) ]] && dyno::stop
  return 0
}

@test "web: nginx answers on \$PORT in front of gunicorn, with the pooled DATABASE_URL; readiness and the stop are said once each" {
  boot_web "$(slug heroku-24)"
  run curl -fsS "http://127.0.0.1:$PORT/"
  assert_success
  assert_output --regexp '^ok /db1\?host=/tmp/pgbouncer\.[A-Za-z0-9]+&port=6000$'
  dyno::stop
  run grep -E 'ready' "$WEB_LOG"
  assert_output "start-pgbouncer-stunnel: pooler ready on port 6000: transaction pooling, pool size 1 + reserve 1 per database, TLS by stunnel, server certificate not verified (sslmode require); rewrote DATABASE_URL
start-nginx: nginx ready on port $PORT, in front of /tmp/nginx.socket"
  # One supervisor for the chain: one stop, said once, under the outer script's name.
  run grep -E 'stopping|stopped \(exit status' "$WEB_LOG"
  assert_line --index 0 --regexp '^start-nginx: got SIGTERM: stopping \(up to 25 s\)$'
  assert_line --index 1 --regexp '^start-nginx: stopped \(exit status 0\)$'
  assert_equal "${#lines[@]}" 2
  # A clean boot and stop: no line at warning level or above from nginx, pgbouncer or stunnel.
  run quiet_log "$WEB_LOG"
  assert_output ""
}

# quiet_log LOG: the lines of LOG at warning level or above (nginx, pgbouncer, stunnel, ours).
quiet_log() { grep -E '\[(warn|error|crit|alert|emerg)\]| (WARNING|ERROR|FATAL|PANIC) |LOG[0-4]\[|: error: ' "$1" || true; }

@test "web: an app that binds \$PORT itself is named at once, with the fix for each server" {
  local started=$SECONDS
  start_dyno "$(slug heroku-24)" "bin/start-nginx bin/start-pgbouncer gunicorn wsgi:application"
  wait "$DYNO_PID" && fail "the dyno went on"
  run cat "$DYNO_LOG"
  assert_output --partial "start-nginx: error: the app is listening on port $PORT itself, where nginx must listen"
  assert_output --partial "gunicorn --bind unix:/tmp/nginx.socket"
  assert_output --partial "uWSGI: http-socket = /tmp/nginx.socket"
  assert_output --partial "waitress: serve(app, unix_socket='/tmp/nginx.socket')"
  refute_output --partial "Address already in use"
  # Long before NGINX_APP_BOOT_TIMEOUT (55 s), which was all it took to be told before.
  echo "# reported and stopped in $((SECONDS - started)) s" >&3
  ((SECONDS - started < 10)) || fail "took $((SECONDS - started)) s"
  assert_equal "$(dyno::pids)" ""
}

@test "web and worker on one machine (heroku local): the second pooler takes the next port, both run" {
  local s log1="$TEST_WORK/p1.log" log2="$TEST_WORK/p2.log"
  s=$(slug heroku-24)
  # Started together, as heroku local starts a Procfile's processes; each app outlives the other's start.
  dyno::as_user env -i PATH=/usr/bin:/bin HOME="$s" DATABASE_URL="$DATABASE_URL" "$s/bin/start-pgbouncer-stunnel" \
    bash -c 'sleep 2; psql "$DATABASE_URL" -Atc "select 1"' >"$log1" 2>&1 &
  dyno::as_user env -i PATH=/usr/bin:/bin HOME="$s" DATABASE_URL="$DATABASE_URL" "$s/bin/start-pgbouncer" \
    bash -c 'sleep 2; psql "$DATABASE_URL" -Atc "select 2"' >"$log2" 2>&1 &
  wait
  run cat "$log1" "$log2"
  assert_line 1
  assert_line 2
  assert_output --partial "pooler ready on port 6000"
  assert_output --partial "port 6000 is taken (another pooler on this machine?): pgbouncer listens on 6001"
  assert_output --partial "pooler ready on port 6001"
}

@test "web dyno, database away: the request fails inside the router's 30 s, and the pool recovers" {
  boot_web "$(slug heroku-24)" DYNO=web.1
  "$REPO/test/support/pg.sh" stop "$PG_DIR"
  local started=$SECONDS
  run curl -sS -o /dev/null -w '%{http_code}' --max-time 40 "http://127.0.0.1:$PORT/db"
  local took=$((SECONDS - started))
  "$REPO/test/support/pg.sh" start "$PG_DIR" "$PG_PORT" >/dev/null
  echo "# /db answered $output after $took s with the database away" >&3
  assert_output 500
  ((took < 25)) || fail "took $took s: the router would have given a 504"
  dyno::wait_http /db 10
  dyno::stop
}

@test "web: stale socket and ready file of a previous run are cleaned before the app starts" {
  dyno::as_user python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.bind("/tmp/nginx.socket")'
  dyno::as_user touch /tmp/app-initialized
  # Not boot_web: it would clear them first.
  start_dyno "$(slug heroku-24)" "bin/start-nginx bin/start-pgbouncer-stunnel gunicorn --bind unix:/tmp/nginx.socket wsgi:application"
  dyno::wait_http /
  [[ ! -e /tmp/app-initialized ]] || fail "the stale /tmp/app-initialized was not removed"
  dyno::stop
}

@test "a start script under another reuses its pooler: one pgbouncer, the pooled URL everywhere" {
  local s
  s=$(slug heroku-24)
  run dyno::as_user env -i PATH=/usr/bin:/bin HOME="$s" DATABASE_URL="$DATABASE_URL" "$s/bin/start-pgbouncer" \
    "$s/bin/start-pgbouncer-stunnel" bash -c 'echo "count=$(pgrep -c -u "$(id -u)" -x pgbouncer) stunnel=$(pgrep -c -u "$(id -u)" -x stunnel || true)"; echo "url=${DATABASE_URL##*@}"'
  assert_success
  assert_line "count=1 stunnel=0"
  assert_line --regexp '^url=/db1\?host=/tmp/pgbouncer\.[A-Za-z0-9]+&port=6000$'
}

@test "one-off dyno with a terminal: the command gets the tty and the pooler goes away after it" {
  local s
  s=$(slug heroku-24)
  run dyno::as_user env -i PATH=/usr/bin:/bin HOME="$s" DATABASE_URL="$DATABASE_URL" TERM=dumb \
    script -qec "$s/bin/start-pgbouncer bash -c 'test -t 0 && echo has-tty; psql -P pager=off \"\$DATABASE_URL\" -Atc \"select 40+2\"'" /dev/null
  assert_success
  assert_output --partial has-tty
  assert_output --partial 42
  sleep 0.3
  assert_equal "$(dyno::pids)" ""
}

@test "start-nginx-solo (and -static) serve the app's own config without an app, and refuse to run without one" {
  local s port body="" script
  port=$("$REPO/test/support/free-port.sh")
  s=$(slug heroku-24)
  for script in start-nginx-solo start-nginx-static; do
    run dyno::as_user env -i PATH=/usr/bin:/bin HOME="$s" PORT="$port" "$s/bin/$script"
    assert_failure
    assert_output --partial "$script needs your own config/nginx.conf.erb"
  done
  mkdir -p "$s/config"
  cat >"$s/config/nginx.conf.erb" <<'CONF'
daemon off;
events {}
http { access_log off; server { listen <%= ENV["PORT"] %>; location / { return 200 "solo <%= ENV.fetch('GREETING', 'hi') %>"; } } }
CONF
  chown -R "$DYNO_USER" "$s/config"
  # With nginx samples asked for: this config has no stub_status location, which is said once.
  dyno::as_user env -i PATH=/usr/bin:/bin HOME="$s" PORT="$port" GREETING=hello NGINX_SAMPLES=1 setsid "$s/bin/start-nginx-solo" >"$TEST_WORK/solo.log" 2>&1 &
  DYNO_PID=$!
  for _ in $(seq 100); do body=$(curl -fsS "http://127.0.0.1:$port/" 2>/dev/null) && break; sleep 0.05; done
  sleep 0.5
  rm -rf "$s/config"
  dyno::stop
  assert_equal "$body" "solo hello"
  run grep -c 'nginx-samples: no stub_status at 127.0.0.1:' "$TEST_WORK/solo.log"
  assert_output 1
}

@test "start-nginx-debug: the same nginx, its debug log on in the default config" {
  dyno::clear_tmp
  start_dyno "$(slug heroku-24)" "bin/start-nginx-debug gunicorn --bind unix:/tmp/nginx.socket wsgi:application"
  dyno::wait_http /
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/"
  dyno::stop
  run grep -F 'start-nginx: nginx ready' "$DYNO_LOG"
  assert_output "start-nginx: nginx ready on port $PORT, in front of /tmp/nginx.socket, debug log on"
  # nginx's debug lines for a request, which a build without --with-debug cannot print.
  run grep -E '\[debug\] [0-9]+#[0-9]+: \*[0-9]+ http request line: "GET / HTTP/1.1"' "$DYNO_LOG"
  assert_success
}

@test "verify-full with the server's CA works in both modes; the wrong CA is refused" {
  local s script
  s=$(slug heroku-24)
  cp "$PG_DIR/ca.crt" "$s/db-ca.pem" && chown "$DYNO_USER" "$s/db-ca.pem"
  for script in start-pgbouncer start-pgbouncer-stunnel; do
    run dyno::as_user env -i PATH=/usr/bin:/bin HOME="$s" DATABASE_URL="$DATABASE_URL" PGBOUNCER_SERVER_TLS_SSLMODE=verify-full \
      PGBOUNCER_SERVER_TLS_CA_FILE="$s/db-ca.pem" "$s/bin/$script" bash -c 'psql -P pager=off "$DATABASE_URL" -Atc "select 1"; echo "via=${DATABASE_URL##*@}"'
    assert_success
    assert_line "1"
    assert_line --regexp '^via=/db1\?host=/tmp/pgbouncer'
    assert_output --regexp 'TLS|SSL established|accepted connection'

    # The system CAs do not sign the test server's certificate: the connection must fail. (The
    # first client of a pool that never logged in waits out pgbouncer's client_login_timeout,
    # 60 s: psql gives up sooner.)
    run dyno::as_user env -i PATH=/usr/bin:/bin HOME="$s" DATABASE_URL="$DATABASE_URL" PGBOUNCER_SERVER_TLS_SSLMODE=verify-full \
      "$s/bin/$script" bash -c 'PGCONNECT_TIMEOUT=3 psql -P pager=off "$DATABASE_URL" -Atc "select 1" 2>&1; true'
    refute_line "1"
    assert_output --partial "certificate verify failed"
  done
}

@test "web: SIGTERM to the top process alone (docker stop, kill PID) also drains and ends everything" {
  boot_web "$(slug heroku-24)"
  curl -sS -o "$BATS_TEST_TMPDIR/slow.out" "http://127.0.0.1:$PORT/slow" &
  local c=$!
  sleep 0.5
  pkill -TERM -u "$DYNO_USER" -o -f 'libexec/supervise ' || fail "no supervisor"
  wait "$WEB_PID" || true
  wait "$c" || true
  assert_equal "$(cat "$BATS_TEST_TMPDIR/slow.out")" "db-ok"
  sleep 0.3
  assert_equal "$(dyno::pids)" ""
}

@test "passwords with quotes, spaces and backslashes survive pgbouncer's config quoting" {
  local s enc
  s=$(slug heroku-24)
  "$REPO/test/support/pg.sh" psql "$PG_DIR" "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'q_user') THEN CREATE ROLE q_user LOGIN; END IF; END \$\$; ALTER ROLE q_user PASSWORD 'it''s a \"p\"''w\\x';"
  enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "it's a \"p\"'w\\x")
  run dyno::as_user env -i PATH=/usr/bin:/bin HOME="$s" DATABASE_URL="postgres://q_user:$enc@localhost:$PG_PORT/app_db" \
    "$s/bin/start-pgbouncer" bash -c 'psql -P pager=off "$DATABASE_URL" -Atc "select current_user"'
  assert_success
  assert_line "q_user"
}
