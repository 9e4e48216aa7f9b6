# shellcheck shell=bash
# shellcheck disable=SC2034 # _SETTING is read by the scripts that source this
# Every config var the start scripts read, in one list: name, default, what it accepts, where it
# comes from, and what it means. settings::read checks them all at boot and keeps the values in
# _SETTING; the build runs the same check on ENV_DIR (the start scripts' --check-config), and the
# README's table is printed from this list (support/config-var-table.sh): none of them can drift.
#
# What a setting accepts (CHECK), as loosely as the program it feeds does:
#   int:MIN:MAX      a whole number
#   seconds:MAX      seconds, decimals allowed ("3600.0", as pgbouncer's parser reads it)
#   choice:A,B,...   one of the words, in any case ("Transaction"), kept in lower case
#   workers          "auto" or a whole number from 1 to 256 (nginx's worker_processes)
#   switch           on for 1, true, yes or on (any case), off for anything else
#   names            config var names separated by spaces
#   tz               a time zone name, or empty for the server's own
#   file             a readable file, or empty
#   text             anything
# ORIGIN: pgbouncer or nginx when the var means what it means in heroku-buildpack-pgbouncer or
# heroku-buildpack-nginx (same name, same default); pgbouncer-other-default or
# nginx-other-default when only our default differs (ABOUT says why); ours when it is new here.
declare -A _SETTING=() _SETTING_DEFAULT=() _SETTING_CHECK=() _SETTING_ORIGIN=() _SETTING_ABOUT=()
# Defaults that differ on web dynos (DYNO=web.N), which must answer inside the router's 30 s.
declare -A _SETTING_WEB_DEFAULT=()
_SETTING_NAMES=()
# libpq's sslmodes, weakest first.
_SSLMODES_BY_STRENGTH=(disable allow prefer require verify-ca verify-full)

settings::define() { # settings::define NAME DEFAULT CHECK ORIGIN ABOUT
  _SETTING_NAMES+=("$1")
  _SETTING_DEFAULT[$1]=$2 _SETTING_CHECK[$1]=$3 _SETTING_ORIGIN[$1]=$4 _SETTING_ABOUT[$1]=$5
}

