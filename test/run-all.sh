#!/usr/bin/env bash
# `npm test`: type check, lint and format, the bundle is what src/ builds to, the factory's
# artifacts, shellcheck, unit tests, and every bats suite. Self-sufficient on a fresh machine of
# this kind: as root it installs the Debian packages it needs, and npm packages when node_modules
# is missing; the artifacts are built once and cached per machine.
#
# `npm run test:fast` (--fast): the same checks without the factory build and without the suites
# that boot apps: the dyno's bats (test/dyno) run with the supervisor built from its source by
# the host's cc, and skip what needs the factory's nginx or mruby when artifacts/ has none.
# Under a minute; test/README.md says what each suite needs.
set -euo pipefail
cd "$(dirname "$0")/.."
fast=0
[[ ${1:-} != --fast ]] || fast=1
if ((EUID == 0 && !fast)); then
  echo "== setup: Debian packages"
  bash support/setup-host.sh
fi
[[ -d node_modules ]] || npm ci --no-audit --no-fund
echo "== typecheck"
npx tsc --noEmit -p .
echo "== lint and format (biome)"
npx biome ci --colors=off
echo "== bundle is up to date"
npm run -s build
# The fast loop runs on work in progress: it rebuilds the bundle; the full run checks it is committed.
if ((!fast)) && ! git diff --quiet -- dist/; then
  echo "dist/ differs from what src/ builds to: run npm run build and commit it" >&2
  git --no-pager diff --stat -- dist/ >&2
  exit 1
fi
if ((!fast)); then
  echo "== vendor artifacts"
  npm run -s vendor:build
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# The lint of the bash runs beside the tests (a second core); its findings are printed after them.
{
  shellcheck -x -P . -S warning bin/compile bin/build bin/detect bin/release bin/lib/*.sh dyno/bin/* dyno/lib/*.sh \
    support/*.sh builds/*.sh test/support/*.sh test/upstream/*.sh bench/*.sh &&
    shellcheck -x -P . -S warning -s bash test/*/*.bats test/support/*.bash
} >"$out/shellcheck.txt" 2>&1 &
shellcheck_pid=$!
echo "== unit tests"
unit=0
npm run -s test:unit | tee "$out/unit.tap" || unit=$?
echo "== bats"
bats=0
if ((fast)); then
  TEST_FAST=1 node_modules/bats/bin/bats --print-output-on-failure test/dyno | tee "$out/bats.tap" || bats=$?
else
  node_modules/bats/bin/bats --timing --print-output-on-failure test/dyno test/e2e test/reliability | tee "$out/bats.tap" || bats=$?
fi
echo "== shellcheck"
shellcheck=0
wait "$shellcheck_pid" || shellcheck=$?
cat "$out/shellcheck.txt"
passed=$(($(grep -c '^ok ' "$out/bats.tap" || true) + $(sed -n 's/^# pass //p' "$out/unit.tap")))
failed=$(($(grep -c '^not ok ' "$out/bats.tap" || true) + $(sed -n 's/^# fail //p' "$out/unit.tap")))
skipped=$(grep -c '^ok .* # skip' "$out/bats.tap" || true)
echo "total: $passed passed ($skipped of them skipped), $failed failed"
((unit == 0 && bats == 0 && failed == 0 && shellcheck == 0))
