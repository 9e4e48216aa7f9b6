#!/usr/bin/env bash
# pool-samples.sh RUN_DIR PORT PERIOD: every PERIOD seconds, one line per pooled database from
# pgbouncer's SHOW POOLS, in Heroku's l2met form, for log-based metrics:
#   sample#pgbouncer.cl_active=3 sample#pgbouncer.cl_waiting=0 … source=db1
# Run by the pooler's start script as a supervised child; it never ends on its own. It reads the
# admin console as the stats-only user over the private socket.
set -euo pipefail
# shellcheck source=runtime/lib/nap.sh
. "$(dirname "${BASH_SOURCE[0]}")/nap.sh"
dir=$1 port=$2 period=$3 child=""
# The dyno's SIGTERM is not for us (psql inherits the ignore): the start script stops us with
# SIGHUP once the app is gone (see supervise.sh). Then at once, psql included: bash would otherwise
# finish the query first, and a pgbouncer that is shutting down may never answer it.
trap '' TERM
trap '[[ -z $child ]] || { kill -KILL "$child"; wait "$child"; } 2>/dev/null; exit 0' HUP

if ! command -v psql >/dev/null; then
  echo "pool-samples: no psql on this stack: pool samples are off" >&2
  while :; do nap 3600; done
fi
while :; do
  nap "$period"
  PGCONNECT_TIMEOUT=5 psql "host=$dir port=$port dbname=pgbouncer user=pgbouncer_stats" -X -A -F ' ' \
    -c 'SHOW POOLS' >"$dir/pool-samples.out" 2>/dev/null & child=$!
  wait "$child" || { child=""; continue; }
  child=""
  awk 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
      /^\(/ || $col["database"] == "pgbouncer" { next }
      { line = ""
        n = split("cl_active cl_waiting sv_active sv_idle sv_used sv_login maxwait", names, " ")
        for (i = 1; i <= n; i++) if (names[i] in col) line = line "sample#pgbouncer." names[i] "=" $col[names[i]] " "
        print line "source=" $col["database"] }' "$dir/pool-samples.out" || true
done
