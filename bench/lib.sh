# shellcheck shell=bash
# What the dyno benchmarks share: a work dir, the test suite's TLS-only PostgreSQL, a loopback
# mirror of dist/vendor, an app compiled like a Heroku build and owned by the dyno user, and
# helpers to run and stop a dyno's command and to take medians. Run as root on a machine set up
# by support/setup-host.sh. Callers set REPO.
DYNO_USER=dyno
BENCH_WORK=$(mktemp -d /tmp/hbnp-bench.XXXXXX)
chmod 755 "$BENCH_WORK"

bench_cleanup() {
  pkill -KILL -u "$DYNO_USER" 2>/dev/null || true
  [[ -n ${BENCH_MIRROR:-} ]] && kill "$BENCH_MIRROR" 2>/dev/null
  [[ -d $BENCH_WORK/pg ]] && "$REPO/test/support/pg.sh" stop "$BENCH_WORK/pg"
  rm -rf "$BENCH_WORK"
}
trap bench_cleanup EXIT

# bench_database: starts PostgreSQL; sets DATABASE_URL.
bench_database() {
  DATABASE_URL=$("$REPO/test/support/pg.sh" start "$BENCH_WORK/pg" "$("$REPO/test/support/free-port.sh")")
}

# bench_app FIXTURE_DIR...: the fixture dirs copied into one app, compiled for heroku-24 from a
# loopback mirror into $BENCH_WORK/app (APP), owned by the dyno user.
bench_app() {
  python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$REPO/dist/vendor" >"$BENCH_WORK/mirror.out" 2>/dev/null &
  BENCH_MIRROR=$!
  for _ in $(seq 100); do grep -q 'port [0-9]' "$BENCH_WORK/mirror.out" 2>/dev/null && break; sleep 0.05; done
  mkdir -p "$BENCH_WORK/env" "$BENCH_WORK/app"
  echo "http://127.0.0.1:$(grep -oE 'port [0-9]+' "$BENCH_WORK/mirror.out" | cut -d' ' -f2)" >"$BENCH_WORK/env/BUILDPACK_VENDOR_URL"
  local d
  for d; do cp -r "$d/." "$BENCH_WORK/app/"; done
  STACK=heroku-24 "$REPO/bin/compile" "$BENCH_WORK/app" "$BENCH_WORK/cache" "$BENCH_WORK/env" >/dev/null
  chown -R "$DYNO_USER" "$BENCH_WORK/app"
  APP=$BENCH_WORK/app
}

# dyno_start LOG COMMAND [VAR=VALUE...]: COMMAND in the app dir as the dyno user, in a session of
# its own, with only PATH, HOME, PORT, DATABASE_URL and the given vars.
dyno_start() {
  local log=$1 command=$2
  shift 2
  rm -f /tmp/nginx.socket /tmp/app-initialized
  runuser -u "$DYNO_USER" -- env -i PATH=/usr/bin:/bin HOME="$APP" PORT="$PORT" DATABASE_URL="${DATABASE_URL:-}" "$@" \
    setsid bash -c "cd '$APP' && exec $command" >"$log" 2>&1 &
}

# dyno_wait_http PATH: until the dyno answers 200 on PATH (20 s).
dyno_wait_http() {
  for _ in $(seq 400); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "bench: nothing answered on $PORT$1" >&2
  return 1
}

# dyno_stop: SIGTERM to every process of the dyno user, as Heroku does; SIGKILL after 10 s.
dyno_stop() {
  pkill -TERM -u "$DYNO_USER" || true
  for _ in $(seq 100); do pgrep -u "$DYNO_USER" >/dev/null || return 0; sleep 0.1; done
  pkill -KILL -u "$DYNO_USER" || true
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

# wrk_summary: wrk --latency output on stdin -> "req/s p50_ms p99_ms"
wrk_summary() {
  awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    END { printf "%s %s %s\n", rps, p50, p99 }'
}