settings::define PGBOUNCER_ENABLED 1 switch pgbouncer "off runs the command without a pooler"
settings::define PGBOUNCER_URLS DATABASE_URL names pgbouncer "config vars to pool, as \`db1\`, \`db2\`, … in this order"
settings::define PGBOUNCER_POOL_MODE transaction choice:session,transaction,statement pgbouncer ""
settings::define PGBOUNCER_SERVER_RESET_QUERY "" text pgbouncer "\`DISCARD ALL\` when empty in session mode"
settings::define PGBOUNCER_AUTH_TYPE scram-sha-256 choice:scram-sha-256,md5,plain,trust pgbouncer "client auth on 127.0.0.1 (the private socket needs none)"
settings::define PGBOUNCER_SERVER_TLS_SSLMODE "" "choice:$(IFS=,; echo "${_SSLMODES_BY_STRENGTH[*]}")" pgbouncer "empty: the URL's \`sslmode\`, else \`require\`; \`verify-*\` check the server's certificate; with \`start-pgbouncer\` and several URLs, the strictest of theirs"
settings::define PGBOUNCER_SERVER_TLS_CA_FILE "" file ours "CA bundle for \`verify-*\`, in both modes (empty: the system's)"
settings::define PGBOUNCER_MAX_CLIENT_CONN 100 int:1:100000 pgbouncer ""
settings::define PGBOUNCER_DEFAULT_POOL_SIZE 1 int:1:10000 pgbouncer "server connections per database and user, per dyno"
settings::define PGBOUNCER_MIN_POOL_SIZE 0 int:0:10000 pgbouncer ""
settings::define PGBOUNCER_RESERVE_POOL_SIZE 1 int:0:10000 pgbouncer ""
settings::define PGBOUNCER_RESERVE_POOL_TIMEOUT 5.0 seconds:3600 pgbouncer ""
settings::define PGBOUNCER_SERVER_LIFETIME 3600 seconds:604800 pgbouncer ""
settings::define PGBOUNCER_SERVER_IDLE_TIMEOUT 600 seconds:604800 pgbouncer ""
settings::define PGBOUNCER_QUERY_WAIT_TIMEOUT 120 seconds:86400 pgbouncer "how long a client waits for a server connection: on a web dyno, a database that is away gives an error inside the router's 30 s rather than a 504; workers wait as in heroku-buildpack-pgbouncer"
_SETTING_WEB_DEFAULT[PGBOUNCER_QUERY_WAIT_TIMEOUT]=10
settings::define PGBOUNCER_SERVER_LOGIN_RETRY 1 seconds:3600 ours "between attempts to reach a database that is away; pgbouncer's own 15 kept the app failing for up to 15 s after a restart had finished"
settings::define PGBOUNCER_MAX_PREPARED_STATEMENTS 200 int:0:100000 pgbouncer-other-default "protocol-level prepared statements pgbouncer tracks per connection in transaction mode: asyncpg and psycopg 3 prepare statements, and collide in a shared server connection at 0 (heroku-buildpack-pgbouncer's default; 200 is pgbouncer's own)"
settings::define PGBOUNCER_PREPARED_STATEMENTS "" text pgbouncer "\`false\` appends \`?prepared_statements=false\` to the pooled URL (Rails)"
settings::define PGBOUNCER_LOG_CONNECTIONS 0 int:0:1 pgbouncer-other-default "a line per client login (heroku-buildpack-pgbouncer's default is 1): with Django's default \`CONN_MAX_AGE=0\` that is a line per request in your logs"
settings::define PGBOUNCER_LOG_DISCONNECTIONS 0 int:0:1 pgbouncer-other-default "a line per client logout (heroku-buildpack-pgbouncer's default is 1), as for \`PGBOUNCER_LOG_CONNECTIONS\`"
settings::define PGBOUNCER_LOG_POOLER_ERRORS 1 int:0:1 pgbouncer ""
settings::define PGBOUNCER_STATS_PERIOD 60 int:1:86400 pgbouncer "seconds between pgbouncer's stats lines, and between pool samples"
settings::define PGBOUNCER_CONNECTION_CHECK warn choice:warn,refuse,off ours "at boot, through the pool's first server connection: this dyno's most server connections per database (pool + reserve) against the room left in the database (the tightest of \`max_connections\` less its reserved slots, the role's and the database's connection limits, and \`PGBOUNCER_CONNECTION_BUDGET\`, less the connections in use); \`refuse\` stops the boot when they do not fit ([Many dynos](#many-dynos-one-database))"
settings::define PGBOUNCER_CONNECTION_BUDGET 0 int:0:100000 ours "the most connections the database's user may hold on each database, all dynos together, where less than the database allows (room kept for other apps and \`heroku pg:psql\`); 0: none of our own"
settings::define PGBOUNCER_POOL_SAMPLES 1 switch ours "one line per pool every \`PGBOUNCER_STATS_PERIOD\`, in l2met form (\`source=web.1 database=db1 sample#pgbouncer.cl_waiting=0 …\`), for log-based metrics (0: none)"
settings::define PGBOUNCER_IGNORE_STARTUP_PARAMETERS extra_float_digits text pgbouncer-other-default "startup parameters pgbouncer lets through: Go's lib/pq and JDBC send \`extra_float_digits\`, which pgbouncer refuses otherwise (heroku-buildpack-pgbouncer's default is empty)"
settings::define PGBOUNCER_URL_FORM query-host choice:query-host,encoded-host,tcp ours "how the rewritten URL names the pooler ([which clients read which](#database-clients)): \`query-host\` (\`…@/db1?host=/tmp/pgbouncer.X&port=6000\`), \`encoded-host\` (\`…@%2Ftmp%2Fpgbouncer.X:6000/db1\`, for Rails), \`tcp\` (\`…@127.0.0.1:6000/db1\`, any client, a password check per new connection)"
settings::define PGBOUNCER_CLIENT_TLS 1 switch ours "TLS on 127.0.0.1 for the app's clients that ask for it (node-postgres with \`ssl\`, \`sslmode=require\`), with a certificate made at boot for this dyno; clients that do not ask are unchanged (0: none, as in heroku-buildpack-pgbouncer: \"server does not support SSL\")"
settings::define PGBOUNCER_LISTEN_PORT 6000 int:1:65535 ours "pgbouncer's port on 127.0.0.1 (6000 in heroku-buildpack-pgbouncer, fixed)"
settings::define PGBOUNCER_CONNECT_QUERY "" text ours "SQL run on every new server connection (pgbouncer's per-database \`connect_query\`, asked for in heroku-buildpack-pgbouncer's PR #158)"
settings::define PGBOUNCER_SERVER_TIMEZONE UTC tz ours "set on server connections, so Django skips its \`SET TIME ZONE\` per connection; empty keeps the server's"
settings::define PGBOUNCER_STUNNEL_LOGLEVEL notice choice:emerg,alert,crit,err,warning,notice,info,debug pgbouncer "stunnel mode"
settings::define PGBOUNCER_CONNECTION_RETRY no choice:yes,no pgbouncer "stunnel's \`retry\`"
settings::define ENABLE_STUNNEL_AMAZON_RDS_FIX "" text pgbouncer "any value sets stunnel's \`options = NO_TICKET\`"
settings::define NGINX_WORKERS 4 workers nginx ""
settings::define NGINX_WORKER_CONNECTIONS 1024 int:16:65535 nginx ""
settings::define NGINX_ACCESS_LOG_PATH "" text nginx "empty: stdout"
settings::define NGINX_ERROR_LOG_PATH "" text nginx "empty: stderr"
settings::define NGINX_ERROR_LOG_LEVEL warn choice:debug,info,notice,warn,error,crit,alert,emerg ours "nginx's \`error_log\` level in the default config"
settings::define NGINX_CLIENT_MAX_BODY_SIZE 100 int:0:100000 nginx-other-default "megabytes (heroku-buildpack-nginx's config writes it as \`…M\`, and so does ours); its default of 1 rejected ordinary uploads; 0: no limit"
settings::define NGINX_CLIENT_BODY_TIMEOUT 10 int:1:3600 nginx-other-default "seconds to read a request body (heroku-buildpack-nginx's config has 5)"
settings::define NGINX_SAMPLES 0 switch ours "1: one line every \`NGINX_SAMPLES_PERIOD\` from nginx's stub_status, in l2met form (\`sample#nginx.connections.active=5 … count#nginx.requests=120\`), for log-based metrics; an own config needs [the location](#seeing-nginx)"
settings::define NGINX_SAMPLES_PERIOD 60 int:1:86400 ours "seconds between nginx samples"
settings::define NGINX_PROXY_READ_TIMEOUT 30 int:1:3600 ours "seconds; Heroku's router gives up at 30"
settings::define NGINX_SHUTDOWN_TIMEOUT 25 int:1:3600 ours "seconds nginx gives requests in flight after SIGTERM"
settings::define NGINX_APP_BOOT_TIMEOUT 55 int:1:3600 ours "seconds to wait for the app's socket"
settings::define NGINX_PGBOUNCER_STOP_TIMEOUT 25 int:1:3600 ours "seconds after the stop begins (SIGTERM) before what is left is killed: one deadline for the whole dyno"
settings::define FORCE "" text nginx "any value: start nginx without waiting for the app (as \`-f\`)"

