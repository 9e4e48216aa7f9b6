#!/usr/bin/env bats
# The same buildpack as a Cloud Native Buildpack, through test/support/cnb-lifecycle.sh.
load ../support/helpers

setup_file() {
  load ../support/helpers
  dyno::ensure_user
  CNB_WORK=$(mktemp -d /tmp/hbnp-cnb.XXXXXX)
  chmod 755 "$CNB_WORK"
  # A mirror of our own: the last test changes an artifact pin.
  cp -r "$REPO/artifacts" "$CNB_WORK/mirror"
  mirror::start "$CNB_WORK/mirror" "$CNB_WORK"
  # The buildpack as the lifecycle gets it: what it ships, and nothing else.
  copy_buildpack "$CNB_WORK/bp"
  mkdir -p "$CNB_WORK/platform/env" "$CNB_WORK/app"
  echo "$MIRROR_URL" >"$CNB_WORK/platform/env/BUILDPACK_VENDOR_URL"
  cat >"$CNB_WORK/app/wsgi.py" <<'PY'
import os
def application(environ, start_response):
    body = ("cnb " + os.environ["DATABASE_URL"].split("@")[-1]).encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
PY
  echo 'web: bin/start-nginx bin/start-pgbouncer gunicorn --bind unix:/tmp/nginx.socket wsgi:application' >"$CNB_WORK/app/Procfile"
  DATABASE_URL=$("$REPO/test/support/pg.sh" start "$CNB_WORK/pg" "$("$REPO/test/support/free-port.sh")")
  export CNB_WORK DATABASE_URL
}

teardown_file() {
  mirror::stop
  "$REPO/test/support/pg.sh" stop "$CNB_WORK/pg"
  dyno::stop 1
  rm -rf "$CNB_WORK"
}

lifecycle() { "$REPO/test/support/cnb-lifecycle.sh" "$@"; }

@test "CNB build: layers with [types] and sha256 metadata, app-relative start scripts" {
  run lifecycle build "$CNB_WORK/bp" "$CNB_WORK/app" "$CNB_WORK/layers" "$CNB_WORK/platform"
  assert_success
  assert_line "-----> Installing nginx, pgbouncer and stunnel for heroku-24"
  run cat "$CNB_WORK/layers/nginx-pgbouncer.toml"
  assert_line "[types]"
  assert_line "launch = true"
  assert_line "cache = true"
  assert_line --regexp '^"nginx.sha256" = "[0-9a-f]{64}"$'
  [[ -x $CNB_WORK/app/bin/start-nginx && -x $CNB_WORK/layers/nginx-pgbouncer/nginx/bin/nginx ]]
  [[ ! -e $CNB_WORK/app/vendor/nginx ]] || fail "binaries belong in the layer, not the app dir"
  # The layer's SBOM, which the lifecycle exports (buildpack.toml declares CycloneDX).
  run python3 -c 'import json, sys; b = json.load(open(sys.argv[1])); print(" ".join(sorted(c["name"] for c in b["components"])))' "$CNB_WORK/layers/nginx-pgbouncer.sbom.cdx.json"
  assert_output "headers-more libevent mimalloc mruby musl nginx openssl pcre2 pgbouncer stunnel zlib"
  grep -q '^sbom-formats = \["application/vnd.cyclonedx+json"\]' "$REPO/buildpack.toml"
}

@test "CNB launch: the Procfile entry runs as bash -c, answers through nginx and the pooler" {
  chown -R "$DYNO_USER" "$CNB_WORK/app" "$CNB_WORK/layers"
  PORT=$("$REPO/test/support/free-port.sh")
  [[ -O /tmp/nginx.socket ]] && rm -f /tmp/nginx.socket
  dyno::start "$CNB_WORK/app" "$CNB_WORK/web.log" \
    "'$REPO/test/support/cnb-lifecycle.sh' launch '$CNB_WORK/app' '$CNB_WORK/layers' '$(sed -n 's/^web: //p' "$CNB_WORK/app/Procfile")'"
  local body=""
  dyno::wait_http / 30 && body=$(curl -fsS "http://127.0.0.1:$PORT/")
  dyno::stop
  [[ $body =~ ^cnb\ /db1\?host=/tmp/pgbouncer\.[A-Za-z0-9]+\&port=6000$ ]] || { cat "$DYNO_LOG"; fail "got '$body'"; }
}

