#!/usr/bin/env bats
# Bad input, one case per test, through the real entry points: bin/compile as Heroku runs it, and
# the start scripts of a compiled slug run as the dyno user. Each must fail where the input is read,
# say what is wrong, where, and how to fix it, and show no secret, no trace and no half-done work.
load ../support/helpers

SECRET=secretpw-4f1c

setup_file() {
  load ../support/helpers
  dyno::ensure_user
  mirror::start "$REPO/artifacts" "$BATS_FILE_TMPDIR"
  make_test_work
  APP_SRC="$REPO/test/fixtures/plain"
  SLUG="$TEST_WORK/slug"
  compile_app heroku-24 "$APP_SRC" "$SLUG" "$TEST_WORK/cache" >/dev/null
  chown -R "$DYNO_USER" "$SLUG"
  export APP_SRC SLUG
}

teardown_file() {
  mirror::stop
  rm -rf "$TEST_WORK"
}

url() { printf 'postgres://app:%s@db.example.com:5432/d1' "$SECRET"; }

# dyno_runs SCRIPT VAR=VALUE...: a start script of the slug, as the dyno user, with only these vars
# (and PATH, HOME, PORT); the command it would start echoes COMMAND-RAN.
dyno_runs() {
  local script=$1
  shift
  run dyno::as_user env -i PATH=/usr/bin:/bin HOME="$SLUG" PORT=5995 "$@" "$SLUG/bin/$script" echo COMMAND-RAN
}

private_dirs() { find /tmp -maxdepth 1 \( -name 'pgbouncer.*' -o -name 'nginx.*' \) -user "$DYNO_USER" | wc -l; }

# refused TEXT...: the boot stopped before the command ran, saying each TEXT, with no secret, no
# shell error, and no private run directory left in /tmp.
refused() {
  assert_failure
  refute_output --partial COMMAND-RAN
  refute_output --partial "$SECRET"
  refute_output --regexp 'line [0-9]+:|unbound variable|syntax error|command not found'
  local text
  for text; do assert_output --partial "$text"; done
  assert_equal "$(private_dirs)" "$DIRS_BEFORE"
}

# compiles STACK ENV_DIR [APP]: bin/compile as Heroku runs it, into a fresh build dir ($BUILD).
compiles() {
  BUILD="$BATS_TEST_TMPDIR/build"
  mkdir -p "$BUILD" && cp -r "${3:-$APP_SRC}/." "$BUILD/"
  STACK=$1 run "$REPO/bin/compile" "$BUILD" "$BATS_TEST_TMPDIR/cache" "$2"
}

# compile_refused TEXT...: failed, saying each TEXT in Heroku's error format, with no stack trace,
# and the build dir holds exactly what the app brought.
compile_refused() {
  assert_failure
  assert_line --regexp '^ !     Error: '
  refute_output --partial "    at "
  refute_output --partial "$SECRET"
  local text
  for text; do assert_output --partial "$text"; done
  assert_equal "$(cd "$BUILD" && find . | sort)" "$(cd "$APP_SRC_USED" && find . | sort)"
}

env_dir() { # env_dir VAR=VALUE...: a fresh ENV_DIR holding the mirror's URL and these vars
  local dir="$BATS_TEST_TMPDIR/env" pair
  mkdir -p "$dir" && echo "$MIRROR_URL" >"$dir/BUILDPACK_VENDOR_URL"
  for pair; do printf '%s\n' "${pair#*=}" >"$dir/${pair%%=*}"; done
  echo "$dir"
}

setup() {
  DIRS_BEFORE=$(private_dirs)
  APP_SRC_USED=$APP_SRC
}

teardown() { rm -f "$SLUG/config/pgbouncer.ini"; }

# --- DATABASE_URL and PGBOUNCER_URLS, read by start-pgbouncer(-stunnel) at boot ----------------

@test "DATABASE_URL without a scheme" {
  dyno_runs start-pgbouncer-stunnel DATABASE_URL="app:$SECRET@db.example.com:5432/d1"
  refused "DATABASE_URL is not a postgres:// or postgresql:// URL" "postgres://USER:PASSWORD@HOST:PORT/DATABASE"
}

@test "DATABASE_URL with a non-postgres scheme" {
  dyno_runs start-pgbouncer DATABASE_URL="mysql://app:$SECRET@db.example.com:3306/d1"
  refused "DATABASE_URL is not a postgres:// or postgresql:// URL"
}

