#!/usr/bin/env bats
# bin/detect and bin/release, classic and CNB.
load ../support/helpers

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