@test "CNB rebuild with the previous layers downloads nothing and reuses the layer" {
  local before
  before=$(mirror::requests)
  run lifecycle build "$CNB_WORK/bp" "$CNB_WORK/app" "$CNB_WORK/layers" "$CNB_WORK/platform"
  assert_success
  assert_line "-----> Reusing the cached nginx, pgbouncer and stunnel layer"
  assert_equal "$(mirror::requests)" "$before"
  run cat "$CNB_WORK/layers/nginx-pgbouncer.toml"
  assert_line "launch = true"
}

@test "CNB rebuild after an artifact pin changed replaces the layer" {
  local d="$CNB_WORK/repack" file sha size
  mkdir -p "$d"
  tar -xzf "$CNB_WORK"/mirror/nginx-*-linux-x64.tar.gz -C "$d"
  echo changed >"$d/conf/marker"
  file=$(basename "$CNB_WORK"/mirror/nginx-*-linux-x64.tar.gz)
  tar -czf "$CNB_WORK/mirror/$file" -C "$d" .
  sha=$(sha256sum "$CNB_WORK/mirror/$file" | cut -d' ' -f1)
  size=$(stat -c %s "$CNB_WORK/mirror/$file")
  python3 - "$CNB_WORK/bp/vendor-manifest.json" "$file" "$sha" "$size" <<'PY'
import json, sys
path, file, sha, size = sys.argv[1:]
m = json.load(open(path))
for a in m["artifacts"]:
    if a["file"] == file:
        a["sha256"], a["size"] = sha, int(size)
json.dump(m, open(path, "w"), indent=2)
PY
  run lifecycle build "$CNB_WORK/bp" "$CNB_WORK/app" "$CNB_WORK/layers" "$CNB_WORK/platform"
  assert_success
  assert_line "-----> The pinned artifacts changed: rebuilding the layer"
  [[ -f $CNB_WORK/layers/nginx-pgbouncer/nginx/conf/marker ]] || fail "the layer still holds the old nginx"
  run cat "$CNB_WORK/layers/nginx-pgbouncer.toml"
  assert_line "\"nginx.sha256\" = \"$sha\""
}

@test "CNB on arm64 (heroku/builder:24's arm64 image): the arm64 binaries go in the layer and run; Ubuntu 22.04 on arm64 is refused" {
  local app="$CNB_WORK/app-arm64" layers="$CNB_WORK/layers-arm64"
  cp -r "$CNB_WORK/app" "$app"
  rm -rf "${app:?}/bin" "${app:?}/vendor" "${app:?}/logs"
  TARGET_ARCH=arm64 run lifecycle build "$CNB_WORK/bp" "$app" "$layers" "$CNB_WORK/platform"
  assert_success
  assert_line "-----> Installing nginx, pgbouncer and stunnel for heroku-24 (arm64)"
  assert_line --partial "nginx -t: skipped: the arm64 nginx does not run on this build machine"
  run cat "$layers/nginx-pgbouncer.toml"
  assert_line '"arch" = "arm64"'
  local b
  for b in nginx/bin/nginx pgbouncer/bin/pgbouncer stunnel/bin/stunnel; do
    run file -b "$layers/nginx-pgbouncer/$b"
    assert_output --partial "ARM aarch64"
  done
  # The layer's binaries run (under qemu here, natively on an arm64 machine).
  run qemu-aarch64-static "$layers/nginx-pgbouncer/nginx/bin/nginx" -v
  assert_output --partial "nginx version: nginx/"
  run qemu-aarch64-static "$layers/nginx-pgbouncer/pgbouncer/bin/pgbouncer" --version
  assert_output --partial "PgBouncer"
  # heroku/builder:22 has no arm64 image, and buildpack.toml does not claim one.
  TARGET_ARCH=arm64 TARGET_DISTRO_VERSION=22.04 run lifecycle build "$CNB_WORK/bp" "$app" "$CNB_WORK/layers-arm64-22" "$CNB_WORK/platform"
  assert_failure
  assert_output --partial "does not support linux/arm64 ubuntu 22.04"
}
