#!/usr/bin/env bats
# bin/detect and bin/release, classic and CNB.
load ../support/helpers

teardown() { mirror::stop; }

@test "classic detect passes for any app and names the buildpack" {
  run "$REPO/bin/detect" "$BATS_TEST_TMPDIR"
  assert_success
  assert_output "nginx-pgbouncer"
}

@test "CNB detect (two arguments and CNB_BUILDPACK_DIR) writes a build plan and passes" {
  CNB_BUILDPACK_DIR=$REPO CNB_BUILD_PLAN_PATH="$BATS_TEST_TMPDIR/plan.toml" run "$REPO/bin/detect" "$BATS_TEST_TMPDIR" "$BATS_TEST_TMPDIR/plan.toml"
  assert_success
  run cat "$BATS_TEST_TMPDIR/plan.toml"
  assert_output --partial '[[provides]]'
  assert_output --partial 'name = "nginx-pgbouncer"'
}

@test "CNB_STACK_ID alone does not switch detect to CNB mode" {
  CNB_STACK_ID=heroku-24 run "$REPO/bin/detect" "$BATS_TEST_TMPDIR"
  assert_output "nginx-pgbouncer"
}

@test "release prints YAML with no default process types" {
  run "$REPO/bin/release" "$BATS_TEST_TMPDIR"
  assert_success
  assert_output $'---\naddons: []\ndefault_process_types: {}'
}

@test "compile without arguments explains its usage" {
  run "$REPO/bin/compile"
  assert_failure
  assert_output --partial "Usage: bin/compile BUILD_DIR CACHE_DIR"
}

@test "a fault in the buildpack's own files is said as ours, not the app's, with no stack trace" {
  local bp="$BATS_TEST_TMPDIR/bp" app="$BATS_TEST_TMPDIR/app"
  mkdir -p "$app" "$bp"
  cp -a "$REPO/bin" "$REPO/dist" "$REPO/dyno" "$bp/"
  python3 -c 'import json, sys; m = json.load(sys.stdin); m["artifacts"][0]["version"] = "not-a-version"; json.dump(m, sys.stdout)' \
    <"$REPO/vendor-manifest.json" >"$bp/vendor-manifest.json"
  STACK=heroku-24 run "$bp/bin/compile" "$app" "$BATS_TEST_TMPDIR/cache"
  assert_failure
  assert_output --partial "the buildpack's own files are at fault, not your app"
  assert_output --partial "is not a version"
  assert_output --partial "For the buildpack's maintainers: Fix the manifest"
  refute_output --partial "    at "
}

# on_machine ARCH CMD...: CMD with `uname -m` saying ARCH and no Node on PATH.
on_machine() {
  local tools="$BATS_TEST_TMPDIR/tools-$1" f
  mkdir -p "$tools"
  for f in /usr/local/bin/* /usr/bin/* /bin/*; do
    case ${f##*/} in node | nodejs | npm | npx | corepack | uname) ;; *) ln -sf "$f" "$tools/" 2>/dev/null || true ;; esac
  done
  printf '#!/bin/sh\n[ "$1" = -m ] && echo %s || exec /usr/bin/uname "$@"\n' "$1" >"$tools/uname"
  chmod +x "$tools/uname"
  PATH=$tools "${@:2}"
}

@test "an arm64 build machine fetches the arm64 Node on heroku-24, and is told where arm64 is served on heroku-22" {
  mirror::start "$REPO/artifacts" "$BATS_TEST_TMPDIR"
  mkdir -p "$BATS_TEST_TMPDIR/env" "$BATS_TEST_TMPDIR/cache"
  echo "$MIRROR_URL" >"$BATS_TEST_TMPDIR/env/BUILDPACK_VENDOR_URL"
  BP_DIR=$REPO run on_machine aarch64 bash -c '. "$BP_DIR/bin/lib/find-node.sh"; find_node::find "$@"' _ heroku-24 "$BATS_TEST_TMPDIR/cache" "$BATS_TEST_TMPDIR/env"
  assert_success
  assert_line --regexp '/compile-node/node-22\.[0-9.]+-linux-arm64/bin/node$'
  run file -b "${lines[-1]}"
  assert_output --partial "ARM aarch64"
  BP_DIR=$REPO run on_machine aarch64 bash -c '. "$BP_DIR/bin/lib/find-node.sh"; find_node::find "$@"' _ heroku-22 "$BATS_TEST_TMPDIR/cache" "$BATS_TEST_TMPDIR/env"
  assert_failure
  assert_output " !     Error: heroku-22 has no arm64 binaries here
 !     arm64 builds are supported on heroku-24, heroku-26."
}
