#!/usr/bin/env bash
# `npm run test:upstream`: upstream's own test suites against our binaries (dist/vendor), from the
# same pinned source tarballs the vendor build used, with the same patches applied:
#   pgbouncer: its pytest suite (test/), run as the dyno user with its own PostgreSQL;
#   stunnel:   its suite (tests/maketest.py).
# Our SIGTERM patches get the environment switches that restore upstream's behaviour, since the
# suites test upstream's. Tests that need what this machine lacks say so in their skip reason.
# Prints "upstream: N passed, N failed".
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
DYNO_USER=${DYNO_USER:-dyno}
SOURCES="${XDG_CACHE_HOME:-$HOME/.cache}/heroku-buildpack-nginx-pgbouncer/sources"
PGBIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)
WORK=$(mktemp -d /tmp/hbnp-upstream.XXXXXX)
chmod 755 "$WORK"
trap 'pkill -KILL -u "$DYNO_USER" 2>/dev/null || true; rm -rf "$WORK"' EXIT

# manifest_field NAME EXPR: a field of an artifact's manifest entry (python3: no jq on the machine).
manifest_field() {
  python3 - "$1" "$2" <<'PY'
import json, sys
a = next(x for x in json.load(open("vendor-manifest.json"))["artifacts"] if x["name"] == sys.argv[1])
value = eval(sys.argv[2], {}, {"a": a})
print("\n".join(value) if isinstance(value, list) else value)
PY
}

# source_tree NAME: the pinned orig tarball unpacked, with the patches our binary was built with.
source_tree() {
  local name=$1 dir="$WORK/$1-src" p
  mkdir -p "$dir"
  tar -xzf "$SOURCES/$(manifest_field "$name" 'a["debian"]["orig"]')" -C "$dir" --strip-components=1
  for p in $(manifest_field "$name" 'a["debian"]["patches"] + a["patches"]'); do
    patch -d "$dir" -p1 --quiet --no-backup-if-mismatch <"support/vendor/patches/$p"
  done
  echo "$dir"
}

binary_of() { tar -xzf "dist/vendor/$(manifest_field "$1" 'a["file"]')" -C "$2" ./bin/"$1"; }

run_pgbouncer_suite() {
  local src
  src=$(source_tree pgbouncer)
  binary_of pgbouncer "$WORK" && cp "$WORK/bin/pgbouncer" "$src/pgbouncer"
  chown -R "$DYNO_USER" "$src"
  echo "== upstream: pgbouncer $(manifest_field pgbouncer 'a["version"]') test suite (pytest, 2 workers)"
  runuser -u "$DYNO_USER" -- env -i HOME="$src" PATH="$PGBIN:/usr/bin:/bin" LANG=C.UTF-8 PGBOUNCER_HONOR_SIGTERM=1 \
    bash -c "cd '$src' && timeout 900 python3 -m pytest -p no:cacheprovider -n 2 -q -rs test/" | tee "$WORK/pgbouncer.out"
}

run_stunnel_suite() {
  local src
  src=$(source_tree stunnel)
  binary_of stunnel "$WORK" && mkdir -p "$src/src" && cp "$WORK/bin/stunnel" "$src/src/stunnel"
  chown -R "$DYNO_USER" "$src"
  echo "== upstream: stunnel $(manifest_field stunnel 'a["version"]') test suite"
  runuser -u "$DYNO_USER" -- env -i HOME="$src" PATH=/usr/bin:/bin LANG=C.UTF-8 STUNNEL_HONOR_SIGTERM=1 \
    bash -c "cd '$src/tests/certs' && sh maketestcert.sh >/dev/null && cd .. &&
      timeout 900 python3 maketest.py --program='$src/src/stunnel'" | tee "$WORK/stunnel.out"
}

main() {
  local rc=0 passed failed
  run_pgbouncer_suite || rc=1
  run_stunnel_suite || rc=1
  # pytest's last line ("229 passed, 7 skipped in 80s") and stunnel's summary ("succeeded: 30")
  passed=$(($(grep -oE '[0-9]+ passed' "$WORK/pgbouncer.out" | tail -n1 | cut -d' ' -f1) +
    $(sed -n 's/^[[:space:]]*succeeded: //p' "$WORK/stunnel.out" | tail -n1)))
  failed=$(($(grep -oE '[0-9]+ (failed|error)' "$WORK/pgbouncer.out" | cut -d' ' -f1 | paste -sd+ - | bc) +
    $(sed -n 's/^[[:space:]]*failed: //p' "$WORK/stunnel.out" | tail -n1)))
  echo "upstream: $passed passed, $failed failed"
  return "$rc"
}

main "$@"
