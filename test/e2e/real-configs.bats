#!/usr/bin/env bats
# Real apps' config/nginx.conf.erb (test/fixtures/real-nginx-configs, with the files beside them),
# as written for heroku-buildpack-nginx: each passes the build's check (or is refused, saying why,
# as expectations.tsv records), and, moved to /app as on Heroku, boots under its start script and
# answers on $PORT.
load ../support/helpers

APPS="$BATS_TEST_DIRNAME/../fixtures/real-nginx-configs"

setup_file() {
  load ../support/helpers
  app_dir::claim
  start_platform
  local src="$BATS_FILE_TMPDIR/src"
  mkdir -p "$src"
  cp -r "$REPO/test/fixtures/plain/." "$src/"
  compile_app heroku-24 "$src" "$TEST_WORK/build" "$TEST_WORK/cache" >/dev/null
}

teardown_file() {
  stop_platform
  app_dir::release
}

teardown() { stop_dyno_if_running; }

# expectation APP FIELD: APP's row of expectations.tsv: its script, its env (VAR=VALUE …), or what
# it expects ("boots", "refused: TEXT", or "resolves: HOST").
expectation() {
  awk -F'\t' -v app="$1" -v f="$2" '$1 == app { print (f == "script" ? $2 : f == "env" ? $3 : $4); found = 1 } END { exit !found }' "$APPS/expectations.tsv"
}

# with_config DIR APP: DIR (a compiled slug) with APP's config/ in place of its own; a static
# template becomes config/nginx.conf.erb, as heroku-buildpack-nginx's README says to copy it.
with_config() {
  rm -rf "$1/config"
  cp -r "$APPS/$2/config" "$1/config"
  [[ -f $1/config/nginx.conf.erb ]] || mv "$1/config/nginx-static.conf.erb" "$1/config/nginx.conf.erb"
}

@test "every app in expectations.tsv, and every app folder is in it" {
  local app listed
  listed=$(cut -f1 "$APPS/expectations.tsv" | grep -v '^#' | sort)
  assert_equal "$listed" "$(cd "$APPS" && find . -mindepth 1 -maxdepth 1 -type d | sed 's#^\./##' | sort)"
}

@test "each real template passes the build's check in the build dir, or is refused saying why" {
  local app build="$BATS_TEST_TMPDIR/build" failed="" expected env checked=0 refused=0 dns=0
  for app in $(cut -f1 "$APPS/expectations.tsv" | grep -v '^#'); do
    rm -rf "$build" && cp -r "$TEST_WORK/build" "$build"
    with_config "$build" "$app"
    expected=$(expectation "$app" expect)
    read -ra env <<<"$(expectation "$app" env)"
    run env -i PATH=/usr/bin:/bin HOME="$build" PORT=5000 "${env[@]}" bash "$build/bin/start-nginx" --check-config
    checked=$((checked + 1))
    if [[ $expected == refused:* ]]; then
      refused=$((refused + 1))
      [[ $status != 0 && $output == *"${expected#refused: }"* ]] || failed+="$app not refused as expected: $output"$'\n'
    elif [[ $expected == resolves:* ]]; then
      dns=$((dns + 1))
      # Passes where the host resolves; where DNS does not answer, only for that reason.
      [[ $status == 0 || $output == *"host not found in upstream \"${expected#resolves: }"* ]] || failed+="$app: $output"$'\n'
    else
      [[ $status == 0 && $output == *"nginx -t: config/nginx.conf.erb ok"* ]] || failed+="$app: $output"$'\n'
    fi
  done
  echo "# $checked templates checked: $((checked - refused - dns)) pass the build's check, $refused refused, $dns need DNS" >&3
  [[ -z $failed ]] || fail "$failed"
}

@test "each real template that builds boots from /app under its start script and answers on \$PORT" {
  local app code answered=0 env script
  install -d -o "$DYNO_USER" /app
  for app in $(cut -f1 "$APPS/expectations.tsv" | grep -v '^#'); do
    [[ $(expectation "$app" expect) == boots ]] || continue  # (a resolves: config needs DNS to boot)
    rm -rf /app/* /app/.[!.]* && cp -r "$TEST_WORK/build/." /app/
    with_config /app "$app"
    chown -R "$DYNO_USER" /app
    read -ra env <<<"$(expectation "$app" env)"
    script=$(expectation "$app" script)
    dyno::clear_tmp
    case $script in
      proxy) start_dyno /app "bin/start-nginx bin/start-pgbouncer-stunnel gunicorn --bind unix:/tmp/nginx.socket wsgi:application" "${env[@]}" ;;
      *) start_dyno /app "bin/$script" "${env[@]}" ;;
    esac
    code=000
    for _ in $(seq 200); do
      code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/" 2>/dev/null) && [[ $code != 000 ]] && break
      kill -0 "$DYNO_PID" 2>/dev/null || break
      sleep 0.1
    done
    [[ $code != 000 ]] || { tail -n 30 "$DYNO_LOG"; fail "$app ($script) did not answer on \$PORT"; }
    # nginx may answer a moment before the script, which probes the port itself, says it is ready.
    for _ in $(seq 50); do grep -q "nginx ready on port $PORT" "$DYNO_LOG" && break; sleep 0.1; done
    grep -q "nginx ready on port $PORT" "$DYNO_LOG" || fail "$app: no ready line: $(tail -n 20 "$DYNO_LOG")"
    dyno::stop
    answered=$((answered + 1))
  done
  echo "# $answered real templates booted and answered" >&3
  ((answered > 0))
}
