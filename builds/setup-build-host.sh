#!/usr/bin/env bash
# Prepares a Debian machine (as root) to run `npm run vendor:build`: deb-src entries for the suites
# our pinned sources come from, and the build tools. Safe to run again.
set -euo pipefail
list=/etc/apt/sources.list.d/hbnp-vendor-src.sources
# The deb-src entries mirror the machine's own Debian entries (same archive, same keys), for the
# suite it runs and for trixie, where most of our pinned sources come from.
if [[ ! -s $list ]]; then
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f && $f != "$list" ]] || continue
    awk '
      /^Types:/ { types = $0; next }
      /^Suites:/ { n = split($0, w, " "); line = "Suites:"; for (i = 2; i <= n; i++) {
          line = line " " w[i]; t = w[i]; if (sub(/^bookworm/, "trixie", t)) line = line " " t }
        suites = line; next }
      /^$/ { flush(); next }
      { rest = rest $0 "\n" }
      function flush() { if (types ~ /(^| )deb( |$)/ && suites != "") printf "Types: deb-src\n%s\n%s\n", suites, rest
        types = ""; suites = ""; rest = "" }
      END { flush() }' "$f"
  done | grep -v '^#' >"$list.tmp"
  if ! grep -q '^Types: deb-src' "$list.tmp"; then
    rm -f "$list.tmp"
    echo "setup-build-host: found no Debian entries in /etc/apt/sources.list.d/*.sources to mirror as deb-src" >&2
    exit 1
  fi
  mv "$list.tmp" "$list"
fi
apt-get update -qq
# gcc-aarch64-linux-gnu (with its binutils and the arm64 kernel headers) cross-builds linux-arm64;
# qemu-user-static runs what nginx's configure builds to try, and the arm64 smoke tests.
# ruby runs mruby's build (minirake).
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  build-essential dpkg-dev linux-libc-dev perl patch file xz-utils pkg-config ca-certificates ruby \
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross linux-libc-dev-arm64-cross qemu-user-static >/dev/null