@test "DATABASE_URL without a host" {
  dyno_runs start-pgbouncer-stunnel DATABASE_URL="postgres://app:$SECRET@:5432/d1"
  refused "DATABASE_URL has no host" "postgres://USER:PASSWORD@HOST:PORT/DATABASE"
}

@test "DATABASE_URL with a port that is not a number" {
  dyno_runs start-pgbouncer DATABASE_URL="postgres://app:$SECRET@db.example.com:pg/d1"
  refused "DATABASE_URL has an invalid port" "a number from 1 to 65535"
}

@test "DATABASE_URL with a port out of range" {
  dyno_runs start-pgbouncer DATABASE_URL="postgres://app:$SECRET@db.example.com:70000/d1"
  refused "DATABASE_URL has an invalid port" "a number from 1 to 65535"
}

@test "DATABASE_URL with a bad percent-escape in the password" {
  dyno_runs start-pgbouncer-stunnel DATABASE_URL="postgres://app:${SECRET}%zz@db.example.com/d1"
  refused "DATABASE_URL has a malformed %-escape in its password" "%XX (two hex digits)"
}

@test "DATABASE_URL without a database name" {
  dyno_runs start-pgbouncer DATABASE_URL="postgres://app:$SECRET@db.example.com:5432/"
  refused "DATABASE_URL has no database name" "must end in /DATABASE"
}

@test "DATABASE_URL without a user name" {
  dyno_runs start-pgbouncer DATABASE_URL="postgres://:$SECRET@db.example.com/d1"
  refused "DATABASE_URL has no user name"
}

@test "DATABASE_URL with an unknown sslmode" {
  dyno_runs start-pgbouncer DATABASE_URL="$(url)?sslmode=always"
  refused "DATABASE_URL has an unknown sslmode" "verify-full"
}

@test "DATABASE_URL unset" {
  dyno_runs start-pgbouncer-stunnel
  refused "DATABASE_URL is not set: this app has no database attached" "heroku addons:create heroku-postgresql" "PGBOUNCER_ENABLED=0"
}

@test "DATABASE_URL empty" {
  dyno_runs start-pgbouncer DATABASE_URL=
  refused "DATABASE_URL is empty"
}

@test "PGBOUNCER_URLS naming a variable that is not set" {
  dyno_runs start-pgbouncer DATABASE_URL="$(url)" PGBOUNCER_URLS="DATABASE_URL HEROKU_POSTGRESQL_RED_URL"
  refused "HEROKU_POSTGRESQL_RED_URL is not set" "PGBOUNCER_URLS names it"
}

# --- config/pgbouncer.ini, the app's own pgbouncer settings ------------------------------------

# with_pgbouncer_ini LINE...: the slug's config/pgbouncer.ini holds these lines.
with_pgbouncer_ini() {
  mkdir -p "$SLUG/config"
  printf '%s\n' "$@" >"$SLUG/config/pgbouncer.ini"
}

@test "config/pgbouncer.ini: a setting pgbouncer does not have is named by pgbouncer" {
  with_pgbouncer_ini "[pgbouncer]" "connect_qeury = SET x = 1"
  dyno_runs start-pgbouncer DATABASE_URL="$(url)"
  refused "unknown parameter: pgbouncer/connect_qeury" "pgbouncer did not start"
}

@test "config/pgbouncer.ini: a setting the start script manages is refused, with the line" {
  with_pgbouncer_ini "; ours" "listen_port = 5432"
  dyno_runs start-pgbouncer-stunnel DATABASE_URL="$(url)"
  refused "config/pgbouncer.ini:2: listen_port is set by the start script" "Remove the line"
}

@test "config/pgbouncer.ini: a [databases] section cannot slip in a database of its own" {
  with_pgbouncer_ini "server_reset_query_always = 1" "[databases]" "evil = host=attacker.example.com"
  dyno_runs start-pgbouncer DATABASE_URL="$(url)"
  refused "config/pgbouncer.ini:2: only [pgbouncer] settings belong here"
}

@test "config/pgbouncer.ini: a setting that has a config var points to the var" {
  with_pgbouncer_ini "pool_mode = session"
  dyno_runs start-pgbouncer DATABASE_URL="$(url)"
  refused "config/pgbouncer.ini:1: pool_mode has its config var" "set PGBOUNCER_POOL_MODE instead"
}

# --- PGBOUNCER_* and NGINX_* numbers and choices ---------------------------------------------

