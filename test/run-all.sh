#!/usr/bin/env bash
# `npm test`: type check, the bundle is what src/ builds to, unit tests, shellcheck, bats.
# Self-sufficient on a fresh machine of this kind: as root it installs the Debian packages it
# needs, and npm packages when node_modules is missing; the vendor artifacts are built once and
# cached per machine.
set -euo pipefail
cd "$(dirname "$0")/.."
if ((EUID == 0)); then
  echo "== setup: Debian packages"
  bash support/setup-host.sh
fi
[[ -d node_modules ]] || npm ci --no-audit --no-fund
echo "== typecheck"
npx tsc --noEmit -p .
echo "== bundle is up to date"
npm run -s build
if ! git diff --quiet -- dist/; then
  echo "dist/ differs from what src/ builds to: run npm run build and commit it" >&2
  git --no-pager diff --stat -- dist/ >&2
  exit 1
fi
echo "== vendor artifacts"
npm run -s vendor:build
echo "== shellcheck"
shellcheck -x -P . -S warning bin/compile bin/build bin/detect bin/release bin/lib/*.sh runtime/bin/* runtime/lib/*.sh support/*.sh builds/*.sh test/support/*.sh test/upstream/*.sh bench/*.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== unit tests"
unit=0
npm run -s test:unit | tee "$out/unit.tap" || unit=$?
echo "== bats"
bats=0
node_modules/bats/bin/bats --print-output-on-failure test/runtime test/e2e test/reliability | tee "$out/bats.tap" || bats=$?
passed=$(($(grep -c '^ok ' "$out/bats.tap" || true) + $(sed -n 's/^# pass //p' "$out/unit.tap")))
failed=$(($(grep -c '^not ok ' "$out/bats.tap" || true) + $(sed -n 's/^# fail //p' "$out/unit.tap")))
echo "total: $passed passed, $failed failed"
((unit == 0 && bats == 0 && failed == 0))
