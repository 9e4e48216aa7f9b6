# shellcheck shell=bash
# Our nginx's security backports, checked by the requests that reach the fixed code (the
# configurations of upstream's fix messages), for the x64 build (vendor.bats) and the arm64 one
# under qemu (vendor-arm64.bats). Before the fixes the copy overran its buffer: garbage or a worker
# crash instead of these answers. The caller sets NGINX_WORK (a dir the dyno user owns) and
# NGINX_CMD (how to run the nginx binary); load after helpers.bash.

# nginx_cves::start SERVER [HTTP]: nginx as the dyno user, one server block holding SERVER and
# listening on $PORT, HTTP at the http level; its stderr appended to $BATS_TEST_TMPDIR/nginx.err.
nginx_cves::start() {
  PORT=$("$REPO/test/support/free-port.sh")
  cat >"$NGINX_WORK/t.conf" <<CONF
daemon off; worker_processes 1; pid $NGINX_WORK/t.pid; error_log stderr;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $NGINX_WORK/cb; proxy_temp_path $NGINX_WORK/px; ${2:-}
  server { listen 127.0.0.1:$PORT; $1 } }
CONF
  chown "$DYNO_USER" "$NGINX_WORK/t.conf"
  dyno::as_user "${NGINX_CMD[@]}" -p "$NGINX_WORK/" -c "$NGINX_WORK/t.conf" 2>>"$BATS_TEST_TMPDIR/nginx.err" &
  for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0; sleep 0.05; done
  fail "nginx did not listen on $PORT"
}

# nginx_cves::no_worker_crash: no worker died of a signal in any nginx of this test.
nginx_cves::no_worker_crash() {
  run grep -c 'worker process .* exited on signal' "$BATS_TEST_TMPDIR/nginx.err"
  assert_output 0
}

# CVE-2026-42945: a capture used after a rewrite with arguments is neither escaped nor overrun.
nginx_cves::cve_2026_42945() {
  nginx_cves::start 'location / { rewrite ^(.*) /new?c=1; set $myvar $1; return 200 "[$myvar]"; }'
  local spaces
  spaces=$(printf '%%20%.0s' $(seq 300))
  run curl -sS "http://127.0.0.1:$PORT/a$spaces"
  assert_output "[/a$(printf ' %.0s' $(seq 300))]"
  run curl -sS "http://127.0.0.1:$PORT/x%3Fy"
  assert_output "[/x?y]"
  nginx_cves::no_worker_crash
}

# CVE-2026-9256: overlapping captures in a redirect or its arguments are copied whole.
nginx_cves::cve_2026_9256() {
  nginx_cves::start 'location /r/ { rewrite ^/r/((.*))$ http://127.0.0.1:8080/$1$2 redirect; return 200 foo; }
    location /a/ { rewrite ^/a/((.*))$ http://127.0.0.1:8080/?$1$2; return 200 foo; }'
  local plus
  plus=$(printf '+%.0s' $(seq 200))
  run curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$PORT/r/$plus"
  assert_output "302 http://127.0.0.1:8080/$plus$plus"
  # In arguments each capture is escaped: the copy is three times the match, which is what the
  # unpatched buffer was not sized for.
  run curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$PORT/a/$plus"
  assert_output "302 http://127.0.0.1:8080/?$(printf '%%2B%.0s' $(seq 400))"
  nginx_cves::no_worker_crash
}

# CVE-2026-42533: a map regex that moves the captures mid-expression gives a clean string.
nginx_cves::cve_2026_42533() {
  nginx_cves::start 'location ~ (?<bar>[0-9]*)[a-z]*$ { return 200 "[$1:$foo]"; }' \
    'map $uri $foo { ~^/(?<bar>[0-9]).*$ $bar; }'
  run curl -sS "http://127.0.0.1:$PORT/1234abcd"
  assert_output --regexp '^\[[0-9]*:1\]$'
  nginx_cves::no_worker_crash
}

# CVE-2026-15176: $request_filename after a flagless rewrite to a URI shorter than the alias
# prefix is not found; unpatched, the copy of "uri.len - alias" bytes wrapped and the worker died.
nginx_cves::cve_2026_15176() {
  mkdir -p "$NGINX_WORK/aliased"
  nginx_cves::start 'location /longer-prefix/ { alias '"$NGINX_WORK"'/aliased/; rewrite ^ /a; return 200 "[$request_filename]"; }'
  run curl -sS "http://127.0.0.1:$PORT/longer-prefix/x"
  assert_output "[]"
  nginx_cves::no_worker_crash
}

# Upstream eec047c9: try_files replaces the URI with one shorter than the location, then proxy_pass
# with a URI; the upstream gets "/" (unpatched, the copy read past the URI and the worker died).
nginx_cves::proxy_uri_shorter_than_location() {
  : >"$NGINX_WORK/123"
  local backend
  backend=$("$REPO/test/support/free-port.sh")
  nginx_cves::start 'root '"$NGINX_WORK"'; location /1234 { try_files /123 =404; proxy_pass http://127.0.0.1:'"$backend"'/; }' \
    'server { listen 127.0.0.1:'"$backend"'; location / { return 200 "[$request_uri]"; } }'
  run curl -sS "http://127.0.0.1:$PORT/1234"
  assert_output "[/]"
  nginx_cves::no_worker_crash
}
