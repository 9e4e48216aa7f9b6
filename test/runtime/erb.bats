#!/usr/bin/env bats
# The bash ERB renderer that replaces Ruby's erb for config/nginx.conf.erb.
load ../support/helpers

setup() {
  SCRIPT_NAME="test"
  # shellcheck source=runtime/lib/erb.sh
  . "$REPO/runtime/lib/erb.sh"
  F="$BATS_TEST_TMPDIR/t.erb"
}

@test "ENV lookups, || defaults and ENV.fetch render as Ruby's erb would" {
  cat >"$F" <<'T'
workers <%= ENV['NGINX_WORKERS'] || 4 %>;
port <%= ENV["PORT"] %>;
a <%= ENV.fetch("A", "dflt") %> b <%= ENV.fetch('PORT') %> c <%= ENV.fetch("C") { 7 } %>
T
  PORT=5000 run render_erb "$F"
  assert_success
  assert_output $'workers 4;\nport 5000;\na dflt b 5000 c 7'
  PORT=5000 NGINX_WORKERS=2 A=x C=y run render_erb "$F"
  assert_output $'workers 2;\nport 5000;\na x b 5000 c y'
}

@test "if / elsif / else / unless on ENV, nested, with control-only lines dropped" {
  cat >"$F" <<'T'
<% if ENV['MODE'] == "a" %>
A
<% elsif ENV['MODE'] != "b" %>
not-b
<% else %>
B
<% unless ENV['QUIET'] %>
loud
<% end %>
<% end %>
end
T
  MODE=a run render_erb "$F"; assert_output $'A\nend'
  MODE=c run render_erb "$F"; assert_output $'not-b\nend'
  MODE=b run render_erb "$F"; assert_output $'B\nloud\nend'
  MODE=b QUIET=1 run render_erb "$F"; assert_output $'B\nend'
}

@test "unsupported Ruby stops with the file and line named" {
  printf 'ok\nx <%%= `id` %%>\n' >"$F"
  run render_erb "$F"
  assert_failure
  assert_output --partial "$F:2: unsupported ERB"
}

@test "ENV.fetch of an unset variable names the variable and the line" {
  printf '<%%= ENV.fetch("NOPE") %%>\n' >"$F"
  run render_erb "$F"
  assert_failure
  assert_output --partial ':1: ENV.fetch("NOPE") but NOPE is not set'
}

@test "a tag left open, or an if without end, is an error" {
  printf '<%%= ENV["A"]\n' >"$F"
  run render_erb "$F"; assert_failure; assert_output --partial "does not close"
  printf '<%% if ENV["A"] %%>\nx\n' >"$F"
  run render_erb "$F"; assert_failure; assert_output --partial "without its end"
}
