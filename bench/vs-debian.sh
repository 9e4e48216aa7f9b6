#!/usr/bin/env bash
# Our static nginx, pgbouncer and stunnel against Debian's packages of the same programs (what a
# user would otherwise run: glibc builds), side by side in one run, alternating, medians. The
# Debian binaries are unpacked from the archive (`apt-get download`, `dpkg -x`), never installed,
# so no service starts. Each case gives both sides the same config:
#   nginx-return   one nginx worker answering `return 200` over keep-alive
#   nginx-proxy-N  one nginx worker proxying, with the default config's buffers, to a second nginx
#                  of the same build on a unix socket that serves N bytes (1 KiB, 16 KiB, 256 KiB)
#   pgbouncer-S    transaction pooling, TLS to PostgreSQL, `pgbench -S -c16` on its unix socket
#   pgbouncer-C    the same with `-C`: a new client connection per transaction
#   stunnel        a client-mode stunnel carrying 1 MiB responses from a TLS server (ours) to wrk
# Prints, per case, each side's figure, ours / Debian's, and the memory of the program under test
# (KiB, read at the end of the last round's load: see memory()).
#   CASES="A B": only those cases.
#   OURS=DIR: ours from DIR/{nginx,pgbouncer,stunnel}/bin rather than artifacts (a trial build).
#   ARCH=arm64: our linux-arm64 artifacts under qemu-aarch64-static against nothing: a functional
#   check that each case answers (qemu's timings mean nothing).
# Usage: [ARCH=arm64] [OURS=DIR] [CASES=...] bench/vs-debian.sh [ROUNDS] [SECONDS]
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-5}
DURATION=${2:-3}
ARCH=${ARCH:-x64}
WORK=$(mktemp -d /tmp/hbnp-bench-deb.XXXXXX)
chmod 755 "$WORK"
DEB_CACHE=${DEB_CACHE:-/var/cache/hbnp-bench-debs}
# shellcheck source=bench/lib-stats.sh
. "$REPO/bench/lib-stats.sh"

