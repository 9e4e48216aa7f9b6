#!/usr/bin/env bash
# Prints the Heroku stack a CNB build targets, for picking the pinned Node (the TypeScript side
# does the same in src/cnb/stack.ts for the artifacts).
set -euo pipefail
case "${CNB_TARGET_DISTRO_NAME:-}:${CNB_TARGET_DISTRO_VERSION:-}" in
  ubuntu:20.04) echo heroku-20 ;;
  ubuntu:22.04) echo heroku-22 ;;
  ubuntu:24.04) echo heroku-24 ;;
  ubuntu:26.04) echo heroku-26 ;;
  *) echo "${CNB_STACK_ID:-unknown}" ;;
esac
