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
shellcheck -x -P . -S warning bin/compile bin/build bin/detect bin/release bin/lib/*.sh src/runtime/bin/* src/runtime/lib/*.sh support/vendor/*.sh test/support/*.sh
echo "== unit tests"
npm run -s test:unit
echo "== bats"
node_modules/bats/bin/bats --print-output-on-failure test/bats
