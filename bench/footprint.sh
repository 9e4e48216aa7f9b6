#!/usr/bin/env bash
# What the buildpack costs a dyno (issue: benchmarks, figure 5):
#   slug   bytes it adds to the slug, by part
#   memory proportional set size (PSS: shared pages split among the processes sharing them) of
#          nginx, pgbouncer, stunnel and the supervision (the supervisor and its samplers) in the reference article's web
#          process, idle and at the peak of a wrk run (32 connections on a view doing one query)
# The app is test/fixtures/plain under gunicorn -w 4. Run as root on a machine set up by
# support/setup-host.sh. Usage: bench/footprint.sh [LOAD_SECONDS [CONFIG_VAR=VALUE...]]
# (config vars for the dyno, e.g. PGBOUNCER_CLIENT_TLS=0 to weigh what a setting costs).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
LOAD=${1:-10}
CONFIG_VARS=("${@:2}")
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

bench_database
bench_app "$REPO/test/fixtures/plain"

kb() { du -sk --apparent-size "$@" | awk '{s += $1} END {print s}'; }
echo "Footprint ($(date -u +%Y-%m-%d), heroku-24 slug, gunicorn -w 4${CONFIG_VARS[*]+, ${CONFIG_VARS[*]}})"
echo "| slug part | KiB |"
echo "| --- | --- |"
for part in vendor/nginx vendor/pgbouncer vendor/stunnel vendor/nginx-pgbouncer; do
  echo "| $part | $(kb "$APP/$part") |"
done
echo "| bin/start-* and .profile.d | $(kb "$APP"/bin/start-* "$APP/.profile.d") |"
echo "| total added | $(kb "$APP/vendor" "$APP"/bin/start-* "$APP/.profile.d") |"
# Heroku stores and ships slugs gzipped.
echo "| total added, gzipped as in the slug archive | $(($(cd "$APP" && tar czf - vendor bin/start-* .profile.d | wc -c) / 1024)) |"

# pss_by_part: "nginx pgbouncer stunnel scripts" PSS in KiB over the dyno user's processes.
pss_by_part() {
  local pid comm pss nginx=0 pgbouncer=0 stunnel=0 scripts=0
  for pid in $(pgrep -u "$DYNO_USER"); do
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
    pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null) || continue
    [[ -n $pss ]] || continue
    case $comm in
      nginx) nginx=$((nginx + pss)) ;;
      pgbouncer) pgbouncer=$((pgbouncer + pss)) ;;
      stunnel) stunnel=$((stunnel + pss)) ;;
      # The supervision: the supervisor and its samplers, and any bash, cat or sleep of ours.
      supervise | bash | cat | sleep) scripts=$((scripts + pss)) ;;
    esac
  done
  echo "$nginx $pgbouncer $stunnel $scripts"
}

dyno_run "$BENCH_WORK/web.log" "bin/start-nginx bin/start-pgbouncer-stunnel gunicorn -w 4 --bind unix:/tmp/nginx.socket --log-level warning wsgi:application" \
  NGINX_ACCESS_LOG_PATH=/dev/null ${CONFIG_VARS[@]+"${CONFIG_VARS[@]}"}
dyno::wait_http /db 20
sleep 2
read -r idle_nginx idle_pgb idle_st idle_sh < <(pss_by_part)
wrk -t 2 -c 32 -d "${LOAD}s" "http://127.0.0.1:$PORT/db" >/dev/null &
load=$!
peak_nginx=0 peak_pgb=0 peak_st=0 peak_sh=0
while kill -0 "$load" 2>/dev/null; do
  read -r n p s b < <(pss_by_part)
  ((n > peak_nginx)) && peak_nginx=$n
  ((p > peak_pgb)) && peak_pgb=$p
  ((s > peak_st)) && peak_st=$s
  ((b > peak_sh)) && peak_sh=$b
  sleep 0.5
done
dyno::stop 10

echo
echo "| process (PSS, KiB) | idle | peak under load |"
echo "| --- | --- | --- |"
echo "| nginx (master + workers) | $idle_nginx | $peak_nginx |"
echo "| pgbouncer | $idle_pgb | $peak_pgb |"
echo "| stunnel | $idle_st | $peak_st |"
echo "| supervision (the supervisor, its samplers, any bash left) | $idle_sh | $peak_sh |"
echo "| total | $((idle_nginx + idle_pgb + idle_st + idle_sh)) | $((peak_nginx + peak_pgb + peak_st + peak_sh)) |"