# Defaults that differ for a Rails app: ActiveRecord reads DATABASE_URL with Ruby's URI parser,
# which refuses the query form's empty host.
declare -A _SETTING_RAILS_DEFAULT=([PGBOUNCER_URL_FORM]=encoded-host)

# settings::default NAME: sets _DEFAULT to NAME's default for this dyno and this app.
settings::default() {
  _DEFAULT=${_SETTING_DEFAULT[$1]}
  if [[ ${DYNO:-} == web.* && -n ${_SETTING_WEB_DEFAULT[$1]:-} ]]; then _DEFAULT=${_SETTING_WEB_DEFAULT[$1]}; fi
  if [[ -n ${_SETTING_RAILS_DEFAULT[$1]:-} ]] && settings::is_rails_app; then _DEFAULT=${_SETTING_RAILS_DEFAULT[$1]}; fi
}

# settings::is_rails_app: the app's Gemfile.lock has ActiveRecord among its gems.
settings::is_rails_app() { grep -qs '^    activerecord (' "${_SETTINGS_BUILD_DIR:-$_APP_DIR}/Gemfile.lock"; }

# settings::accepts CHECK: what CHECK accepts, in words.
settings::accepts() {
  local kind=${1%%:*} args=${1#*:}
  case $kind in
    int) printf 'a whole number from %s to %s' "${args%:*}" "${args#*:}" ;;
    seconds) printf 'seconds from 0 to %s' "$args" ;;
    choice) printf 'one of: %s' "${args//,/, }" ;;
    workers) printf 'auto, or a whole number from 1 to 256' ;;
    switch) printf '1, true, yes or on; anything else is off' ;;
    names) printf 'config var names separated by spaces' ;;
    tz) printf 'a time zone name such as UTC, or empty' ;;
    file) printf 'the path of a readable file' ;;
    text) printf 'any text' ;;
  esac
}

