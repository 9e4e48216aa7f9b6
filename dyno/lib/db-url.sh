# shellcheck shell=bash
# Database URLs: parsing a postgres:// config var into its parts, and percent-encoding. Sourced
# after common.sh (for output::die). Nothing here starts anything, so each function is testable alone.

# db_url::decode TEXT: percent-decoding; fails on a malformed escape.
db_url::decode() {
  local s=$1
  [[ $s =~ %([^0-9A-Fa-f]|.[^0-9A-Fa-f]|.?$) ]] && return 1
  s=${s//\\/\\\\}
  printf '%b' "${s//%/\\x}"
}

# db_url::encode TEXT: percent-encodes everything but unreserved characters.
db_url::encode() {
  local s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    if [[ $c =~ [A-Za-z0-9._~-] ]]; then out+=$c; else out+=$(printf '%%%02X' "'$c"); fi
  done
  printf '%s' "$out"
}

# db_url::parse VAR ARRAY: parses the postgres URL in config var VAR into the associative array
# named ARRAY: user pass host port name sslmode query (query: the parameters kept for the pooled
# URL). Errors name the variable, never its value.
db_url::parse() {
  local var=$1 url rest userinfo hostport path query host port pair kept=() pairs=()
  local -n parsed=$2
  url=${!var-}
  if [[ -z ${!var+set} && $var == DATABASE_URL ]]; then
    output::die "DATABASE_URL is not set: this app has no database attached" "Attach one (heroku addons:create heroku-postgresql), or set PGBOUNCER_ENABLED=0 to run without the pooler."
  fi
  [[ -n ${!var+set} ]] || output::die "$var is not set" "PGBOUNCER_URLS names it; set it to your database URL, or remove it from PGBOUNCER_URLS."
  [[ -n $url ]] || output::die "$var is empty" "Set it to a postgres:// URL, or remove it from PGBOUNCER_URLS."
  [[ $url =~ ^(postgres|postgresql)://(.*)$ ]] || output::die "$var is not a postgres:// or postgresql:// URL" "Heroku Postgres sets postgres://USER:PASSWORD@HOST:PORT/DATABASE."
  rest=${BASH_REMATCH[2]}
  userinfo=""
  if [[ $rest == *@* ]]; then userinfo=${rest%@*} rest=${rest##*@}; fi
  hostport=${rest%%[/?]*}
  rest=${rest#"$hostport"}
  path=${rest%%\?*} query=""
  [[ $rest == *\?* ]] && query=${rest#*\?}
  if [[ $hostport =~ ^\[([0-9A-Fa-f:.]+)\](:(.*))?$ ]]; then
    host=${BASH_REMATCH[1]} port=${BASH_REMATCH[3]}
  elif [[ $hostport =~ ^([^:]*)(:(.*))?$ ]]; then
    host=${BASH_REMATCH[1]} port=${BASH_REMATCH[3]}
  fi
  [[ -n $host ]] || output::die "$var has no host" "The URL must look like postgres://USER:PASSWORD@HOST:PORT/DATABASE."
  port=${port:-5432}
  if [[ ! $port =~ ^[0-9]{1,5}$ ]] || ((10#$port < 1 || 10#$port > 65535)); then
    output::die "$var has an invalid port" "The port must be a number from 1 to 65535."
  fi
  local user pass="" name sslmode=""
  user=$(db_url::decode "${userinfo%%:*}") || output::die "$var has a malformed %-escape in its user name" "Escape special characters as %XX (two hex digits)."
  if [[ $userinfo == *:* ]]; then
    pass=$(db_url::decode "${userinfo#*:}") || output::die "$var has a malformed %-escape in its password" "Escape special characters as %XX (two hex digits)."
  fi
  [[ -n $user ]] || output::die "$var has no user name" "The URL must look like postgres://USER:PASSWORD@HOST:PORT/DATABASE."
  name=$(db_url::decode "${path#/}") || output::die "$var has a malformed %-escape in its database name" "Escape special characters as %XX (two hex digits)."
  [[ -n $name ]] || output::die "$var has no database name" "The URL must end in /DATABASE."
  if [[ -n $query ]]; then
    IFS='&' read -r -a pairs <<<"$query"
    for pair in "${pairs[@]}"; do
      case $pair in
        sslmode=*) sslmode=${pair#sslmode=} ;;
        sslrootcert=* | sslcert=* | sslkey=*) ;; # about the server connection, not the local one
        *) kept+=("$pair") ;;
      esac
    done
  fi
  if [[ -n $sslmode && " ${_SSLMODES_BY_STRENGTH[*]} " != *" $sslmode "* ]]; then
    output::die "$var has an unknown sslmode in its query string" "Use one of: ${_SSLMODES_BY_STRENGTH[*]} (libpq's names)."
  fi
  # shellcheck disable=SC2034 # the caller's array, through the nameref
  parsed=([user]=$user [pass]=$pass [host]=$host [port]=$((10#$port)) [name]=$name [sslmode]=$sslmode
    [query]="$(IFS='&'; printf '%s' "${kept[*]}")")
}

# db_url::sibling_var VAR KIND: the config var beside VAR that holds its KIND of URL, by Heroku's naming
# (DATABASE_URL -> DATABASE_DIRECT_URL, DATABASE_CONNECTION_POOL_URL; OTHER -> OTHER_DIRECT_URL).
db_url::sibling_var() { printf '%s_%s_URL\n' "${1%_URL}" "$2"; }

# db_url::export_direct VAR: VAR's URL kept as its DIRECT sibling, for what needs the database itself
# (transaction pooling breaks advisory locks, LISTEN, session SETs); the app's own, if it set one.
db_url::export_direct() {
  local direct_var
  direct_var=$(db_url::sibling_var "$1" DIRECT)
  [[ -n ${!direct_var:-} ]] || export "$direct_var=${!1}"
}
