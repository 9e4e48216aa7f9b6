#!/usr/bin/env bash
# Prints the Heroku stack a CNB build targets, from the target the lifecycle describes
# (CNB_TARGET_DISTRO_*, platform API 0.12+), else CNB_STACK_ID. bin/build passes it on as STACK, so
# the Node pin and the artifacts are picked from the same answer.
set -euo pipefail
case "${CNB_TARGET_DISTRO_NAME:-}:${CNB_TARGET_DISTRO_VERSION:-}" in
  ubuntu:22.04) echo heroku-22 ;;
  ubuntu:24.04) echo heroku-24 ;;
  ubuntu:26.04) echo heroku-26 ;;
  :) echo "${CNB_STACK_ID:-unknown}" ;;
  *) echo "${CNB_TARGET_DISTRO_NAME}-${CNB_TARGET_DISTRO_VERSION}" ;; # not ours: the build says so
esac
