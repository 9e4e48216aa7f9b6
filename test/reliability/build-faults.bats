#!/usr/bin/env bats
# Faults at build time, tried on purpose through bin/compile as Heroku runs it: the disk, the
# cache, two builds at once.
load ../support/helpers

setup_file() {
  load ../support/helpers
  dyno::ensure_user
  mirror::start "$REPO/artifacts" "$BATS_FILE_TMPDIR"
  make_test_work
  APP_SRC="$REPO/test/fixtures/plain"
  export APP_SRC
}

teardown_file() {
  mirror::stop
  rm -rf "$TEST_WORK"
}

@test "a build directory the build cannot write to is a clear error, not a stack trace" {
  local ro="$TEST_WORK/read-only-build" cache="$TEST_WORK/dyno-cache"
  mkdir -p "$ro" "$cache" && chown "$DYNO_USER" "$cache" && chmod 555 "$ro"
  mkdir -p "$TEST_WORK/env" && echo "$MIRROR_URL" >"$TEST_WORK/env/BUILDPACK_VENDOR_URL"
  run dyno::as_user env STACK=heroku-24 PATH="$PATH" "$REPO/bin/compile" "$ro" "$cache" "$TEST_WORK/env"
  assert_failure
  assert_output --partial "cannot write"
  assert_output --partial "permission denied"
  refute_output --partial "    at "
}

@test "a full disk at compile time is a clear error, and the slug holds no half install" {
  local full="$TEST_WORK/full"
  mkdir -p "$full"
  mount -t tmpfs -o size=3M tmpfs "$full"
  run compile_app heroku-24 "$APP_SRC" "$full/build" "$BATS_TEST_TMPDIR/cache"
  local left
  left=$(ls -A "$full/build/vendor" 2>/dev/null || true)
  umount "$full"
  assert_failure
  assert_output --partial "no space left on the device"
  refute_output --partial "    at "
  assert_equal "$left" ""
}

@test "two compiles sharing one cache at once both succeed, and the cache holds only verified files" {
  local cache="$BATS_TEST_TMPDIR/cache" a b
  compile_app heroku-24 "$APP_SRC" "$BATS_TEST_TMPDIR/b1" "$cache" >"$BATS_TEST_TMPDIR/c1.log" 2>&1 &
  a=$!
  compile_app heroku-24 "$APP_SRC" "$BATS_TEST_TMPDIR/b2" "$cache" >"$BATS_TEST_TMPDIR/c2.log" 2>&1 &
  b=$!
  wait "$a" || fail "the first compile failed: $(cat "$BATS_TEST_TMPDIR/c1.log")"
  wait "$b" || fail "the second compile failed: $(cat "$BATS_TEST_TMPDIR/c2.log")"
  local f name want
  for f in "$cache"/nginx-pgbouncer/downloads/*; do
    name=${f##*/}
    want=$(node -e 'const m = require(process.argv[1]); const a = Object.values(m.artifacts).find((x) => x.file === process.argv[2]); console.log(a ? a.sha256 : "not in the manifest")' "$REPO/vendor-manifest.json" "$name")
    assert_equal "$(sha256sum <"$f" | cut -d' ' -f1)" "$want"
  done
  assert_equal "$(ls "$cache"/nginx-pgbouncer/downloads | wc -l)" 3
}

@test "a corrupted artifact in the cache is detected at compile, replaced, and the build succeeds" {
  local cache="$BATS_TEST_TMPDIR/cache" f
  compile_app heroku-24 "$APP_SRC" "$BATS_TEST_TMPDIR/b1" "$cache" >/dev/null
  f=$(ls "$cache"/nginx-pgbouncer/downloads/pgbouncer-*)
  head -c 1000 /dev/urandom >"$f"
  run compile_app heroku-24 "$APP_SRC" "$BATS_TEST_TMPDIR/b2" "$cache"
  assert_success
  assert_output --partial "does not match its sha256: replacing it"
  assert_line --regexp '^       pgbouncer 1\.24\.1: .* downloaded, sha256 verified'
  run "$BATS_TEST_TMPDIR/b2/vendor/pgbouncer/bin/pgbouncer" --version
  assert_output --partial "PgBouncer 1.24.1"
}
