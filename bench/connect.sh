#!/usr/bin/env bash
# What a connection per request costs through the pooler (issue #26): Django's default
# CONN_MAX_AGE=0 opens and closes a connection to pgbouncer around every request. The fixture
# Django app under gunicorn -w 4, one query per request (/db), wrk -c 32, against the TLS-only
# PostgreSQL of the tests, all variants alternating within each round, medians of requests/s,
# latency, and the CPU time the app, pgbouncer and PostgreSQL each spend per request (from
# /proc: every process of each program on this machine):
#   persistent         direct to PostgreSQL, CONN_MAX_AGE=600: the ceiling (1.00)
#   pooled-persistent  bin/start-pgbouncer, CONN_MAX_AGE=600: the pooler's own cost
#   before             bin/start-pgbouncer, CONN_MAX_AGE=0, with the settings of before issue #26
#   step-N             the same with the first N cuts applied (BEFORE and STEP_NAMES below)
#   after              the same with the buildpack's defaults, every cut applied: what an app gets
# Run as root on a machine set up by support/setup-host.sh. Usage: bench/connect.sh [ROUNDS] [SECONDS]
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-3}
DURATION=${2:-5}
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

# The config vars that undo each cut, in the order the cuts were made, and the cuts' names:
# "before" sets them all, step N those after the Nth.
BEFORE=(
  "PGBOUNCER_LOG_CONNECTIONS=1 PGBOUNCER_LOG_DISCONNECTIONS=1"
)
STEP_NAMES=("connection logs off")

bench_database
bench_app "$REPO/test/fixtures/django"
runuser -u "$DYNO_USER" -- env -i PATH=/usr/bin:/bin HOME="$APP" DATABASE_URL="$DATABASE_URL" \
  bash -c "cd '$APP' && bin/start-pgbouncer python3 manage.py migrate --noinput" >/dev/null 2>&1

PORT=5077
# undo N: the config vars that undo the cuts after the first N
undo() { local i; for ((i = $1; i < ${#BEFORE[@]}; i++)); do printf '%s ' "${BEFORE[i]}"; done; }

start_variant() { # start_variant NAME: gunicorn -w 4 on $PORT, wrapped and set as the variant says
  local wrap="bin/start-pgbouncer" age=0 extra=""
  case $1 in
    persistent) wrap="" age=600 ;;
    pooled-persistent) age=600 ;;
    before) extra=$(undo 0) ;;
    step-*) extra=$(undo "${1#step-}") ;;
    after) ;;
  esac
  # shellcheck disable=SC2086 # extra is a list of VAR=VALUE words
  dyno_run "$BENCH_WORK/$1.log" "$wrap gunicorn -w 4 -b 127.0.0.1:$PORT --log-level warning MyProject.wsgi:application" \
    CONN_MAX_AGE=$age PGBOUNCER_DEFAULT_POOL_SIZE=4 $extra
  dyno::wait_http /db 20 || return 1
}

# cpu_ticks: "PROGRAM TICKS" for each program of this machine, the CPU its processes have used.
cpu_ticks() {
  local stat
  for stat in /proc/[0-9]*/stat; do cat "$stat" 2>/dev/null || true; done |
    awk '{ name = $2; gsub(/[()]/, "", name); t[name] += $14 + $15 } END { for (n in t) print n, t[n] }' | sort
}

# measure VARIANT: appends "rps p50 p99 app_us pgbouncer_us postgres_us" to $BENCH_WORK/VARIANT, the
# last three the CPU each side spent per request (the app is gunicorn and its workers)
measure() {
  local before after summary tick_us
  tick_us=$((1000000 / $(getconf CLK_TCK)))
  before=$(cpu_ticks)
  summary=$(wrk -t 2 -c 32 -d "${DURATION}s" --latency "http://127.0.0.1:$PORT/db" | wrk_summary)
  after=$(cpu_ticks)
  join <(echo "$before") <(echo "$after") | awk -v rps="${summary%% *}" -v d="$DURATION" -v us="$tick_us" -v s="$summary" '
    { used[$1] = ($3 - $2) * us / (rps * d) }
    END { printf "%s %.0f %.0f %.0f\n", s, used["gunicorn"], used["pgbouncer"], used["postgres"] }' >>"$BENCH_WORK/$1"
}

VARIANTS=(persistent pooled-persistent before)
for ((i = 1; i < ${#BEFORE[@]}; i++)); do VARIANTS+=("step-$i"); done
VARIANTS+=(after)
for round in $(seq "$ROUNDS"); do
  order=("${VARIANTS[@]}")
  # Alternate the order each round, so drift on a shared machine hits every variant alike.
  ((round % 2 == 0)) && mapfile -t order < <(printf '%s\n' "${VARIANTS[@]}" | tac)
  for v in "${order[@]}"; do
    start_variant "$v"
    measure "$v"
    dyno::stop 10
  done
done

col() { cut -d' ' -f"$2" <"$BENCH_WORK/$1" | median; }
describe() {
  case $1 in
    persistent) echo "direct, CONN_MAX_AGE=600" ;;
    pooled-persistent) echo "bin/start-pgbouncer, CONN_MAX_AGE=600" ;;
    before) echo "bin/start-pgbouncer, CONN_MAX_AGE=0, as before #26" ;;
    step-*) echo "+ ${STEP_NAMES[${1#step-} - 1]}" ;;
    after) echo "+ ${STEP_NAMES[-1]}: the defaults now" ;;
  esac
}
echo "Connect per request: gunicorn -w 4, one query per request, wrk -c 32, $ROUNDS rounds of ${DURATION} s, medians ($(date -u +%Y-%m-%d), $(nproc) cores)"
echo "| variant | req/s | p50 ms | p99 ms | vs persistent | CPU µs per request: app | pgbouncer | PostgreSQL |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
ceiling=$(col persistent 1)
for v in "${VARIANTS[@]}"; do
  rps=$(col "$v" 1)
  printf '| %s | %.0f | %.1f | %.1f | %.2f | %s | %s | %s |\n' "$(describe "$v")" "$rps" "$(col "$v" 2)" "$(col "$v" 3)" \
    "$(echo "$rps / $ceiling" | bc -l)" "$(col "$v" 4)" "$(col "$v" 5)" "$(col "$v" 6)"
done
