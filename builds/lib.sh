# Helpers shared by the vendor build scripts (sourced, not run).
# shellcheck shell=bash

step() { printf -- '-----> %s\n' "$*"; }
detail() { printf -- '       %s\n' "$*"; }

# package NAME VERSION: $STAGE/NAME -> $OUT_DIR/NAME-VERSION-$PLATFORM.tar.gz
package() {
  local name=$1 version=$2 out
  out="$OUT_DIR/$name-$version-$PLATFORM.tar.gz"
  # Fixed names, owners, modes and times, and no name or time in the gzip header: the same bytes
  # on every build.
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
    --mode='u+rwX,go+rX,go-w' --format=gnu -C "$STAGE/$name" -cf - . | gzip -n -9 >"$out.tmp"
  mv "$out.tmp" "$out"
  detail "$(basename "$out"): $(stat -c %s "$out") bytes"
}

