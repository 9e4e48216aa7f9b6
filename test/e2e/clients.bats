#!/usr/bin/env bats
# The database clients real apps use (Debian's, and node-postgres from npm), each with one real
# query through the pooler, given the rewritten DATABASE_URL as an app gets it: which form of the
# URL each reads, and whether it reached the private socket. The README's "Database clients" table
# is these results.
load ../support/helpers

setup_file() {
  load ../support/helpers
  start_platform
  APP_SRC="$REPO/test/fixtures/plain"
  CLIENTS="$TEST_WORK/clients"
  cp -r "$REPO/test/fixtures/clients" "$CLIENTS"
  # Go builds against Debian's packaged drivers, as GOPATH sources.
  (cd "$CLIENTS" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$TEST_WORK/gocache" go build -o clients-go clients.go)
  chown -R "$DYNO_USER" "$CLIENTS"
  export APP_SRC CLIENTS
}

teardown_file() { stop_platform; }

# The Rails test's Gemfile.lock must not outlive it: the slug is shared.
teardown() { rm -f "$TEST_WORK/slug-heroku-24/Gemfile.lock"; }

# clients SCRIPT [VAR=VALUE...]: every client's query under SCRIPT. Sets RESULTS (one line per
# client: "NAME VERSION ok" or "NAME VERSION failed: …") and LOGINS (the pooler's login lines:
# "@unix(" for the private socket, "@127.0.0.1:" for TCP).
clients() {
  local s script=$1 out="$TEST_WORK/clients.out"
  shift
  s=$(slug heroku-24)
  : >"$out" && chown "$DYNO_USER" "$out"
  # No connection check: its login would count among the clients'. Login lines on: LOGINS reads them.
  run dyno::as_user env -i PATH=/usr/bin:/bin HOME="$s" DATABASE_URL="$DATABASE_URL" NODE_PATH="$REPO/node_modules" PGBOUNCER_CONNECTION_CHECK=off \
    PGBOUNCER_LOG_CONNECTIONS=1 \
    LIBPQ_VERSION="$(dpkg-query -W -f '${Version}' golang-github-lib-pq-dev | cut -d- -f1)" \
    PGX_VERSION="$(dpkg-query -W -f '${Version}' golang-github-jackc-pgx-v4-dev | cut -d- -f1)" "$@" \
    "$s/bin/$script" bash -c "
      exec >>'$out'
      for c in psycopg2 psycopg dj-database-url django-environ sqlalchemy asyncpg; do
        timeout 20 python3 '$CLIENTS/clients.py' \$c || echo \"\$c timed out\"
      done
      timeout 30 ruby '$CLIENTS/clients.rb' 2>/dev/null || echo 'ruby timed out'
      timeout 20 node '$CLIENTS/clients.js' || echo 'node-postgres timed out'
      timeout 20 '$CLIENTS/clients-go' || echo 'go timed out'"
  assert_success
  RESULTS=$(<"$out")
  LOGINS=$(grep 'login attempt' <<<"$output" || true)
  refute_output --partial "$("$REPO/test/support/pg.sh" password)"
  # What each client did, for the README's table.
  sed 's/^/# /' <<<"$RESULTS" >&3
}

# ok CLIENT...: each client's query succeeded.
ok() {
  local c
  for c; do grep -qE "^$c [^ ]+ ok$" <<<"$RESULTS" || fail "$c: $(grep "^$c " <<<"$RESULTS")"; done
}

READERS_OF_QUERY_HOST="psycopg2 psycopg dj-database-url django-environ sqlalchemy asyncpg ruby-pg node-postgres lib/pq pgx"

@test "the default URL (query-host): every client but ActiveRecord reads it and reaches the private socket, in both modes" {
  local script
  for script in start-pgbouncer start-pgbouncer-stunnel; do
    clients "$script"
    ok $READERS_OF_QUERY_HOST
    grep -q '^activerecord [^ ]* failed: URI::InvalidURIError' <<<"$RESULTS" || fail "ActiveRecord: $RESULTS"
    # One login per client, each on the private socket.
    assert_equal "$(grep -c '@unix(' <<<"$LOGINS")" "$(wc -w <<<"$READERS_OF_QUERY_HOST")"
    assert_equal "$(grep -c '@127.0.0.1:' <<<"$LOGINS")" 0
  done
}

@test "PGBOUNCER_URL_FORM=encoded-host: ActiveRecord (and the clients that decode the host) on the private socket" {
  clients start-pgbouncer PGBOUNCER_URL_FORM=encoded-host
  ok activerecord ruby-pg psycopg2 psycopg dj-database-url asyncpg node-postgres
  assert_equal "$(grep -c '@unix(' <<<"$LOGINS")" 7
  assert_equal "$(grep -c '@127.0.0.1:' <<<"$LOGINS")" 0
}

@test "a Rails app (activerecord in its Gemfile.lock) gets encoded-host with nothing set: ActiveRecord on the private socket" {
  local s
  s=$(slug heroku-24)
  printf 'GEM\n  remote: https://rubygems.org/\n  specs:\n    activerecord (6.1.7)\n      activemodel (= 6.1.7)\n' >"$s/Gemfile.lock"
  clients start-pgbouncer-stunnel
  ok activerecord ruby-pg psycopg2 node-postgres
  assert_equal "$(grep -c '@127.0.0.1:' <<<"$LOGINS")" 0
}

# insist_on_tls [VAR=VALUE...]: psql, psycopg2 and node-postgres, each told to require TLS to the
# pooler (the tcp form's sslmode=disable turned into require; node-postgres's `ssl` option), as
# apps configured for a remote database are. Sets RESULTS and LOGINS as clients does.
insist_on_tls() {
  local s
  s=$(slug heroku-24)
  run dyno::as_user env -i PATH=/usr/bin:/bin HOME="$s" DATABASE_URL="$DATABASE_URL" NODE_PATH="$REPO/node_modules" \
    PGBOUNCER_CONNECTION_CHECK=off PGBOUNCER_LOG_CONNECTIONS=1 PGBOUNCER_URL_FORM=tcp "$@" "$s/bin/start-pgbouncer" bash -c '
      url=${DATABASE_URL/sslmode=disable/sslmode=require}
      echo "psql $(psql "$url" -Atc "select 1" 2>&1 | head -1)"
      python3 -c "import psycopg2, sys; c = psycopg2.connect(sys.argv[1]); print(\"psycopg2\", c.info.ssl_in_use)" "$url" 2>&1 | tail -1
      node -e "const { Client } = require(\"pg\"); const c = new Client({ connectionString: process.env.DATABASE_URL.replace(\"?sslmode=disable\", \"\"), ssl: { rejectUnauthorized: false } });
        c.connect().then(() => c.query(\"select 1 as one\")).then((r) => console.log(\"node-postgres\", r.rows[0].one)).catch((e) => console.log(\"node-postgres\", e.message)).finally(() => c.end().catch(() => {}));"'
  LOGINS=$(grep 'login attempt' <<<"$output" || true)
}

@test "clients that insist on TLS to the pooler get it on 127.0.0.1, with a certificate made at boot; PGBOUNCER_CLIENT_TLS=0 refuses them, as the anchor does" {
  insist_on_tls
  assert_success
  assert_line "psql 1"
  assert_line "psycopg2 True"
  assert_line "node-postgres 1"
  assert_equal "$(grep -c 'tls=TLSv1.3' <<<"$LOGINS")" 3
  insist_on_tls PGBOUNCER_CLIENT_TLS=0
  assert_line --partial "server does not support SSL"
  assert_line "node-postgres The server does not support SSL connections"
}

@test "PGBOUNCER_URL_FORM=tcp: every client, over 127.0.0.1 with the password check" {
  clients start-pgbouncer-stunnel PGBOUNCER_URL_FORM=tcp
  ok $READERS_OF_QUERY_HOST activerecord
  assert_equal "$(grep -c '@127.0.0.1:' <<<"$LOGINS")" 11
  assert_equal "$(grep -c '@unix(' <<<"$LOGINS")" 0
}