@test "PGBOUNCER_DEFAULT_POOL_SIZE that is not a number" {
  dyno_runs start-pgbouncer DATABASE_URL="$(url)" PGBOUNCER_DEFAULT_POOL_SIZE=ten
  refused "PGBOUNCER_DEFAULT_POOL_SIZE must be a whole number from 1 to 10000 (it is 'ten')" "heroku config:set PGBOUNCER_DEFAULT_POOL_SIZE="
}

@test "PGBOUNCER_MAX_CLIENT_CONN of 0" {
  dyno_runs start-pgbouncer-stunnel DATABASE_URL="$(url)" PGBOUNCER_MAX_CLIENT_CONN=0
  refused "PGBOUNCER_MAX_CLIENT_CONN must be a whole number from 1 to 100000"
}

@test "PGBOUNCER_LISTEN_PORT so large it would wrap around in shell arithmetic" {
  dyno_runs start-pgbouncer DATABASE_URL="$(url)" PGBOUNCER_LISTEN_PORT=18446744073709557600
  refused "PGBOUNCER_LISTEN_PORT must be a whole number from 1 to 65535"
}

@test "PGBOUNCER_RESERVE_POOL_TIMEOUT that is not a number (while 08.5, with a leading zero, is one)" {
  # Accepted input next to the refusal: 08.5 must not be read as a bad octal number.
  dyno_runs start-pgbouncer DATABASE_URL="$(url)" PGBOUNCER_RESERVE_POOL_TIMEOUT=abc
  refused "PGBOUNCER_RESERVE_POOL_TIMEOUT must be seconds from 0 to 3600 (it is 'abc')"
  run dyno::as_user env -i PATH=/usr/bin:/bin bash -c \
    ". '$SLUG/vendor/nginx-pgbouncer/lib/common.sh' && settings::value PGBOUNCER_RESERVE_POOL_TIMEOUT 08.5 && echo \"\$_VALUE\""
  assert_success
  assert_output "08.5"
}

@test "PGBOUNCER_POOL_MODE that pgbouncer does not have" {
  dyno_runs start-pgbouncer DATABASE_URL="$(url)" PGBOUNCER_POOL_MODE=bogus
  refused "PGBOUNCER_POOL_MODE must be one of: session, transaction, statement (it is 'bogus')" "heroku config:set PGBOUNCER_POOL_MODE=transaction (the default)"
}

@test "NGINX_WORKERS=0" {
  dyno_runs start-nginx NGINX_WORKERS=0
  refused "NGINX_WORKERS must be auto, or a whole number from 1 to 256 (it is '0')" "heroku config:set NGINX_WORKERS=4"
}

@test "NGINX_WORKERS=many" {
  dyno_runs start-nginx NGINX_WORKERS=many
  refused "NGINX_WORKERS must be auto, or a whole number from 1 to 256 (it is 'many')"
}

@test "PORT that is not a number" {
  dyno_runs start-nginx PORT=web
  refused "PORT must be a port number from 1 to 65535 (it is 'web')"
}

@test "start scripts without a command" {
  run dyno::as_user env -i PATH=/usr/bin:/bin HOME="$SLUG" PORT=5995 DATABASE_URL="$(url)" "$SLUG/bin/start-pgbouncer-stunnel"
  refused "no command given" "Usage: bin/start-pgbouncer-stunnel COMMAND..."
}

# --- bin/compile: STACK, ENV_DIR, config vars, the app's nginx config, the manifest -------------

@test "unknown STACK" {
  compiles heroku-18 "$(env_dir)"
  compile_refused 'stack "heroku-18" is not supported' "cedar-14, heroku-20, heroku-22, heroku-24, heroku-26"
}

@test "empty STACK" {
  compiles "" "$(env_dir)"
  compile_refused "STACK is not set" "Supported stacks: cedar-14, heroku-20, heroku-22, heroku-24, heroku-26."
}

@test "an ENV_DIR that does not exist" {
  compiles heroku-24 "$BATS_TEST_TMPDIR/no-such-env"
  compile_refused "ENV_DIR $BATS_TEST_TMPDIR/no-such-env is not a directory" "pass an existing directory"
}

@test "BUILDPACK_VENDOR_URL that is not a URL (with a password in it)" {
  compiles heroku-24 "$(env_dir BUILDPACK_VENDOR_URL="mirror.example.com:$SECRET@vendor")"
  compile_refused "BUILDPACK_VENDOR_URL must be an http or https URL" "e.g. https://mirror.example.com/vendor"
}

