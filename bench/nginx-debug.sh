#!/usr/bin/env bash
# What debug logging costs nginx itself (issue #15: one `--with-debug` build against a second,
# debug-only binary). nginx alone, one worker, answering `return 200` on loopback (the cheapest
# request, where per-request work shows most), wrk with 16 connections, the sides alternating:
#   NGINX_A at error_log level $LEVEL_A, NGINX_B at $LEVEL_B.
# Defaults: the shipped nginx (the nginx artifact in artifacts/, built --with-debug) at `error` (what
# bin/start-nginx runs) against the same binary at `debug` (bin/start-nginx-debug). To weigh the
# build itself, point NGINX_A at a binary configured without --with-debug and set LEVEL_B=error.
# Prints req/s and p99 per side (medians), each binary's size (stripped, and gzip -9 as in a slug),
# and the instructions each side spends per request (valgrind --tool=callgrind, master_process
# off: the total for 10,000 keep-alive requests less the total for none, divided by 10,000; a
# count, so not noisy).
# Usage: [NGINX_A=… NGINX_B=… LEVEL_A=error LEVEL_B=debug] bench/nginx-debug.sh [ROUNDS] [SECONDS]
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-5}
DURATION=${2:-5}
WORK=$(mktemp -d /tmp/hbnp-bench-ngx.XXXXXX)
trap 'kill "${NGINX_PID:-}" 2>/dev/null; rm -rf "$WORK"' EXIT

shipped_nginx() {
  local tarball
  tarball=$(ls "$REPO"/artifacts/nginx-*-linux-x64.tar.gz)
  mkdir -p "$WORK/shipped"
  tar -xzf "$tarball" -C "$WORK/shipped"
  echo "$WORK/shipped/bin/nginx"
}

NGINX_A=${NGINX_A:-$(shipped_nginx)}
NGINX_B=${NGINX_B:-$NGINX_A}
LEVEL_A=${LEVEL_A:-error}
LEVEL_B=${LEVEL_B:-debug}
PORT=$("$REPO/test/support/free-port.sh")
# shellcheck source=bench/lib-stats.sh
. "$REPO/bench/lib-stats.sh"

start_nginx() { # start_nginx BINARY LEVEL [MASTER_PROCESS [WRAPPER...]]
  mkdir -p "$WORK/prefix/logs"
  cat >"$WORK/prefix/nginx.conf" <<EOF
daemon off;
master_process ${3:-on};
worker_processes 1;
pid $WORK/prefix/nginx.pid;
error_log $WORK/prefix/logs/error.log $2;
events { worker_connections 1024; }
http {
  access_log off;
  server { listen 127.0.0.1:$PORT; location / { return 200 "ok\n"; } }
}
EOF
  "${@:4}" "$1" -p "$WORK/prefix" -c "$WORK/prefix/nginx.conf" &
  NGINX_PID=$!
  for _ in $(seq 300); do
    { exec 3<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null && { exec 3>&-; return 0; }
    sleep 0.1
  done
  echo "nginx-debug bench: $1 did not listen on port $PORT" >&2
  return 1
}

stop_nginx() {
  kill -QUIT "$NGINX_PID"
  wait "$NGINX_PID" || true
  rm -f "$WORK/prefix/logs/error.log"
}

for round in $(seq "$ROUNDS"); do
  for side in A B; do
    bin_var=NGINX_$side level_var=LEVEL_$side
    start_nginx "${!bin_var}" "${!level_var}"
    wrk -t 1 -c 16 -d "${DURATION}s" --latency "http://127.0.0.1:$PORT/" | wrk_summary >>"$WORK/$side"
    stop_nginx
  done
  echo "round $round of $ROUNDS done" >&2
done

# instructions BINARY LEVEL REQUESTS: nginx's instruction total under callgrind for REQUESTS
# keep-alive requests (and its start and stop).
instructions() {
  start_nginx "$1" "$2" off valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" 2>>"$WORK/valgrind.log"
  /usr/bin/python3 - "$PORT" "$3" <<'PY'
import http.client, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
for c in range(n // 500):
    h = http.client.HTTPConnection("127.0.0.1", port)
    for _ in range(500):
        h.request("GET", "/"); h.getresponse().read()
    h.close()
PY
  stop_nginx >/dev/null 2>&1
  sed -n 's/^totals: //p' "$WORK/cg.out"
}

for side in A B; do
  bin_var=NGINX_$side level_var=LEVEL_$side
  per_request=$((($(instructions "${!bin_var}" "${!level_var}" 10000) - $(instructions "${!bin_var}" "${!level_var}" 0)) / 10000))
  printf '%s: %s at %s, %s bytes (%s gzipped): %s req/s, p99 %s ms, %s instructions per request\n' "$side" "${!bin_var}" "${!level_var}" \
    "$(stat -c %s "${!bin_var}")" "$(gzip -9 -c "${!bin_var}" | wc -c)" "$(cut -d' ' -f1 "$WORK/$side" | median)" \
    "$(cut -d' ' -f3 "$WORK/$side" | median)" "$per_request"
done
