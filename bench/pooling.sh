#!/usr/bin/env bash
# What the pooler buys a Django app (issue: benchmarks, figure 1). The fixture Django app under
# gunicorn -w 4, one query per request (/db), against the TLS-only, scram PostgreSQL of the tests:
#   direct       CONN_MAX_AGE=0: a TLS handshake and SCRAM auth per request
#   stunnel      through bin/start-pgbouncer-stunnel
#   native       through bin/start-pgbouncer
#   native-persistent  through bin/start-pgbouncer, Django keeping its connection to the pooler
#                (CONN_MAX_AGE=600): what is left when no connection is set up per request
#   persistent   direct with CONN_MAX_AGE=600: the ceiling
# wrk on loopback for a fixed time at 4, 32 and 120 connections; the variants alternate within each
# round; medians of requests/s, p50/p99 latency, and the peak number of server backends.
# Run as root on a machine set up by support/setup-host.sh. Usage: bench/pooling.sh [ROUNDS] [SECONDS]
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-2}
DURATION=${2:-5}
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

bench_database
bench_app "$REPO/test/fixtures/django"
runuser -u "$DYNO_USER" -- env -i PATH=/usr/bin:/bin HOME="$APP" DATABASE_URL="$DATABASE_URL" \
  bash -c "cd '$APP' && bin/start-pgbouncer python3 manage.py migrate --noinput" >/dev/null 2>&1

PORT=5077
start_variant() { # start_variant NAME: gunicorn -w 4 on $PORT, wrapped as the variant says
  local wrap="" age=0
  case $1 in
    stunnel) wrap="bin/start-pgbouncer-stunnel" ;;
    native) wrap="bin/start-pgbouncer" ;;
    native-persistent) wrap="bin/start-pgbouncer" age=600 ;;
    persistent) age=600 ;;
  esac
  dyno_run "$BENCH_WORK/$1.log" "$wrap gunicorn -w 4 -b 127.0.0.1:$PORT --log-level warning MyProject.wsgi:application" \
    CONN_MAX_AGE=$age PGBOUNCER_DEFAULT_POOL_SIZE=4
  dyno::wait_http /db 20 || return 1
}

backends() { "$REPO/test/support/pg.sh" psql "$BENCH_WORK/pg" "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app_user'"; }

measure() { # measure VARIANT CONNS: appends "rps p50_ms p99_ms peak_backends" to $BENCH_WORK/VARIANT-CONNS
  local peak=0 n sampler out
  (while :; do backends; sleep 0.2; done) >"$BENCH_WORK/samples" 2>/dev/null &
  sampler=$!
  out=$(wrk -t 2 -c "$2" -d "${DURATION}s" --latency "http://127.0.0.1:$PORT/db")
  kill "$sampler"
  while read -r n; do ((n > peak)) && peak=$n; done <"$BENCH_WORK/samples"
  echo "$(wrk_summary <<<"$out") $peak" >>"$BENCH_WORK/$1-$2"
}

VARIANTS=(direct stunnel native native-persistent persistent)
for round in $(seq "$ROUNDS"); do
  # Alternate the order each round, so drift on a shared machine hits every variant alike.
  order=("${VARIANTS[@]}")
  ((round % 2 == 0)) && order=(persistent native-persistent native stunnel direct)
  for v in "${order[@]}"; do
    start_variant "$v"
    for c in 4 32 120; do measure "$v" "$c"; done
    dyno::stop 10
  done
done

col() { cut -d' ' -f"$2" <"$BENCH_WORK/$1" | median; }
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
