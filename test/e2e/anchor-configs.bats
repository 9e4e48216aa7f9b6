#!/usr/bin/env bats
# The nginx configs heroku-buildpack-nginx has shipped since 2013 (test/fixtures/anchor-nginx-configs),
# each as an app's config/nginx.conf.erb: the build's check passes where the build runs (not /app),
# and the slug, moved to /app as on Heroku, answers through the script the config was made for.
load ../support/helpers

CONFIGS="$BATS_TEST_DIRNAME/../fixtures/anchor-nginx-configs"

setup_file() {
  load ../support/helpers
  app_dir::claim
  start_platform
  APP_SRC="$BATS_FILE_TMPDIR/src"
  mkdir -p "$APP_SRC/dist" "$APP_SRC/public" "$APP_SRC/config"
  cp -r "$REPO/test/fixtures/plain/." "$APP_SRC/"
  echo "static dist" >"$APP_SRC/dist/index.html"
  echo "static public" >"$APP_SRC/public/index.html"
  compile_app heroku-24 "$APP_SRC" "$TEST_WORK/build" "$TEST_WORK/cache" >/dev/null
  install -d -o "$DYNO_USER" /app
  cp -r "$TEST_WORK/build/." /app/ && chown -R "$DYNO_USER" /app
  export APP_SRC
}

teardown_file() {
  stop_platform
  app_dir::release
}

teardown() { stop_dyno_if_running; }

# kind CONFIG: what the config was made for: proxy (an app on /tmp/nginx.socket), static (a
# built site in /app/dist), solo (a site in /app/public), nextjs (an app on localhost:3000).
kind() {
  case $(basename "$1") in
    nginx-static-*) echo static ;;
    nginx-solo-sample-*) echo solo ;;
    nginx-nextjs-*) echo nextjs ;;
    *) echo proxy ;;
  esac
}

# boot CONFIG: /app with CONFIG, its process started the way that config is meant to run, answering.
boot() {
  cp "$1" /app/config/nginx.conf.erb
  dyno::clear_tmp
  case $(kind "$1") in
    proxy) start_dyno /app "bin/start-nginx bin/start-pgbouncer-stunnel gunicorn --bind unix:/tmp/nginx.socket wsgi:application" ;;
    static) start_dyno /app "bin/start-nginx-static" ;;
    solo) start_dyno /app "bin/start-nginx-solo" ;;
    nextjs) start_dyno /app "bin/start-nginx bash -c 'touch /tmp/app-initialized; exec python3 -m http.server 3000 --bind 127.0.0.1 --directory dist'" ;;
  esac
}

# The three that cannot run, each refused at build with why (the README's Troubleshooting):
# the default of December 2019 to October 2020 includes NAXSI's rules, and a sample of 2022-07-05
# has `//` comments, which nginx never took (the anchor fixed it the same day).
refusal() {
  case $(basename "$1") in
    nginx-1423aa2.* | nginx-960617f.*) echo "NAXSI, the firewall module heroku-buildpack-nginx built in 2019-2020, is not in this nginx" ;;
    nginx-solo-sample-714e042.*) echo 'unknown directive "//" in config/nginx.conf.erb (rendered)' ;;
  esac
}

@test "every config passes the build's check in the build dir, /app paths included; three are refused, saying why" {
  local c build="$BATS_TEST_TMPDIR/build" failed="" expected refused=0
  cp -r "$TEST_WORK/build" "$build"
  for c in "$CONFIGS"/*.erb; do
    cp "$c" "$build/config/nginx.conf.erb"
    run env -i PATH=/usr/bin:/bin HOME="$build" PORT=5000 bash "$build/bin/start-nginx" --check-config
    expected=$(refusal "$c")
    if [[ -n $expected ]]; then
      [[ $status != 0 && $output == *"$expected"* ]] || failed+="$(basename "$c") not refused as expected: $output"$'\n'
      refused=$((refused + 1))
    else
      [[ $status == 0 && $output == *"nginx -t: config/nginx.conf.erb ok"* ]] || failed+="$(basename "$c"): $output"$'\n'
    fi
  done
  [[ -z $failed ]] || fail "$failed"
  assert_equal "$refused" 3
}

@test "the static template (pid /app/nginx.pid) builds: a full compile outside /app" {
  local app="$BATS_TEST_TMPDIR/app"
  mkdir -p "$app/config" && cp -r "$APP_SRC/." "$app/"
  cp "$CONFIGS/nginx-static-37a84b6.conf.erb" "$app/config/nginx.conf.erb"
  run compile_app heroku-24 "$app" "$BATS_TEST_TMPDIR/build" "$BATS_TEST_TMPDIR/cache"
  assert_success
  assert_line "       nginx -t: config/nginx.conf.erb ok"
}

@test "every config boots from /app and answers, in the foreground under the start script" {
  local c body master answered=0
  for c in "$CONFIGS"/*.erb; do
    [[ -z $(refusal "$c") ]] || continue
    boot "$c"
    dyno::wait_http / 20 2>/dev/null || true
    body=$(curl -fsS -H 'X-Forwarded-Proto: https' "http://127.0.0.1:$PORT/" 2>/dev/null) ||
      { cat "$DYNO_LOG"; fail "$(basename "$c") ($(kind "$c")) did not answer"; }
    case $(kind "$c") in
      proxy) [[ $body == ok* ]] ;;
      static) [[ $body == "static dist" ]] ;;
      solo) [[ $body == "static public" ]] ;;
      nextjs) [[ $body == "static dist" ]] ;;
    esac || fail "$(basename "$c"): got '$body'"
    # nginx did not fork away: its master is the start script's child, not init's.
    master=$(pgrep -u "$DYNO_USER" -f '^nginx: master') || fail "$(basename "$c"): no nginx master"
    [[ $(ps -o ppid= -p "$master" | xargs) != 1 ]] || fail "$(basename "$c"): nginx daemonized"
    dyno::stop
    answered=$((answered + 1))
  done
  echo "# $answered configs answered" >&3
  assert_equal "$answered" $(($(find "$CONFIGS" -name '*.erb' | wc -l) - 3))
}

@test "daemon on; and master_process off; are refused with the line and the fix, at build and boot" {
  local build="$BATS_TEST_TMPDIR/build"
  cp -r "$TEST_WORK/build" "$build"
  printf 'daemon on;\nevents {}\nhttp { server { listen <%%= ENV["PORT"] %%>; } }\n' >"$build/config/nginx.conf.erb"
  run env -i PATH=/usr/bin:/bin HOME="$build" PORT=5000 bash "$build/bin/start-nginx" --check-config
  assert_failure
  assert_output --partial "config/nginx.conf.erb:1: daemon on; would put nginx in the background, out of the start script's hands"
  assert_output --partial "Remove the line"
  printf 'master_process off;\nevents {}\nhttp { server { listen <%%= ENV["PORT"] %%>; } }\n' >"$build/config/nginx.conf.erb"
  run env -i PATH=/usr/bin:/bin HOME="$build" PORT=5000 bash "$build/bin/start-nginx" --check-config
  assert_failure
  assert_output --partial "config/nginx.conf.erb:1: master_process off; leaves nginx without the master process"
}
