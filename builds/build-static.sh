#!/usr/bin/env bash
# Builds fully static nginx, pgbouncer and stunnel for one platform from verified source tarballs.
#
# Called by builds/main.ts, which fetches and checks the sources and passes them in, runs
# this once to build into $BUILD_ROOT/stage, writes the SBOMs there, then runs `build-static.sh
# package` to make the artifacts:
#   SRC_<LIB>      path of each verified orig tarball (MUSL MIMALLOC ZLIB OPENSSL PCRE2 LIBEVENT HEADERS_MORE MRUBY
#                  NGINX PGBOUNCER STUNNEL)
#   VER_<LIB>      the matching upstream version
#   OUT_DIR        where the three .tar.gz artifacts go
#   BUILD_ROOT     fixed build path: it leaks into the binaries (nginx -V, OpenSSL's dirs), so it must
#                  not vary between builds for them to be byte-identical
#   PLATFORM       linux-x64, or linux-arm64 (cross-built with Debian's aarch64 gcc; configure's test
#                  programs run under qemu-aarch64-static)
#   SOURCE_DATE_EPOCH
#
# musl is built from source too rather than taken from the host's musl-tools: Debian's musl has no
# crypt() (nginx needs it), and pinning it keeps the libc in the binaries independent of the host.
set -euo pipefail

: "${OUT_DIR:?}" "${BUILD_ROOT:?}" "${PLATFORM:?}" "${SOURCE_DATE_EPOCH:?}"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PATCHES="$HERE/patches"
# shellcheck source=builds/lib.sh
. "$HERE/lib.sh"
JOBS=${JOBS:-$(nproc)}
export LC_ALL=C TZ=UTC SOURCE_DATE_EPOCH

SRC="$BUILD_ROOT/src"
TOOLCHAIN="$BUILD_ROOT/musl"
DEPS="$BUILD_ROOT/deps"
STAGE="$BUILD_ROOT/stage"
LOGS="$BUILD_ROOT/logs"

# CROSS: the target's GNU triplet when it is not this machine's (then its gcc and binutils are
# Debian's cross ones, and the kernel's uapi headers theirs); ELF_ARCH: what `file` must say.
case "$PLATFORM" in
  linux-x64) CROSS="" UAPI=/usr/include ASM=/usr/include/x86_64-linux-gnu/asm OPENSSL_TARGET=linux-x86_64 ELF_ARCH=x86-64 ;;
  linux-arm64) CROSS=aarch64-linux-gnu UAPI=/usr/aarch64-linux-gnu/include ASM=/usr/aarch64-linux-gnu/include/asm
    OPENSSL_TARGET=linux-aarch64 ELF_ARCH="ARM aarch64" ;;
  *) echo "build-static: unknown PLATFORM '$PLATFORM' (expected linux-x64 or linux-arm64)" >&2; exit 2 ;;
esac
TOOL_PREFIX=${CROSS:+$CROSS-}
HOST_ARGS=()
[[ -z $CROSS ]] || HOST_ARGS=(--host="$CROSS")
export AR="${TOOL_PREFIX}ar" RANLIB="${TOOL_PREFIX}ranlib"

# Runs a build command with its output in a log; on failure shows the log's tail.
logged() {
  local name=$1; shift
  if ! "$@" >>"$LOGS/$name.log" 2>&1; then
    echo "build-static: '$name' failed; last lines of $LOGS/$name.log:" >&2
    tail -n 40 "$LOGS/$name.log" >&2
    return 1
  fi
}

