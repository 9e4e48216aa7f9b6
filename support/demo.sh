#!/usr/bin/env bash
# `npm run demo`: compiles example/ (a small Django app with the reference article's Procfile)
# with this buildpack against a loopback mirror of the vendor artifacts, moves the slug as Heroku
# does, boots its web process as a non-root dyno user with a TLS-only PostgreSQL behind it, and
# prints the URL. Ctrl-C stops the dyno the way Heroku does (SIGTERM to every process).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
PORT=${PORT:-5000}
WORK=${DEMO_DIR:-/tmp/hbnp-demo}

echo "-----> Preparing this machine (Debian packages, npm packages, vendor artifacts)"
bash support/setup-host.sh
[[ -d node_modules ]] || npm ci --no-audit --no-fund >/dev/null
npm run -s vendor:build | tail -n 1

rm -rf "$WORK/build" "$WORK/app" "$WORK/env" && mkdir -p "$WORK/env" && chmod 755 "$WORK"
DATABASE_URL=$(test/support/pg.sh start "$WORK/pg" 55439)
python3 -m http.server 8769 --bind 127.0.0.1 --directory dist/vendor >/dev/null 2>&1 &
mirror=$!
trap 'kill $mirror 2>/dev/null || true' EXIT
sleep 0.5
echo "http://127.0.0.1:8769" >"$WORK/env/BUILDPACK_VENDOR_URL"
cp -r example "$WORK/build"
STACK=heroku-24 bin/compile "$WORK/build" "$WORK/cache" "$WORK/env"
mv "$WORK/build" "$WORK/app" && chown -R dyno "$WORK/app"

web=$(sed -n 's/^web: *//p' "$WORK/app/Procfile")
echo "-----> Booting web: $web"
rm -f /tmp/nginx.socket /tmp/app-initialized
: >"$WORK/web.log" && chown dyno "$WORK/web.log"
runuser -u dyno -- env -i PATH=/usr/bin:/bin HOME="$WORK/app" PORT="$PORT" DATABASE_URL="$DATABASE_URL" \
  setsid bash -c "cd '$WORK/app' && exec $web" > >(tee -a "$WORK/web.log") 2>&1 &
dyno=$!
stop() { pkill -TERM -u dyno || true; wait "$dyno" 2>/dev/null || true; }
trap 'stop; kill $mirror 2>/dev/null || true' EXIT
for _ in $(seq 600); do curl -fsS "http://127.0.0.1:$PORT/" >/dev/null 2>&1 && break; sleep 0.1; done
echo
echo "-----> The example app is up: http://127.0.0.1:$PORT/  (and /db: one query through the pooler)"
curl -fsS "http://127.0.0.1:$PORT/db" || true
echo "       Ctrl-C to stop the dyno."
wait "$dyno" || true
