# shellcheck shell=bash
# Shared by the bats files: assertions, the repo's paths, and a loopback mirror of dist/vendor.
REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
load "$REPO/node_modules/bats-support/load"
load "$REPO/node_modules/bats-assert/load"

# Tests run the start scripts as a non-root user, as a dyno does (pgbouncer refuses root).
DYNO_USER=${DYNO_USER:-dyno}
ensure_dyno_user() {
  id "$DYNO_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$DYNO_USER"
}
as_dyno() { if ((EUID == 0)); then runuser -u "$DYNO_USER" -- "$@"; else "$@"; fi; }

# start_mirror: serves dist/vendor on loopback, logging requests to $MIRROR_LOG; sets MIRROR_URL.
start_mirror() {
  MIRROR_LOG="$BATS_FILE_TMPDIR/mirror.log"
  : >"$MIRROR_LOG"
  python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$REPO/dist/vendor" >"$BATS_FILE_TMPDIR/mirror.out" 2>"$MIRROR_LOG" &
  MIRROR_PID=$!
  local i
  for i in $(seq 100); do
    grep -qoE 'port [0-9]+' "$BATS_FILE_TMPDIR/mirror.out" 2>/dev/null && break
    sleep 0.05
  done
  MIRROR_URL="http://127.0.0.1:$(grep -oE 'port [0-9]+' "$BATS_FILE_TMPDIR/mirror.out" | head -n1 | cut -d' ' -f2)"
  export MIRROR_URL MIRROR_LOG MIRROR_PID
}
stop_mirror() { [[ -n ${MIRROR_PID:-} ]] && kill "$MIRROR_PID" 2>/dev/null || true; }
mirror_requests() { grep -c '"GET ' "$MIRROR_LOG" || true; }

# compile_app STACK APP_SRC BUILD CACHE: runs bin/compile as Heroku does, against the mirror.
compile_app() {
  local stack=$1 src=$2 build=$3 cache=$4
  mkdir -p "$build" "$cache" "$BATS_FILE_TMPDIR/env"
  cp -r "$src/." "$build/"
  echo "$MIRROR_URL" >"$BATS_FILE_TMPDIR/env/BUILDPACK_VENDOR_URL"
  STACK=$stack "$REPO/bin/compile" "$build" "$cache" "$BATS_FILE_TMPDIR/env"
}
