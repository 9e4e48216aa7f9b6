#!/usr/bin/env bats
# Every message the start scripts and their supervisor can print is in the README's troubleshooting section.
load ../support/helpers

@test "the README's Troubleshooting lists every message of the start scripts" {
  local messages listed missing=""
  messages=$(python3 "$REPO/test/support/messages.py" "$REPO"/dyno/bin/* "$REPO"/dyno/lib/*.sh "$REPO"/builds/supervisor/*.c)
  [[ $(wc -l <<<"$messages") -gt 40 ]] || fail "found only: $messages"
  listed=$(python3 -c 'import re, sys
text = open(sys.argv[1]).read().split("## Troubleshooting", 1)[1].split("\n## ", 1)[0]
print("\n".join(re.findall(r"`([^`]+)`", text)))' "$REPO/README.md")
  while IFS= read -r m; do
    grep -qxF -- "$m" <<<"$listed" || missing+="$m"$'\n'
  done <<<"$messages"
  [[ -z $missing ]] || fail "not in the README's Troubleshooting: $missing"
}