PIDS=()
kill_started() {
  local pid
  for pid in "${PIDS[@]}"; do stop "$pid"; done
}
cleanup() {
  kill_started
  [[ -d $WORK/pg ]] && "$REPO/test/support/pg.sh" stop "$WORK/pg"
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { "$REPO/test/support/free-port.sh"; }

wait_for() { # wait_for WHAT TEST...: until TEST succeeds, for 10 s
  local _
  for _ in $(seq 200); do "${@:2}" 2>/dev/null && return 0; sleep 0.05; done
  echo "vs-debian bench: $1 did not come up" >&2
  exit 1
}
tcp_open() { { exec 9<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null && exec 9>&-; }

# memory PID: what PID and its descendants hold as if nothing else ran (KiB): the private memory
# of each, plus the shared memory of the one that shares most (nginx's master and worker share
# their binary's pages, counted once). Not PSS: PSS divides a shared library's
# pages among every process that maps it, so Debian's libcrypto would look cheaper for every
# PostgreSQL backend of this machine that maps it too, which a dyno does not run.
memory() {
  local pid rss uss largest=0 privates=0
  for pid in "$1" $(pgrep -P "$1" || true); do
    read -r rss uss < <(awk '/^Rss:/ {r = $2} /^Private_(Clean|Dirty):/ {u += $2} END {print r + 0, u + 0}' \
      "/proc/$pid/smaps_rollup" 2>/dev/null || echo "0 0")
    privates=$((privates + uss))
    if ((rss - uss > largest)); then largest=$((rss - uss)); fi
  done
  echo $((privates + largest))
}

# --- the two sides' binaries ----------------------------------------------------------------------
ours_root() {
  local name tarball
  if [[ -n ${OURS:-} ]]; then # binaries of a trial build, laid out as the artifacts are
    ln -s "$(cd "$OURS" && pwd)" "$WORK/ours"
    return
  fi
  mkdir -p "$WORK/ours"
  for name in nginx pgbouncer stunnel; do
    tarball=$(ls "$REPO"/artifacts/"$name"-*-linux-"$ARCH".tar.gz)
    mkdir -p "$WORK/ours/$name" && tar -xzf "$tarball" -C "$WORK/ours/$name"
  done
}

debian_root() {
  mkdir -p "$DEB_CACHE" "$WORK/debian"
  # nginx-light's binary is in the nginx package; the libraries are those not in a base system.
  (cd "$DEB_CACHE" && ls nginx_*.deb pgbouncer_*.deb stunnel4_*.deb libevent-2.1-7_*.deb \
    libc-ares2_*.deb libwrap0_*.deb >/dev/null 2>&1 ||
    apt-get download nginx pgbouncer stunnel4 libevent-2.1-7 libc-ares2 libwrap0 >/dev/null 2>&1) || {
    echo "vs-debian bench: could not download Debian's nginx, pgbouncer and stunnel4 (apt-get download)" >&2
    exit 1
  }
  local deb
  for deb in "$DEB_CACHE"/*.deb; do dpkg -x "$deb" "$WORK/debian"; done
}

if [[ $ARCH == arm64 ]]; then
  QEMU=(qemu-aarch64-static)
  SIDES=(ours)
else
  QEMU=()
  SIDES=(ours debian)
  debian_root
fi
ours_root
declare -A NGINX=([ours]=$WORK/ours/nginx/bin/nginx [debian]=$WORK/debian/usr/sbin/nginx)
declare -A PGBOUNCER=([ours]=$WORK/ours/pgbouncer/bin/pgbouncer [debian]=$WORK/debian/usr/sbin/pgbouncer)
declare -A STUNNEL=([ours]=$WORK/ours/stunnel/bin/stunnel [debian]=$WORK/debian/usr/bin/stunnel4)
# As root, every program runs as nobody (pgbouncer refuses root), exec'd so that PID is its own.
AS_USER=()
((EUID == 0)) && AS_USER=(setpriv --reuid=nobody --regid=nogroup --clear-groups)

# start SIDE NAME COMMAND...: COMMAND (under qemu for ARCH=arm64) in the background, as AS_USER,
# with $WORK/SIDE-NAME its own; its pid in PID
start() {
  local libs=()
  # Debian's binaries find the libraries unpacked beside them; nothing else does.
  [[ $1 == debian ]] && libs=(env "LD_LIBRARY_PATH=$WORK/debian/usr/lib/x86_64-linux-gnu")
  mkdir -p "$WORK/$1-$2"
  ((EUID == 0)) && chown -R nobody:nogroup "$WORK/$1-$2"
  "${AS_USER[@]}" "${libs[@]}" "${QEMU[@]}" "${@:3}" >"$WORK/$1-$2/out.log" 2>&1 &
  PID=$!
  PIDS+=("$PID")
}
# stop PID: SIGINT (pgbouncer's immediate shutdown, nginx's fast one), SIGKILL after 2 s (Debian's stunnel
# started in the background ignores SIGINT)
stop() {
  local killer
  kill -INT "$1" 2>/dev/null || true
  (sleep 2 && kill -KILL "$1" 2>/dev/null) &
  killer=$!
  wait "$1" 2>/dev/null || true
  kill "$killer" 2>/dev/null || true
}

# nginx_conf SIDE NAME SERVER_BLOCK: a one-worker nginx config for SIDE, named NAME
nginx_conf() {
  local dir=$WORK/$1-$2
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log error;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/client_body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  sendfile on;
  tcp_nopush on;
  proxy_buffering on;
  proxy_buffers 16 16k;
  proxy_busy_buffers_size 32k;
  $3
}
EOF
  echo "$dir"
}

# wrk_rps URL CONNECTIONS: requests per second; fails on any error or answer other than 200, so
# that a misconfigured side cannot win by failing fast (ARCH=arm64: one request, checked)
wrk_rps() {
  curl -fsS -o /dev/null "$1" || { echo "vs-debian bench: $1 did not answer 200" >&2; exit 1; }
  if [[ $ARCH == arm64 ]]; then
    echo 1
    return
  fi
  local out
  out=$(wrk -t1 -c"$2" -d"${DURATION}s" "$1")
  if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
    echo "vs-debian bench: errors from $1:" >&2
    grep -E 'Non-2xx|Socket errors' <<<"$out" >&2
    exit 1
  fi
  awk '/^Requests\/sec/ {print $2}' <<<"$out"
}

# --- the cases: each prints "FIGURE MEMORY_KIB" for one side ---------------------------------------
# measure_http WHAT PID PORT URL CONNECTIONS: once PORT accepts, wrk on URL; prints requests/s and
# the memory of PID, which it then stops
measure_http() {
  wait_for "$1" tcp_open "$3"
  local rps kib
  rps=$(wrk_rps "$4" "$5")
  kib=$(memory "$2")
  stop "$2"
  echo "$rps $kib"
}

case_nginx_return() {
  local side=$1 port dir
  port=$(free_port)
  dir=$(nginx_conf "$side" return "server { listen 127.0.0.1:$port; location / { return 200 \"ok\\n\"; } }")
  start "$side" return "${NGINX[$side]}" -p "$dir" -c "$dir/nginx.conf"
  measure_http "$side nginx" "$PID" "$port" "http://127.0.0.1:$port/" 32
}

case_nginx_proxy() {
  local side=$1 bytes=$2 port up fe
  port=$(free_port)
  up=$(nginx_conf "$side" "up-$bytes" "server { listen unix:$WORK/$side-up-$bytes/sock; root $WORK/files; }")
  [[ -f $WORK/files/$bytes ]] || head -c "$bytes" /dev/urandom >"$WORK/files/$bytes"
  start "$side" "up-$bytes" "${NGINX[$side]}" -p "$up" -c "$up/nginx.conf"
  local up_pid=$PID
  fe=$(nginx_conf "$side" "fe-$bytes" "upstream app { server unix:$WORK/$side-up-$bytes/sock fail_timeout=0; }
  server { listen 127.0.0.1:$port; location / { proxy_set_header Host \$http_host; proxy_pass http://app; } }")
  start "$side" "fe-$bytes" "${NGINX[$side]}" -p "$fe" -c "$fe/nginx.conf"
  measure_http "$side nginx" "$PID" "$port" "http://127.0.0.1:$port/$bytes" 32
  stop "$up_pid"
}

pgbouncer_ini() { # pgbouncer_ini SIDE PORT
  local dir=$WORK/$1-pgbouncer
  mkdir -p "$dir"
  # auth_file quoting: a double quote inside a field is doubled.
  printf '"%s" "%s"\n' "$PG_USER" "${PG_PASSWORD//\"/\"\"}" >"$dir/users.txt"
  cat >"$dir/pgbouncer.ini" <<EOF
[databases]
bench = host=127.0.0.1 port=$PG_PORT dbname=$PG_DB user=$PG_USER
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $2
unix_socket_dir = $dir
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
default_pool_size = 8
max_client_conn = 200
server_tls_sslmode = require
server_tls_protocols = secure
logfile = $dir/pgbouncer.log
EOF
  echo "$dir"
}

case_pgbouncer() {
  local side=$1 mode=$2 port dir
  port=$(free_port)
  dir=$(pgbouncer_ini "$side" "$port")
  start "$side" pgbouncer "${PGBOUNCER[$side]}" "$dir/pgbouncer.ini"
  local pid=$PID
  wait_for "$side pgbouncer" test -S "$dir/.s.PGSQL.$port"
  local tps kib args=(-n -S -c16 -j1 -T"$DURATION")
  [[ $mode == C ]] && args+=(-C)
  [[ $ARCH == arm64 ]] && args=(-n -S -c2 -j1 -t5)
  # pgbench's own process is the client: as root it would need a user name; the pool has one.
  tps=$(pgbench "${args[@]}" -h "$dir" -p "$port" -U "$PG_USER" bench 2>"$dir/pgbench.err" |
    awk '/^tps/ {print $3; exit}')
  if [[ -z $tps ]]; then
    echo "vs-debian bench: pgbench through $side pgbouncer failed:" >&2
    tail -n 5 "$dir/pgbench.err" "$dir/pgbouncer.log" "$dir/out.log" >&2
    exit 1
  fi
  [[ $ARCH == arm64 ]] && tps=1
  kib=$(memory "$pid")
  stop "$pid"
  echo "$tps $kib"
}

case_stunnel() {
  local side=$1 port dir
  port=$(free_port)
  dir=$WORK/$side-stunnel
  mkdir -p "$dir"
  printf 'foreground = yes\npid =\nsyslog = no\ndebug = 3\n[bench]\nclient = yes\naccept = 127.0.0.1:%s\nconnect = 127.0.0.1:%s\n' \
    "$port" "$TLS_PORT" >"$dir/stunnel.conf"
  start "$side" stunnel "${STUNNEL[$side]}" "$dir/stunnel.conf"
  measure_http "$side stunnel" "$PID" "$port" "http://127.0.0.1:$port/mib" 8
}

# --- shared servers: PostgreSQL with TLS, and a TLS file server for stunnel to reach ---------------
mkdir -p "$WORK/files"
chmod 755 "$WORK/files"
PG_PORT=$(free_port)
DATABASE_URL=$("$REPO/test/support/pg.sh" start "$WORK/pg" "$PG_PORT")
PG_USER=app_user PG_DB=app_db
PG_PASSWORD=$(python3 -c 'import sys, urllib.parse as u; print(u.unquote(u.urlsplit(sys.argv[1]).password))' "$DATABASE_URL")
PGPASSWORD=$PG_PASSWORD PGSSLMODE=require pgbench -i -q -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" "$PG_DB" >/dev/null 2>&1

head -c 1048576 /dev/urandom >"$WORK/files/mib"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
  -keyout "$WORK/files/tls.key" -out "$WORK/files/tls.crt" 2>/dev/null
chmod 644 "$WORK/files/tls.key"
TLS_PORT=$(free_port)
tls_dir=$(nginx_conf ours tls "server { listen 127.0.0.1:$TLS_PORT ssl; ssl_certificate $WORK/files/tls.crt; ssl_certificate_key $WORK/files/tls.key; root $WORK/files; }")
# The server is the same for both sides, and native: this machine's own nginx of ours.
mkdir -p "$WORK/native" && tar -xzf "$(ls "$REPO"/artifacts/nginx-*-linux-x64.tar.gz)" -C "$WORK/native"
QEMU_SAVED=("${QEMU[@]}") QEMU=()
start ours tls "$WORK/native/bin/nginx" -p "$tls_dir" -c "$tls_dir/nginx.conf"
QEMU=("${QEMU_SAVED[@]}")
wait_for "TLS server" tcp_open "$TLS_PORT"

read -r -a CASES <<<"${CASES:-nginx-return nginx-proxy-1024 nginx-proxy-16384 nginx-proxy-262144 pgbouncer-S pgbouncer-C stunnel}"
run_case() { # run_case CASE SIDE (in a subshell: what it started is ended with it)
  PIDS=()
  trap kill_started EXIT
  case $1 in
    nginx-return) case_nginx_return "$2" ;;
    nginx-proxy-*) case_nginx_proxy "$2" "${1#nginx-proxy-}" ;;
    pgbouncer-*) case_pgbouncer "$2" "${1#pgbouncer-}" ;;
    stunnel) case_stunnel "$2" ;;
  esac
}

declare -A FIGURES KIB
for ((round = 1; round <= ROUNDS; round++)); do
  for c in "${CASES[@]}"; do
    # Alternate which side goes first, so that neither always runs on a warmer machine.
    sides=("${SIDES[@]}")
    ((round % 2 == 0 && ${#sides[@]} == 2)) && sides=(debian ours)
    for side in "${sides[@]}"; do
      out=$(run_case "$c" "$side")
      read -r figure kib <<<"$out"
      FIGURES[$c.$side]+="$figure "
      KIB[$c.$side]=$kib
    done
  done
done

if [[ $ARCH == arm64 ]]; then
  printf '%s: answered\n' "${CASES[@]}"
  exit 0
fi
printf '| case | unit | ours | Debian | ours / Debian | memory ours KiB | memory Debian KiB | memory ratio |\n'
printf '| --- | --- | --- | --- | --- | --- | --- | --- |\n'
for c in "${CASES[@]}"; do
  unit="req/s"
  [[ $c == pgbouncer-* ]] && unit="tps"
  [[ $c == stunnel ]] && unit="MiB/s"
  ours=$(tr ' ' '\n' <<<"${FIGURES[$c.ours]}" | grep . | median)
  debian=$(tr ' ' '\n' <<<"${FIGURES[$c.debian]}" | grep . | median)
  awk -v c="$c" -v u="$unit" -v a="$ours" -v b="$debian" -v ka="${KIB[$c.ours]}" -v kb="${KIB[$c.debian]}" \
    'BEGIN { printf "| %s | %s | %.0f | %.0f | %.2f | %d | %d | %.2f |\n", c, u, a, b, a / b, ka, kb, ka / kb }'
done