@test "NGINX_VERSION that no pinned version satisfies" {
  compiles heroku-24 "$(env_dir NGINX_VERSION='^2')"
  compile_refused "no nginx version satisfies NGINX_VERSION=^2 on heroku-24" "Versions available: 1.26.3"
}

@test "PGBOUNCER_VERSION that is not a version range" {
  compiles heroku-24 "$(env_dir PGBOUNCER_VERSION='newest please')"
  compile_refused 'PGBOUNCER_VERSION="newest please" is not a version range'
}

@test "config/nginx.conf.erb whose Ruby fails: the line and Ruby's message" {
  APP_SRC_USED="$BATS_TEST_TMPDIR/app"
  mkdir -p "$APP_SRC_USED/config"
  printf 'daemon off;\nworker_processes <%%= ENV["UNSET_HERE"] + "1" %%>;\n' >"$APP_SRC_USED/config/nginx.conf.erb"
  compiles heroku-24 "$(env_dir)" "$APP_SRC_USED"
  compile_refused "config/nginx.conf.erb:2: undefined method '+' (NoMethodError)" "could not render config/nginx.conf.erb" "Fix what the lines above name (heroku config:set, config/pgbouncer.ini or config/nginx.conf.erb)"
}

@test "config/nginx.conf.erb that nginx -t rejects" {
  APP_SRC_USED="$BATS_TEST_TMPDIR/app"
  mkdir -p "$APP_SRC_USED/config"
  printf 'daemon off;\nevents {}\nhttp { server { listen <%%= ENV["PORT"] %%> } }\n' >"$APP_SRC_USED/config/nginx.conf.erb"
  compiles heroku-24 "$(env_dir)" "$APP_SRC_USED"
  compile_refused 'unexpected "}" in config/nginx.conf.erb (rendered):3' "nginx -t rejected config/nginx.conf.erb"
}

@test "config/nginx.conf.erb with a regex PCRE2 refuses (PCRE1 took it): the line, why, and what to write" {
  APP_SRC_USED="$BATS_TEST_TMPDIR/app"
  mkdir -p "$APP_SRC_USED/config"
  printf 'daemon off;\nevents {}\nhttp { server { listen <%%= ENV["PORT"] %%>;\n  location ~* ^/[\\w-.]+$ { return 204; } } }\n' >"$APP_SRC_USED/config/nginx.conf.erb"
  compiles heroku-24 "$(env_dir)" "$APP_SRC_USED"
  compile_refused "pcre2_compile() failed" "config/nginx.conf.erb (rendered):4" "a regular expression that PCRE2 refuses" "put last ([\w.-])"
}

@test "config/nginx.conf.erb using a module only another nginx has (uuid4, Lua, mruby): refused at build with what to use instead" {
  APP_SRC_USED="$BATS_TEST_TMPDIR/app"
  mkdir -p "$APP_SRC_USED/config"
  printf 'daemon off;\nevents {}\nhttp { server { listen <%%= ENV["PORT"] %%>;\n uuid4 $uuid;\n } }\n' >"$APP_SRC_USED/config/nginx.conf.erb"
  compiles heroku-24 "$(env_dir)" "$APP_SRC_USED"
  compile_refused "config/nginx.conf.erb:4: uuid4 is nginx-uuid4-module's" 'request_id'
  rm -rf "$BUILD"
  printf 'daemon off;\nevents {}\nhttp { lua_shared_dict x 1m; server { listen <%%= ENV["PORT"] %%>; } }\n' >"$APP_SRC_USED/config/nginx.conf.erb"
  compiles heroku-24 "$(env_dir)" "$APP_SRC_USED"
  compile_refused "config/nginx.conf.erb:3: Lua, mruby and PageSpeed need another nginx" "OpenResty"
}

