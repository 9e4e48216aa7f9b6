#!/usr/bin/env bash
# Boot time (issue: benchmarks, figure 4), with the app of test/fixtures/plain under gunicorn -w 4:
#   app alone  gunicorn on $PORT: start to its first 200
#   web        the reference article's web process (bin/start-nginx bin/start-pgbouncer-stunnel
#              gunicorn on /tmp/nginx.socket): start to the first 200 on $PORT
# and, in the web process, how long after the app first answers on its socket nginx accepts on
# $PORT (held to 100 ms). Probes every 2 ms; the two sides alternate; medians.
# Run as root on a machine set up by support/setup-host.sh. Usage: bench/boot.sh [ROUNDS]
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-7}
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

bench_database
bench_app "$REPO/test/fixtures/plain"

# boot SIDE COMMAND: starts COMMAND as a dyno would and appends, in ms from the start,
# "first_200_on_port app_answers_on_socket nginx_accepts" to $BENCH_WORK/boot-SIDE ("-" if n/a).
boot() {
  rm -f /tmp/nginx.socket /tmp/app-initialized
  python3 - "$PORT" "$DYNO_USER" "$APP" "$DATABASE_URL" "$2" >>"$BENCH_WORK/boot-$1" <<'PY'
import socket, subprocess, sys, time

port, user, app, url, command = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]

def answers(family, address):
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            s.connect(address)
            s.sendall(b"GET / HTTP/1.0\r\nHost: boot\r\n\r\n")
            status = s.recv(64).split(b" ")
            return len(status) > 1 and status[0].startswith(b"HTTP/1.") and status[1] == b"200"
    except OSError:
        return False

def accepts(address):
    try:
        with socket.create_connection(address, timeout=1):
            return True
    except OSError:
        return False

start = time.monotonic()
ms = lambda: round(1000 * (time.monotonic() - start))
subprocess.Popen(["runuser", "-u", user, "--", "env", "-i", "PATH=/usr/bin:/bin", f"HOME={app}", f"PORT={port}",
                  f"DATABASE_URL={url}", "NGINX_ACCESS_LOG_PATH=/dev/null", "setsid", "bash", "-c", f"cd '{app}' && exec {command}"],
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
on_socket = on_port = None
while ms() < 30000:
    if on_socket is None and answers(socket.AF_UNIX, "/tmp/nginx.socket"):
        on_socket = ms()
    if on_port is None and accepts(("127.0.0.1", port)):
        on_port = ms()
    if on_port is not None and answers(socket.AF_INET, ("127.0.0.1", port)):
        print(ms(), on_socket if on_socket is not None else "-", on_port if "nginx" in command else "-")
        break
    time.sleep(0.002)
else:
    sys.exit("bench: nothing answered within 30 s")
PY
  dyno::stop 10
}

for round in $(seq "$ROUNDS"); do
  order=(alone web)
  ((round % 2 == 0)) && order=(web alone)
  for side in "${order[@]}"; do
    case $side in
      alone) boot alone "gunicorn -w 4 -b 0.0.0.0:$PORT --log-level warning wsgi:application" ;;
      web) boot web "bin/start-nginx bin/start-pgbouncer-stunnel gunicorn -w 4 --bind unix:/tmp/nginx.socket --log-level warning wsgi:application" ;;
    esac
  done
done

col() { cut -d' ' -f"$2" <"$BENCH_WORK/boot-$1" | median; }
alone=$(col alone 1) web=$(col web 1)
# Per round: nginx accepting minus the app first answering on its socket.
gap=$(awk '{print $3 - $2}' "$BENCH_WORK/boot-web" | median)
worst=$(awk '{print $3 - $2}' "$BENCH_WORK/boot-web" | sort -g | tail -n1)
echo "Boot, gunicorn -w 4, $ROUNDS rounds, medians ($(date -u +%Y-%m-%d), $(nproc) cores)"
echo "| measure | ms |"
echo "| --- | --- |"
echo "| app alone: start to first 200 | $alone |"
echo "| web process (nginx + pooler + app): start to first 200 | $web |"
echo "| added by the buildpack | $((web - alone)) |"
echo "| nginx accepting after the app first answers on its socket (median / worst) | $gap / $worst |"
