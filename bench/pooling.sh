#!/usr/bin/env bash
# What the pooler buys a Django app (issue: benchmarks, figure 1). The fixture Django app under
# gunicorn -w 4, one query per request (/db), against the TLS-only, scram PostgreSQL of the tests:
#   direct       CONN_MAX_AGE=0: a TLS handshake and SCRAM auth per request
#   stunnel      through bin/start-pgbouncer-stunnel
#   native       through bin/start-pgbouncer
#   persistent   direct with CONN_MAX_AGE=600: the ceiling
# wrk on loopback for a fixed time at 4, 32 and 120 connections; the variants alternate within each
# round; medians of requests/s, p50/p99 latency, and the peak number of server backends.
# Run as root on a machine set up by support/setup-host.sh. Usage: bench/pooling.sh [ROUNDS] [SECONDS]
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-2}
DURATION=${2:-5}
DYNO_USER=dyno
WORK=$(mktemp -d /tmp/hbnp-bench.XXXXXX)
chmod 755 "$WORK"
cleanup() {
  pkill -KILL -u "$DYNO_USER" 2>/dev/null || true
  [[ -n ${mirror:-} ]] && kill "$mirror" 2>/dev/null
  "$REPO/test/support/pg.sh" stop "$WORK/pg"
  rm -rf "$WORK"
}
trap cleanup EXIT

DATABASE_URL=$("$REPO/test/support/pg.sh" start "$WORK/pg" 55450)
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$REPO/dist/vendor" >"$WORK/mirror.out" 2>/dev/null &
mirror=$!
for _ in $(seq 100); do grep -q 'port [0-9]' "$WORK/mirror.out" 2>/dev/null && break; sleep 0.05; done
mkdir -p "$WORK/env" "$WORK/src"
echo "http://127.0.0.1:$(grep -oE 'port [0-9]+' "$WORK/mirror.out" | cut -d' ' -f2)" >"$WORK/env/BUILDPACK_VENDOR_URL"
cp -r "$REPO/test/fixtures/django/." "$WORK/src/"
STACK=heroku-24 "$REPO/bin/compile" "$WORK/src" "$WORK/cache" "$WORK/env" >/dev/null
chown -R "$DYNO_USER" "$WORK/src"
runuser -u "$DYNO_USER" -- env -i PATH=/usr/bin:/bin HOME="$WORK/src" DATABASE_URL="$DATABASE_URL" \
  bash -c "cd '$WORK/src' && bin/start-pgbouncer python3 manage.py migrate --noinput" >/dev/null 2>&1

PORT=5077
start_variant() { # start_variant NAME: gunicorn -w 4 on $PORT, wrapped as the variant says
  local wrap="" age=0
  case $1 in
    stunnel) wrap="bin/start-pgbouncer-stunnel" ;;
    native) wrap="bin/start-pgbouncer" ;;
    persistent) age=600 ;;
  esac
  runuser -u "$DYNO_USER" -- env -i PATH=/usr/bin:/bin HOME="$WORK/src" DATABASE_URL="$DATABASE_URL" CONN_MAX_AGE=$age \
    PGBOUNCER_LOG_CONNECTIONS=0 PGBOUNCER_LOG_DISCONNECTIONS=0 PGBOUNCER_DEFAULT_POOL_SIZE=4 \
    setsid bash -c "cd '$WORK/src' && exec $wrap gunicorn -w 4 -b 127.0.0.1:$PORT --log-level warning MyProject.wsgi:application" \
    >"$WORK/$1.log" 2>&1 &
  for _ in $(seq 200); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/db" 2>/dev/null && return 0; sleep 0.05; done
  echo "bench: $1 did not start" >&2
  cat "$WORK/$1.log" >&2
  return 1
}

stop_variant() {
  pkill -TERM -u "$DYNO_USER" || true
  for _ in $(seq 100); do pgrep -u "$DYNO_USER" >/dev/null || return 0; sleep 0.1; done
  pkill -KILL -u "$DYNO_USER" || true
}

backends() { "$REPO/test/support/pg.sh" psql "$WORK/pg" "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app_user'"; }

measure() { # measure VARIANT CONNS: appends "rps p50_ms p99_ms peak_backends" to $WORK/VARIANT-CONNS
  local peak=0 n sampler out
  (while :; do backends; sleep 0.2; done) >"$WORK/samples" 2>/dev/null &
  sampler=$!
  out=$(wrk -t 2 -c "$2" -d "${DURATION}s" --latency "http://127.0.0.1:$PORT/db")
  kill "$sampler"
  while read -r n; do ((n > peak)) && peak=$n; done <"$WORK/samples"
  awk -v peak="$peak" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    END { printf "%s %s %s %s\n", rps, p50, p99, peak }' <<<"$out" >>"$WORK/$1-$2"
}

VARIANTS=(direct stunnel native persistent)
for round in $(seq "$ROUNDS"); do
  # Alternate the order each round, so drift on a shared machine hits every variant alike.
  order=("${VARIANTS[@]}")
  ((round % 2 == 0)) && order=(persistent native stunnel direct)
  for v in "${order[@]}"; do
    start_variant "$v"
    for c in 4 32 120; do measure "$v" "$c"; done
    stop_variant
  done
done

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
col() { cut -d' ' -f"$2" <"$WORK/$1" | median; }
echo "Pooling: gunicorn -w 4, one query per request, $ROUNDS rounds of ${DURATION} s, medians ($(date -u +%Y-%m-%d), $(nproc) cores)"
echo "| variant | clients | req/s | p50 ms | p99 ms | peak backends | vs direct | vs persistent |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for c in 4 32 120; do
  direct=$(col "direct-$c" 1) persistent=$(col "persistent-$c" 1)
  for v in "${VARIANTS[@]}"; do
    rps=$(col "$v-$c" 1)
    printf '| %s | %s | %.0f | %.1f | %.1f | %s | %.1fx | %.2fx |\n' "$v" "$c" "$rps" "$(col "$v-$c" 2)" "$(col "$v-$c" 3)" \
      "$(col "$v-$c" 4)" "$(echo "$rps / $direct" | bc -l)" "$(echo "$rps / $persistent" | bc -l)"
  done
done