@test "the build's nginx -t leaves nothing outside its run dir: not the pid file a config names, nor nginx's default temp dirs" {
  APP_SRC_USED="$BATS_TEST_TMPDIR/app"
  mkdir -p "$APP_SRC_USED/config" && cp -r "$APP_SRC/." "$APP_SRC_USED/"
  local pid=/tmp/hbnp-test-$$.pid log=/tmp/hbnp-test-$$.log
  printf 'daemon off;\npid %s;\nevents {}\nhttp { error_log %s; server { listen <%%= ENV["PORT"] %%>; location / { return 204; } } }\n' "$pid" "$log" >"$APP_SRC_USED/config/nginx.conf.erb"
  local before
  before=$(ls -d /tmp/nginx-* 2>/dev/null || true)
  compiles heroku-24 "$(env_dir)" "$APP_SRC_USED"
  assert_success
  assert_output --partial "nginx -t: config/nginx.conf.erb ok"
  [[ ! -e $pid && ! -e $log ]] || fail "the build left $(ls -l "$pid" "$log" 2>&1)"
  assert_equal "$(ls -d /tmp/nginx-* 2>/dev/null || true)" "$before"
}

@test "config/nginx.conf.erb's relative include names a file beside it, as under heroku-buildpack-nginx" {
  APP_SRC_USED="$BATS_TEST_TMPDIR/app"
  mkdir -p "$APP_SRC_USED/config" && cp -r "$APP_SRC/." "$APP_SRC_USED/"
  printf 'daemon off;\nevents {}\nhttp { include uwsgi_params; server { listen <%%= ENV["PORT"] %%>; include nginx.security-headers.conf; location / { return 204; } } }\n' >"$APP_SRC_USED/config/nginx.conf.erb"
  printf 'add_header X-Frame-Options DENY;\n' >"$APP_SRC_USED/config/nginx.security-headers.conf"
  compiles heroku-24 "$(env_dir)" "$APP_SRC_USED"
  assert_success
  assert_output --partial "nginx -t: config/nginx.conf.erb ok"
  rm -rf "$BUILD"
  rm "$APP_SRC_USED/config/nginx.security-headers.conf"
  compiles heroku-24 "$(env_dir)" "$APP_SRC_USED"
  compile_refused "nginx.security-headers.conf"
}

@test "a config var that would stop every dyno fails the build, named, before the deploy" {
  compiles heroku-24 "$(env_dir PGBOUNCER_POOL_MODE=transation DATABASE_URL="$(url)")"
  compile_refused "PGBOUNCER_POOL_MODE must be one of: session, transaction, statement (it is 'transation')" "Fix what the lines above name"
}

@test "the build judges a path under /app where the dyno will find it: in the slug being built" {
  APP_SRC_USED="$BATS_TEST_TMPDIR/app"
  mkdir -p "$APP_SRC_USED/config" && cp -r "$APP_SRC/." "$APP_SRC_USED/"
  echo "not a real CA" >"$APP_SRC_USED/config/db-ca.pem"
  compiles heroku-24 "$(env_dir PGBOUNCER_SERVER_TLS_CA_FILE=/app/config/db-ca.pem)" "$APP_SRC_USED"
  assert_success
  assert_line "       config vars: ok"
  rm -rf "$BUILD"
  compiles heroku-24 "$(env_dir PGBOUNCER_SERVER_TLS_CA_FILE=/app/config/missing.pem)" "$APP_SRC_USED"
  compile_refused "PGBOUNCER_SERVER_TLS_CA_FILE must be the path of a readable file (it is '/app/config/missing.pem')"
}

@test "config/pgbouncer.ini with a managed setting fails the build, with the line" {
  APP_SRC_USED="$BATS_TEST_TMPDIR/app"
  mkdir -p "$APP_SRC_USED/config" && cp -r "$APP_SRC/." "$APP_SRC_USED/"
  printf 'auth_type = trust\n' >"$APP_SRC_USED/config/pgbouncer.ini"
  compiles heroku-24 "$(env_dir)" "$APP_SRC_USED"
  compile_refused "config/pgbouncer.ini:1: auth_type is set by the start script"
}

@test "a vendor manifest with no pgbouncer for the stack" {
  local bp="$BATS_TEST_TMPDIR/bp"
  copy_buildpack "$bp"
  python3 - "$bp/vendor-manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["stacks"]["heroku-22"] = [f for f in m["stacks"]["heroku-22"] if not f.startswith("pgbouncer")]
json.dump(m, open(sys.argv[1], "w"))
PY
  BUILD="$BATS_TEST_TMPDIR/build"
  mkdir -p "$BUILD" && cp -r "$APP_SRC/." "$BUILD/"
  STACK=heroku-22 run "$bp/bin/compile" "$BUILD" "$BATS_TEST_TMPDIR/cache" "$(env_dir)"
  compile_refused "vendor-manifest.json has no pgbouncer artifact for heroku-22"
}
