#!/usr/bin/env bash
# `npm run test:upstream`: upstream's own test suites against our binaries (artifacts), from the
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
  local name=$1 dir="$WORK/$1-src" p orig
  orig="$SOURCES/$(manifest_field "$name" 'a["debian"]["orig"]')"
  if [[ ! -f $orig ]]; then
    echo "test:upstream: $orig is missing; run npm run vendor:build -- --no-cache first" >&2
    return 1
  fi
  mkdir -p "$dir"
  tar -xzf "$orig" -C "$dir" --strip-components=1
  for p in $(manifest_field "$name" 'a["debian"]["patches"] + a["patches"]'); do
    patch -d "$dir" -p1 --quiet --no-backup-if-mismatch <"builds/patches/$p"
  done
  echo "$dir"
}

binary_of() { tar -xzf "artifacts/$(manifest_field "$1" 'a["file"]')" -C "$2" ./bin/"$1"; }

run_pgbouncer_suite() {
  local src ipv6=()
  # The suite's IPv6 test needs ::1, which some containers lack.
  if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
    ipv6=(HAVE_IPV6_LOCALHOST=1)
  fi
  src=$(source_tree pgbouncer)
  binary_of pgbouncer "$WORK" && cp "$WORK/bin/pgbouncer" "$src/pgbouncer"
  # What the suite reads of configure's output: our build has TLS (--with-openssl).
  echo "tls_support = yes" >"$src/config.mak"
  chown -R "$DYNO_USER" "$src"
  echo "== upstream: pgbouncer $(manifest_field pgbouncer 'a["version"]') test suite (pytest, 2 workers)"
  local pytest=(runuser -u "$DYNO_USER" -- env -i HOME="$src" PATH="$PGBIN:/usr/bin:/bin" LANG=C.UTF-8
    PGBOUNCER_HONOR_SIGTERM=1 "${ipv6[@]}" timeout 900 python3 -m pytest -o "cache_dir=$src/.pytest_cache" -q -rs)
  if (cd "$src/test" && "${pytest[@]}" -n 2) 2>&1 | tee "$WORK/pgbouncer.out"; then return 0; fi
  # A few of upstream's tests race on timing (test_prepared_failed_prepare_pipeline says so in its
  # own comment), and two busy cores can lose the race: the failed ones run once more, alone, and
  # only a second failure counts. The first failure stays in the output.
  echo "== upstream: pgbouncer, the failed tests once more, one at a time"
  (cd "$src/test" && "${pytest[@]}" --last-failed) 2>&1 | tee "$WORK/pgbouncer-rerun.out"
}

run_stunnel_suite() {
  local src
  src=$(source_tree stunnel)
  binary_of stunnel "$WORK" && mkdir -p "$src/src" && cp "$WORK/bin/stunnel" "$src/src/stunnel"
  # The suite has no skip mechanism: its FIPS plugins are taken out, and said so.
  rm "$src"/tests/plugins/p10_fips.py "$src"/tests/plugins/p11_fips_cipher.py
  echo "skipped: stunnel's FIPS tests (plugins p10, p11): our stunnel is built with --disable-fips, as no FIPS provider is shipped"
  chown -R "$DYNO_USER" "$src"
  echo "== upstream: stunnel $(manifest_field stunnel 'a["version"]') test suite"
  runuser -u "$DYNO_USER" -- env -i HOME="$src" PATH=/usr/bin:/bin LANG=C.UTF-8 STUNNEL_HONOR_SIGTERM=1 \
    bash -c "cd '$src/tests/certs' && sh maketestcert.sh >/dev/null && cd .. &&
      timeout 900 python3 maketest.py --program='$src/src/stunnel'" 2>&1 | tee "$WORK/stunnel.out"
}

# count REGEX SUITE: the sum of the numbers in REGEX's matches in SUITE's last summary line (0 if none).
count() {
  local n
  [[ -f $WORK/$2.out ]] || { echo 0; return; }
  n=$(grep -E "$1" "$WORK/$2.out" | tail -n 1 | grep -oE "$1" | grep -oE '[0-9]+' | paste -sd+ -)
  echo $((${n:-0}))
}

main() {
  local rc=0 passed failed
  run_pgbouncer_suite || rc=1
  run_stunnel_suite || rc=1
  # pytest's last line ("229 passed, 7 skipped in 80s") and stunnel's summary ("succeeded: 30")
  passed=$(($(count '[0-9]+ passed' pgbouncer) + $(count '[0-9]+ passed' pgbouncer-rerun) + $(count 'succeeded: [0-9]+' stunnel)))
  failed=$(($(count '[0-9]+ (failed|errors?)' pgbouncer-rerun) + $(count 'failed: [0-9]+' stunnel)))
  if [[ ! -s $WORK/pgbouncer-rerun.out ]]; then failed=$((failed + $(count '[0-9]+ (failed|errors?)' pgbouncer))); fi
  echo "upstream: $passed passed, $failed failed"
  return "$rc"
}

main "$@"
