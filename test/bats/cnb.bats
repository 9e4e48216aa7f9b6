#!/usr/bin/env bats
# The same buildpack as a Cloud Native Buildpack, through test/support/cnb-lifecycle.sh.
load helpers

setup_file() {
  load helpers
  ensure_dyno_user
  CNB_WORK=$(mktemp -d /tmp/hbnp-cnb.XXXXXX)
  chmod 755 "$CNB_WORK"
  # A mirror of our own: the last test changes an artifact pin.
  cp -r "$REPO/dist/vendor" "$CNB_WORK/mirror"
  python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$CNB_WORK/mirror" >"$CNB_WORK/mirror.out" 2>"$CNB_WORK/mirror.log" &
  echo $! >"$CNB_WORK/mirror.pid"
  for _ in $(seq 100); do grep -q 'port [0-9]' "$CNB_WORK/mirror.out" 2>/dev/null && break; sleep 0.05; done
  CNB_MIRROR="http://127.0.0.1:$(grep -oE 'port [0-9]+' "$CNB_WORK/mirror.out" | cut -d' ' -f2)"
  # The buildpack as the lifecycle gets it: what it ships, and nothing else.
  copy_buildpack "$CNB_WORK/bp"
  mkdir -p "$CNB_WORK/platform/env" "$CNB_WORK/app"
  echo "$CNB_MIRROR" >"$CNB_WORK/platform/env/BUILDPACK_VENDOR_URL"
  cat >"$CNB_WORK/app/wsgi.py" <<'PY'
import os
def application(environ, start_response):
    body = ("cnb " + os.environ["DATABASE_URL"].split("@")[-1]).encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
PY
  echo 'web: bin/start-nginx bin/start-pgbouncer gunicorn --bind unix:/tmp/nginx.socket wsgi:application' >"$CNB_WORK/app/Procfile"
  DATABASE_URL=$("$REPO/test/support/pg.sh" start "$CNB_WORK/pg" "$("$REPO/test/support/free-port.sh")")
  export CNB_WORK CNB_MIRROR DATABASE_URL
}

teardown_file() {
  kill "$(cat "$CNB_WORK/mirror.pid")" 2>/dev/null || true
  "$REPO/test/support/pg.sh" stop "$CNB_WORK/pg"
  pkill -KILL -u "$DYNO_USER" 2>/dev/null || true
  rm -rf "$CNB_WORK"
}

lifecycle() { "$REPO/test/support/cnb-lifecycle.sh" "$@"; }
requests() { grep -c '"GET ' "$CNB_WORK/mirror.log" || true; }

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
  assert_output "libevent musl nginx openssl pcre2 pgbouncer stunnel zlib"
  grep -q '^sbom-formats = \["application/vnd.cyclonedx+json"\]' "$REPO/buildpack.toml"
}

@test "CNB launch: the Procfile entry runs as bash -c, answers through nginx and the pooler" {
  chown -R "$DYNO_USER" "$CNB_WORK/app" "$CNB_WORK/layers"
  local port log="$CNB_WORK/web.log"
  port=$("$REPO/test/support/free-port.sh")
  : >"$log" && chown "$DYNO_USER" "$log"
  [[ -O /tmp/nginx.socket ]] && rm -f /tmp/nginx.socket
  as_dyno env -i PATH=/usr/bin:/bin HOME="$CNB_WORK/app" PORT="$port" DATABASE_URL="$DATABASE_URL" \
    setsid "$REPO/test/support/cnb-lifecycle.sh" launch "$CNB_WORK/app" "$CNB_WORK/layers" \
    "$(sed -n 's/^web: //p' "$CNB_WORK/app/Procfile")" >"$log" 2>&1 &
  local web=$! body=""
  for _ in $(seq 300); do body=$(curl -fsS "http://127.0.0.1:$port/" 2>/dev/null) && break; sleep 0.1; done
  pkill -TERM -u "$DYNO_USER" || true
  wait "$web" || true
  [[ $body =~ ^cnb\ %2Ftmp%2Fpgbouncer\.[A-Za-z0-9]+:6000/db1$ ]] || { cat "$log"; fail "got '$body'"; }
}

@test "CNB rebuild with the previous layers downloads nothing and reuses the layer" {
  local before
  before=$(requests)
  run lifecycle build "$CNB_WORK/bp" "$CNB_WORK/app" "$CNB_WORK/layers" "$CNB_WORK/platform"
  assert_success
  assert_line "-----> Reusing the cached nginx, pgbouncer and stunnel layer"
  assert_equal "$(requests)" "$before"
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