unpack() { # unpack TARBALL DIRNAME: fresh tree at $SRC/DIRNAME
  local tarball=$1 dir=$2 tmp
  rm -rf "${SRC:?}/$dir"
  tmp=$(mktemp -d "$SRC/.unpack.XXXXXX")
  tar -xf "$tarball" -C "$tmp"
  mv "$tmp"/* "$SRC/$dir"
  rmdir "$tmp"
}

apply_series() { # apply_series DIR TREE: patches listed in DIR/series, in order
  local dir=$1 tree=$2 p
  [[ -f $dir/series ]] || return 0
  while read -r p; do
    [[ -z $p || $p == \#* ]] && continue
    patch -d "$tree" -p1 --quiet --no-backup-if-mismatch <"$dir/$p"
    detail "patched: ${dir#"$PATCHES"/}/$p"
  done <"$dir/series"
}

# Patches that touch autotools inputs make `make` want to rerun automake; the generated files
# shipped in the tarball are what we build from, so make them newer than their inputs.
settle_autotools() {
  find "$1" \( -name aclocal.m4 -o -name configure -o -name Makefile.in -o -name config.h.in \) \
    -exec touch {} +
}

CFLAGS_COMMON="-O2 -pipe -fstack-protector-strong -ffile-prefix-map=$BUILD_ROOT=/build -fno-plt"

build_musl() {
  step "musl $VER_MUSL (toolchain libc)"
  unpack "$SRC_MUSL" musl
  apply_series "$PATCHES/debian/musl" "$SRC/musl"
  apply_series "$PATCHES/ours/musl" "$SRC/musl"
  local cross=()
  [[ -z $CROSS ]] || cross=(--target="$CROSS" CROSS_COMPILE="$TOOL_PREFIX" CC="${TOOL_PREFIX}gcc")
  (cd "$SRC/musl" &&
    logged musl ./configure --prefix="$TOOLCHAIN" --disable-shared "${cross[@]}" CFLAGS="-O2 -pipe -ffile-prefix-map=$BUILD_ROOT=/build" &&
    logged musl make -j"$JOBS" && logged musl make install)
  # musl-gcc cannot see the kernel's uapi headers, which OpenSSL and libevent include; copy just
  # those (never /usr/include itself, whose glibc headers would shadow musl's).
  cp -r "$UAPI/linux" "$UAPI/asm-generic" "$TOOLCHAIN/include/"
  cp -r "$ASM" "$TOOLCHAIN/include/asm"
  # musl-gcc links dynamically unless told -static, and a toolchain built --disable-shared has no
  # loader (/lib/ld-musl-*.so.1): configure's test programs would run only where Debian's musl
  # happens to be installed. This compiler links every program static, configure tests included.
  cat >"$TOOLCHAIN/bin/musl-static-gcc" <<SH
#!/bin/sh
exec "$TOOLCHAIN/bin/musl-gcc" -static "\$@"
SH
  chmod 0755 "$TOOLCHAIN/bin/musl-static-gcc"
}

# OpenSSL parts that nginx, pgbouncer and stunnel never call: most of OpenSSL's 2026 CVEs were in
# them (QUIC, DTLS, CMS, CMP/CRMF, TS), and leaving them out means a later one cannot reach us.
OPENSSL_FEATURES_LEFT_OUT=(no-quic no-dtls no-cms no-cmp no-ts no-srp)

# mimalloc replaces musl's malloc in nginx, pgbouncer and stunnel (issue #26): musl's mallocng
# unmaps freed memory at once, so nginx's proxy buffers were mapped and faulted in afresh for every
# request (builds/README.md has the profile). One object, linked ahead of libc, so that musl's
# malloc is never pulled in; main.ts checks that it was not.
MIMALLOC_O="$DEPS/lib/mimalloc.o"
build_mimalloc() {
  step "mimalloc $VER_MIMALLOC (the allocator of nginx, pgbouncer and stunnel)"
  unpack "$SRC_MIMALLOC" mimalloc
  apply_series "$PATCHES/ours/mimalloc" "$SRC/mimalloc"
  mkdir -p "$DEPS/lib"
  # The flags of upstream's CMakeLists for an overriding build (MI_OVERRIDE), as a static one.
  # shellcheck disable=SC2086 # CFLAGS_COMMON is a list of flags
  logged mimalloc "$CC" $CFLAGS_COMMON -fvisibility=hidden -ftls-model=initial-exec -fno-builtin-malloc \
    -DMI_MALLOC_OVERRIDE -DNDEBUG -I"$SRC/mimalloc/include" -c "$SRC/mimalloc/src/static.c" -o "$MIMALLOC_O"
}

build_openssl() {
  step "OpenSSL $VER_OPENSSL"
  unpack "$SRC_OPENSSL" openssl
  apply_series "$PATCHES/debian/openssl" "$SRC/openssl"
  # LDFLAGS must not hold -static here: Configure then silently drops thread support, which
  # stunnel needs. The libraries are static anyway (no-shared).
  # CFLAGS_COMMON is split on purpose: Configure takes compiler flags as separate arguments.
  # shellcheck disable=SC2086
  (cd "$SRC/openssl" && unset LDFLAGS &&
    logged openssl ./Configure "$OPENSSL_TARGET" no-shared no-module no-tests no-docs \
      no-dso no-engine no-legacy "${OPENSSL_FEATURES_LEFT_OUT[@]}" \
      --prefix="$DEPS" --libdir=lib --openssldir=/etc/ssl $CFLAGS_COMMON &&
    logged openssl make -j"$JOBS" build_libs && logged openssl make install_dev)
  grep -q '^# *define OPENSSL_THREADS' "$DEPS/include/openssl/configuration.h" ||
    { echo "build-static: OpenSSL was configured without threads" >&2; return 1; }
}

build_libevent() {
  step "libevent $VER_LIBEVENT"
  unpack "$SRC_LIBEVENT" libevent
  settle_autotools "$SRC/libevent"
  (cd "$SRC/libevent" &&
    CFLAGS="$CFLAGS_COMMON" logged libevent ./configure "${HOST_ARGS[@]}" --prefix="$DEPS" --disable-shared --enable-static \
      --disable-openssl --disable-samples --disable-libevent-regress --disable-debug-mode &&
    logged libevent make -j"$JOBS" && logged libevent make install)
}

# Modules nginx compiles by default that no app's config we know of uses: each is attack surface
# (SSI and grpc had CVEs in 2026); grpc: the router reaches the dyno over HTTP/1.1. fastcgi, scgi
# and autoindex stay: real apps' configs written for heroku-buildpack-nginx use them (their temp
# paths, directory listings), and an unknown directive fails the build. SECURITY.md's list of
# modules says what is kept and why.
NGINX_MODULES_LEFT_OUT=(--without-http_ssi_module --without-http_grpc_module --without-http_memcached_module
  --without-http_userid_module --without-http_empty_gif_module --without-http_split_clients_module
  --without-http_browser_module --without-http_mirror_module)

# autotest_under_qemu: prints a compiler that is $CC, except that the programs nginx's configure
# builds to run (objs/autotest) are run by qemu.
autotest_under_qemu() {
  local wrapper="$TOOLCHAIN/bin/cc-autotest-qemu"
  cat >"$wrapper" <<SH
#!/bin/sh
out=""; prev=""
for a in "\$@"; do [ "\$prev" = "-o" ] && out=\$a; prev=\$a; done
"$CC" "\$@" || exit \$?
if [ "\$out" = objs/autotest ]; then
  mv objs/autotest objs/autotest.bin
  printf '#!/bin/sh\\nexec qemu-${CROSS%%-*}-static "%s/objs/autotest.bin" "\$@"\\n' "\$PWD" >objs/autotest
  chmod 0755 objs/autotest
fi
SH
  chmod 0755 "$wrapper"
  printf '%s\n' "$wrapper"
}

build_nginx() {
  step "nginx $VER_NGINX"
  unpack "$SRC_NGINX" nginx
  # nginx's own make builds pcre2 (with JIT) and zlib from these trees, with our CC and flags.
  unpack "$SRC_PCRE2" pcre2
  unpack "$SRC_ZLIB" zlib
  # headers-more (more_set_headers, more_clear_headers), which heroku-buildpack-nginx has built in
  # since 2018: apps use it for security headers and to hide Server.
  unpack "$SRC_HEADERS_MORE" headers-more
  apply_series "$PATCHES/ours/headers-more" "$SRC/headers-more"
  apply_series "$PATCHES/ours/zlib" "$SRC/zlib"
  apply_series "$PATCHES/ours/nginx" "$SRC/nginx"
  # nginx's configure has no cross mode: it runs the test programs it builds. For another
  # architecture they run under qemu, and the machine it configures for is named.
  local cc=$CC crossbuild=()
  if [[ -n $CROSS ]]; then
    cc=$(autotest_under_qemu)
    crossbuild=(--crossbuild="Linux::${CROSS%%-*}")
  fi
  # Temp paths sit directly under /tmp: nginx creates only the last component of each.
  # No HTTP/2 (--with-http_v2_module): Heroku's router speaks HTTP/1.1 to a dyno, and
  # heroku-buildpack-nginx never compiled it, so no app's config that works there uses it; its
  # 1.30.7 advisories (CVE-2026-123007, CVE-2026-123633) are then not in the binary.
  # --with-debug in the one build (as Debian's nginx): bin/start-nginx-debug needs no second binary
  # (+90 KB against +6.8 MB; below the level set, a debug call is one branch: see builds/README.md).
  (cd "$SRC/nginx" && CC=$cc logged nginx ./configure "${crossbuild[@]}" \
    --prefix=/app/vendor/nginx --conf-path=conf/nginx.conf --sbin-path=bin/nginx \
    --error-log-path=stderr --http-log-path=/dev/stdout \
    --pid-path=/tmp/nginx.pid --lock-path=/tmp/nginx.lock \
    --http-client-body-temp-path=/tmp/nginx-client-body --http-proxy-temp-path=/tmp/nginx-proxy \
    --http-fastcgi-temp-path=/tmp/nginx-fastcgi --http-uwsgi-temp-path=/tmp/nginx-uwsgi \
    --http-scgi-temp-path=/tmp/nginx-scgi \
    --with-debug --with-threads --with-file-aio --with-http_ssl_module \
    --with-http_realip_module --with-http_gzip_static_module --with-http_stub_status_module \
    "${NGINX_MODULES_LEFT_OUT[@]}" \
    --with-pcre="$SRC/pcre2" --with-pcre-jit --with-zlib="$SRC/zlib" --add-module="$SRC/headers-more" \
    --with-cc-opt="$CFLAGS_COMMON -I$DEPS/include" --with-ld-opt="-static -L$DEPS/lib $MIMALLOC_O" &&
    # PCRE2's own configure, which nginx's make runs, must be told the target too.
    { [[ -z $CROSS ]] || sed -i "s#./configure --disable-shared #&--host=$CROSS #" objs/Makefile; } &&
    logged nginx make -j"$JOBS")
  mkdir -p "$STAGE/nginx/bin" "$STAGE/nginx/conf"
  install -m 0755 "$SRC/nginx/objs/nginx" "$STAGE/nginx/bin/nginx"
  # nginx's own include files: `include mime.types;`, and `include uwsgi_params;` as uWSGI's
  # documentation writes it (and the other modules' params).
  install -m 0644 "$SRC/nginx/conf/mime.types" "$SRC/nginx/conf/uwsgi_params" "$SRC/nginx/conf/fastcgi_params" \
    "$SRC/nginx/conf/fastcgi.conf" "$SRC/nginx/conf/scgi_params" "$STAGE/nginx/conf/"
}

# mruby, for dyno/libexec/erb.rb: config/nginx.conf.erb is Ruby (heroku-buildpack-nginx renders it
# with Ruby's erb), and a dyno has no Ruby we can count on. It ships beside nginx, in libexec/ (not
# on the app's PATH). Its build runs the build machine's Ruby (minirake).
build_mruby() {
  step "mruby $VER_MRUBY (renders config/nginx.conf.erb)"
  unpack "$SRC_MRUBY" mruby
  apply_series "$PATCHES/ours/mruby" "$SRC/mruby"
  local out=host
  [[ -z $CROSS ]] || out=target
  (cd "$SRC/mruby" && CROSS="$CROSS" CFLAGS_COMMON="$CFLAGS_COMMON" MRUBY_CONFIG="$HERE/mruby-config.rb" \
    logged mruby ruby ./minirake -j"$JOBS" all)
  mkdir -p "$STAGE/nginx/libexec"
  install -m 0755 "$SRC/mruby/build/$out/bin/mruby" "$STAGE/nginx/libexec/mruby"
}

# The dyno's supervisor (builds/supervisor: ours), for the start scripts; beside mruby in libexec/.
build_supervise() {
  step "supervise (the start scripts' supervisor)"
  mkdir -p "$STAGE/nginx/libexec"
  # shellcheck disable=SC2086 # CFLAGS_COMMON is a list of flags
  logged supervise "$CC" $CFLAGS_COMMON -std=gnu11 -Wall -Wextra -Werror -ffile-prefix-map="$HERE=/build" -static \
    -o "$STAGE/nginx/libexec/supervise" "$HERE"/supervisor/*.c
}

build_localhost_cert() {
  step "localhost-cert (pgbouncer's certificate for TLS from the app, made at boot)"
  mkdir -p "$STAGE/pgbouncer/libexec"
  # shellcheck disable=SC2086 # CFLAGS_COMMON is a list of flags
  logged localhost-cert "$CC" $CFLAGS_COMMON -std=gnu11 -Wall -Wextra -Werror -ffile-prefix-map="$HERE=/build" -static \
    -I"$DEPS/include" -o "$STAGE/pgbouncer/libexec/localhost-cert" "$HERE"/localhost-cert/*.c "$DEPS/lib/libcrypto.a" -lpthread
}

build_pgbouncer() {
  step "pgbouncer $VER_PGBOUNCER"
  unpack "$SRC_PGBOUNCER" pgbouncer
  apply_series "$PATCHES/debian/pgbouncer" "$SRC/pgbouncer"
  apply_series "$PATCHES/ours/pgbouncer" "$SRC/pgbouncer"
  settle_autotools "$SRC/pgbouncer"
  # No c-ares: libevent's evdns resolves from /etc/resolv.conf and /etc/hosts itself, which is
  # what a static binary needs (no NSS), and trixie's c-ares sources are not in the archive here.
  (cd "$SRC/pgbouncer" &&
    CFLAGS="$CFLAGS_COMMON" LDFLAGS="-static $MIMALLOC_O" PKG_CONFIG_PATH="$DEPS/lib/pkgconfig" \
      logged pgbouncer ./configure "${HOST_ARGS[@]}" --prefix=/app/vendor/pgbouncer --with-openssl="$DEPS" \
      --with-libevent="$DEPS" --without-cares --without-pam --without-ldap --without-systemd &&
    logged pgbouncer make -j"$JOBS")
  mkdir -p "$STAGE/pgbouncer/bin"
  install -m 0755 "$SRC/pgbouncer/pgbouncer" "$STAGE/pgbouncer/bin/pgbouncer"
}

build_stunnel() {
  step "stunnel $VER_STUNNEL"
  unpack "$SRC_STUNNEL" stunnel
  apply_series "$PATCHES/debian/stunnel4" "$SRC/stunnel"
  apply_series "$PATCHES/ours/stunnel" "$SRC/stunnel"
  settle_autotools "$SRC/stunnel"
  # libtool swallows a plain -static; -all-static is what makes the final link static.
  (cd "$SRC/stunnel" &&
    CFLAGS="$CFLAGS_COMMON" logged stunnel ./configure "${HOST_ARGS[@]}" --prefix=/app/vendor/stunnel --sysconfdir=/etc \
      --localstatedir=/tmp --with-ssl="$DEPS" --with-threads=pthread --disable-libwrap \
      --disable-systemd --disable-fips --disable-shared &&
    logged stunnel make -j"$JOBS" -C src stunnel LDFLAGS="-all-static $MIMALLOC_O")
  mkdir -p "$STAGE/stunnel/bin"
  install -m 0755 "$SRC/stunnel/src/stunnel" "$STAGE/stunnel/bin/stunnel"
}

# timed FUNCTION: runs one component's build and says how long it took; on a new machine the whole
# build takes minutes, and these lines are all a newcomer sees of it.
timed() {
  local t=$SECONDS
  "$1"
  detail "done in $((SECONDS - t)) s"
}

check_static() {
  local f info
  for f in "$@"; do
    info=$(file -b "$f")
    if [[ $info != *"statically linked"* || $info != *"$ELF_ARCH"* ]]; then
      echo "build-static: $f is not a static $ELF_ARCH executable: $info" >&2
      return 1
    fi
  done
}

# build_all: every component from a fresh tree into $STAGE, static and stripped. main.ts then
# writes each one's SBOM into the stage and calls `build-static.sh package`.
build_all() {
  local started=$SECONDS
  rm -rf "$BUILD_ROOT"
  mkdir -p "$SRC" "$DEPS" "$STAGE" "$LOGS" "$OUT_DIR"
  timed build_musl
  export CC="$TOOLCHAIN/bin/musl-static-gcc"
  timed build_mimalloc
  timed build_openssl
  timed build_libevent
  timed build_nginx
  timed build_mruby
  timed build_supervise
  timed build_pgbouncer
  timed build_localhost_cert
  timed build_stunnel
  check_static "$STAGE"/*/bin/* "$STAGE"/*/libexec/*
  "${TOOL_PREFIX}strip" --strip-all "$STAGE"/*/bin/* "$STAGE"/*/libexec/*
  detail "built in $((SECONDS - started)) s"
}

package_all() {
  step "Packaging"
  mkdir -p "$OUT_DIR"
  package nginx "$VER_NGINX"
  package pgbouncer "$VER_PGBOUNCER"
  package stunnel "$VER_STUNNEL"
}

main() {
  case ${1:-all} in
    all) build_all ;;
    package) package_all ;;
    *) # build only the named steps in the existing tree, for working on one recipe
      export CC="$TOOLCHAIN/bin/musl-static-gcc"
      local s
      for s in "$@"; do "build_$s"; done ;;
  esac
}

main "$@"
