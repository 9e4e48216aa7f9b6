# shellcheck shell=bash
# The one dyno harness, in plain bash, for the tests, bench/, the demo and the CNB tests: a loopback
# mirror of the vendor artifacts, a compile as Heroku runs it, and a dyno started, waited for and
# stopped as the platform does. Run as root (the dyno runs as DYNO_USER). Callers set REPO.
#
# Globals it sets: MIRROR_URL, MIRROR_PID, MIRROR_LOG (mirror::start); DYNO_PID, DYNO_LOG
# (dyno::start). It reads DYNO_USER, DYNO_PATH, PORT and DATABASE_URL.
DYNO_USER=${DYNO_USER:-dyno}
# The dyno's PATH: Heroku's Python buildpack puts `python` on it; callers may add a dir for that.
DYNO_PATH=${DYNO_PATH:-/usr/bin:/bin}

dyno::ensure_user() { id "$DYNO_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$DYNO_USER"; }

# dyno::as_user COMMAND...: COMMAND as the dyno user (pgbouncer refuses root), or as is if not root.
dyno::as_user() { if ((EUID == 0)); then runuser -u "$DYNO_USER" -- "$@"; else "$@"; fi; }

# mirror::start DIR WORK [PORT]: serves DIR on loopback (PORT, or a free one), its request log in
# WORK/mirror.log. Sets MIRROR_URL, MIRROR_PID, MIRROR_LOG.
mirror::start() {
  local dir=$1 work=$2 port=${3:-0} _
  MIRROR_LOG="$work/mirror.log"
  : >"$MIRROR_LOG"
  python3 -u -m http.server "$port" --bind 127.0.0.1 --directory "$dir" >"$work/mirror.out" 2>"$MIRROR_LOG" &
  MIRROR_PID=$!
  for _ in $(seq 100); do
    grep -q 'port [0-9]' "$work/mirror.out" 2>/dev/null && break
    sleep 0.05
  done
  MIRROR_URL="http://127.0.0.1:$(grep -oE 'port [0-9]+' "$work/mirror.out" | head -n1 | cut -d' ' -f2)"
  export MIRROR_URL MIRROR_PID MIRROR_LOG
}

mirror::stop() {
  [[ -n ${MIRROR_PID:-} ]] || return 0
  kill "$MIRROR_PID" 2>/dev/null || true
  wait "$MIRROR_PID" 2>/dev/null || true
  MIRROR_PID=
}

mirror::requests() { grep -c '"GET ' "$MIRROR_LOG" || true; }

# app::compile STACK SRC BUILD CACHE ENV_DIR: SRC copied to BUILD and compiled there by bin/compile
# as Heroku runs it, with the mirror as BUILDPACK_VENDOR_URL.
app::compile() {
  local stack=$1 src=$2 build=$3 cache=$4 env_dir=$5
  mkdir -p "$build" "$cache" "$env_dir"
  cp -r "$src/." "$build/"
  echo "$MIRROR_URL" >"$env_dir/BUILDPACK_VENDOR_URL"
  STACK=$stack "$REPO/bin/compile" "$build" "$cache" "$env_dir"
}

# app::slug BUILD SLUG: the build dir moved to where it runs and owned by the dyno user, as a slug is.
app::slug() {
  mv "$1" "$2"
  chown -R "$DYNO_USER" "$2"
}

# Stale files of a dyno that ran as another user would stop the next one.
dyno::clear_tmp() { rm -f /tmp/nginx.socket /tmp/app-initialized; }

# dyno::start APP LOG COMMAND [VAR=VALUE...]: a Procfile command as the platform runs it: as the
# dyno user, in a session of its own, in APP, with PATH, HOME, PORT, DATABASE_URL and the given
# vars and nothing of ours. Sets DYNO_PID and DYNO_LOG.
dyno::start() {
  local app=$1 command=$3
  DYNO_LOG=$2
  shift 3
  # The dyno's stdout must be its own file: nginx reopens /dev/stdout for the access log.
  : >"$DYNO_LOG" && chown "$DYNO_USER" "$DYNO_LOG"
  dyno::as_user env -i PATH="$DYNO_PATH" HOME="$app" PORT="${PORT:-}" DATABASE_URL="${DATABASE_URL:-}" "$@" \
    setsid bash -c "cd '$app' && exec $command" >"$DYNO_LOG" 2>&1 &
  DYNO_PID=$!
}

# dyno::wait_http PATH [SECONDS]: until the dyno answers 200 on PATH (Heroku's boot limit, 60 s, by
# default); fails at once if the dyno has exited.
dyno::wait_http() {
  local _
  for _ in $(seq $((${2:-60} * 10))); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT$1" 2>/dev/null && return 0
    kill -0 "$DYNO_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "dyno: nothing answered 200 on port $PORT$1; the last of its output ($DYNO_LOG):" >&2
  tail -n 40 "$DYNO_LOG" >&2
  return 1
}

# Live processes of the dyno user (zombies are dead already; reaping them is init's job).
dyno::pids() { ps -u "$DYNO_USER" -o pid=,stat=,args= | awk '$2 !~ /^Z/' || true; }

# dyno::stop [GRACE]: as Heroku stops a dyno: SIGTERM to every process in it, SIGKILL GRACE
# seconds (30) later.
dyno::stop() {
  local _
  pkill -TERM -u "$DYNO_USER" || true
  for _ in $(seq $((${1:-30} * 10))); do
    [[ -z $(dyno::pids) ]] && break
    sleep 0.1
  done
  pkill -KILL -u "$DYNO_USER" || true
  wait "${DYNO_PID:-}" 2>/dev/null || true
}