# settings::value NAME VALUE: sets _VALUE to VALUE as NAME's check reads it; fails (status 1) if it
# is not valid. No subshell: the boot reads every setting.
settings::value() {
  local check=${_SETTING_CHECK[$1]} c
  _VALUE=$2
  local kind=${check%%:*} args=${check#*:}
  # Empty is "not set" for a setting whose default is empty.
  [[ -z $_VALUE && -z ${_SETTING_DEFAULT[$1]} ]] && return 0
  case $kind in
    int)
      [[ $_VALUE =~ ^[0-9]{1,9}$ ]] && ((10#$_VALUE >= ${args%:*} && 10#$_VALUE <= ${args#*:})) || return 1
      _VALUE=$((10#$_VALUE)) ;;
    seconds) [[ $_VALUE =~ ^[0-9]{1,9}(\.[0-9]*)?$ ]] && ((10#${_VALUE%.*} <= args)) || return 1 ;;
    choice)
      _VALUE=${_VALUE,,}
      for c in ${args//,/ }; do [[ $_VALUE == "$c" ]] && break; done
      [[ $_VALUE == "$c" ]] || return 1 ;;
    workers) [[ ${_VALUE,,} == auto ]] && _VALUE=auto || { [[ $_VALUE =~ ^[0-9]{1,3}$ ]] && ((10#$_VALUE >= 1 && 10#$_VALUE <= 256)); } || return 1 ;;
    switch) case ${_VALUE,,} in 1 | true | yes | on) _VALUE=1 ;; *) _VALUE=0 ;; esac ;;
    names) [[ $_VALUE =~ ^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*([[:space:]]+[A-Za-z_][A-Za-z0-9_]*)*[[:space:]]*$ ]] || return 1 ;;
    tz) [[ $_VALUE =~ ^[A-Za-z0-9_/+:-]*$ ]] || return 1 ;;
    file) [[ -z $_VALUE || -r $(settings::where_it_runs "$_VALUE") ]] || return 1 ;;
  esac
}

# The build checks a slug where it is built; a path under /app names a file of that slug.
settings::where_it_runs() {
  if [[ -n ${_SETTINGS_BUILD_DIR:-} && $1 == /app/* ]]; then printf '%s\n' "$_SETTINGS_BUILD_DIR/${1#/app/}"
  else printf '%s\n' "$1"
  fi
}

# settings::read: every setting from the environment into _SETTING, checked. An unset var takes its
# default; so does an empty one, unless empty means something (tz, file, text).
settings::read() {
  local name raw _DEFAULT _VALUE
  for name in "${_SETTING_NAMES[@]}"; do
    settings::default "$name"
    case ${_SETTING_CHECK[$name]} in
      tz | file | text) raw=${!name-$_DEFAULT} ;;
      *) raw=${!name:-$_DEFAULT} ;;
    esac
    settings::value "$name" "$raw" || settings::refuse "$name" "$raw"
    _SETTING[$name]=$_VALUE
  done
}

settings::refuse() { # settings::refuse NAME VALUE
  local fix="heroku config:unset $1" _DEFAULT
  settings::default "$1"
  [[ -n $_DEFAULT ]] && fix="heroku config:set $1=$_DEFAULT (the default), or unset it"
  output::die "$1 must be $(settings::accepts "${_SETTING_CHECK[$1]}") (it is '$2')" "Fix it with: $fix."
}

# settings::load_env_dir DIR: the settings a Heroku ENV_DIR (one file per var) holds, exported.
settings::load_env_dir() {
  local name
  for name in "${_SETTING_NAMES[@]}"; do
    [[ -f $1/$name ]] && export "$name=$(<"$1/$name")"
  done
  return 0
}
