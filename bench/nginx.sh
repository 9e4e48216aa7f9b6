#!/usr/bin/env bash
# What nginx in front costs and buys (issue: benchmarks, figure 2), with the app of
# test/fixtures/plain under gunicorn -w 4 (sync workers, as the reference article runs it):
#   direct   gunicorn alone on $PORT
#   nginx    bin/start-nginx in front, gunicorn on /tmp/nginx.socket
# Overhead: wrk on a trivial view (no database), 16 connections, the two sides alternating.
# Flood: 200 slow clients (a request whose headers arrive one line every 0.5 s) for a fixed
# time, while a probe asks the trivial view every 100 ms; reported: how many probes got an answer
# within 1 s during the flood, and how long after the flood ends until one does again.
# nginx runs with its defaults (access log on stdout, 4 workers); NGINX_VARS="VAR=VALUE ..." tries
# others. Run as root on a machine set up by support/setup-host.sh.
# Usage: [NGINX_VARS=...] bench/nginx.sh [ROUNDS] [SECONDS] [FLOOD_SECONDS]
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-3}
DURATION=${2:-5}
FLOOD=${3:-8}
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

bench_app "$REPO/test/fixtures/plain"

start_side() { # start_side direct|nginx
  # shellcheck disable=SC2086 # NGINX_VARS is a list of VAR=VALUE words
  case $1 in
    direct) dyno_run "$BENCH_WORK/$1.log" "gunicorn -w 4 -b 0.0.0.0:$PORT --log-level warning wsgi:application" ;;
    nginx) dyno_run "$BENCH_WORK/$1.log" "bin/start-nginx gunicorn -w 4 --bind unix:/tmp/nginx.socket --log-level warning wsgi:application" ${NGINX_VARS:-} ;;
  esac
  dyno::wait_http / 20 || return 1
}

overhead() { # overhead SIDE: appends "req/s p50 p99" to $BENCH_WORK/overhead-SIDE
  wrk -t 2 -c 16 -d "${DURATION}s" --latency "http://127.0.0.1:$PORT/" | wrk_summary >>"$BENCH_WORK/overhead-$1"
}

# flood SIDE: appends "answered_pct recovery_ms" to $BENCH_WORK/flood-SIDE.
flood() {
  python3 - "$PORT" "$FLOOD" >>"$BENCH_WORK/flood-$1" <<'PY'
import socket, sys, threading, time, urllib.request

port, seconds = int(sys.argv[1]), float(sys.argv[2])
stop = threading.Event()

def slow_client():
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=seconds + 5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\n")
        while not stop.wait(0.5):
            s.sendall(b"X-Slow: 1\r\n")
        s.close()
    except OSError:
        pass

def probe():
    t = time.monotonic()
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).read()
        return True
    except Exception:
        return False
    finally:
        time.sleep(max(0, 0.1 - (time.monotonic() - t)))

clients = [threading.Thread(target=slow_client, daemon=True) for _ in range(200)]
for c in clients:
    c.start()
time.sleep(0.5)
end = time.monotonic() + seconds
answers = []
while time.monotonic() < end:
    answers.append(probe())
stop.set()
ended = time.monotonic()
while not probe():
    if time.monotonic() - ended > 60:
        break
print(f"{100 * sum(answers) / len(answers):.0f} {1000 * (time.monotonic() - ended):.0f}")
PY
}

for round in $(seq "$ROUNDS"); do
  order=(direct nginx)
  ((round % 2 == 0)) && order=(nginx direct)
  for side in "${order[@]}"; do
    start_side "$side"
    overhead "$side"
    flood "$side"
    dyno::stop 10
  done
done

col() { cut -d' ' -f"$2" <"$BENCH_WORK/$1" | median; }
echo "nginx in front of gunicorn -w 4, $ROUNDS rounds, medians ($(date -u +%Y-%m-%d), $(nproc) cores)"
echo "| side | trivial view req/s | p50 ms | p99 ms | vs direct | probes answered within 1 s during a ${FLOOD} s slow-client flood | first answer after the flood (probe every 100 ms) |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
direct=$(col overhead-direct 1)
for side in direct nginx; do
  rps=$(col "overhead-$side" 1)
  printf '| %s | %.0f | %.2f | %.2f | %.2fx | %s %% | %s ms |\n' "$side" "$rps" "$(col "overhead-$side" 2)" "$(col "overhead-$side" 3)" \
    "$(echo "$rps / $direct" | bc -l)" "$(col "flood-$side" 1)" "$(col "flood-$side" 2)"
done
