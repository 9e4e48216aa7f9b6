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

@test "Ruby that real templates use: && and || in conditions, #{} in strings, +, !, the String methods" {
  cat >"$F" <<'T'
<% if ENV['BASIC_AUTH_USER'] && ENV['BASIC_AUTH_PASSWORD'] %>
auth_basic_user_file "<%= "#{ENV['HOME']}/config/.htpasswd" %>";
auth_basic_user_file <%= "#{ENV["HOME"]}/config/.htpasswd" %>;
<% end %>
a <%= ENV['HOME'] + '/x' %> b <%= ENV['N'].to_i + 1 %> c <%= !ENV['Z'] %> d <%= (ENV['Z'] || "dz").upcase %>
<% if ENV['MODE'].to_s.downcase == 'prod' || ENV['FORCE'] %>
prod
<% end %>
e <%= ENV['A'] && ENV['B'] %>|<%= ENV.fetch('N', nil).nil? %>|<%= " #{ENV['Z']} ".strip.empty? %>
T
  HOME=/app N=41 BASIC_AUTH_USER=u BASIC_AUTH_PASSWORD=p MODE=PROD A=1 B=two run render_erb "$F"
  assert_success
  assert_output $'auth_basic_user_file "/app/config/.htpasswd";\nauth_basic_user_file /app/config/.htpasswd;\na /app/x b 42 c true d DZ\nprod\ne two|false|true'
  # Unset: no auth block, nil.to_i is 0, a nil && is nil (printed empty), and "" is not nil.
  HOME=/app BASIC_AUTH_USER=u Z=zz run render_erb "$F"
  assert_success
  assert_output $'a /app/x b 1 c false d ZZ\ne |true|false'
}

@test "Ruby beyond the supported subset, or an error Ruby would raise, stops with the line named" {
  local expr
  for expr in "JSON.parse(ENV['X'])" "ENV['X'].split.each" "ENV['UNSET'] + 'x'" "ENV['X'] +" "system('id')"; do
    printf 'ok\nx <%%= %s %%>\n' "$expr" >"$F"
    X=a run render_erb "$F"
    assert_failure
    assert_output --partial "$F:2: unsupported ERB"
  done
}

@test "a ternary, and ENV of a name no shell variable can have (nil, as in Ruby)" {
  printf '<%%= ENV["SKIP_HTTPS"] == "true" ? "$scheme" : "https" %%>|<%%= ENV["8080"] %%>|<%%= ENV["8080"].nil? ? 1 : 2 %%>\n' >"$F"
  SKIP_HTTPS=true run render_erb "$F"
  assert_success
  assert_output '$scheme||1'
  run render_erb "$F"
  assert_output 'https||1'
}

@test "as in Ruby: the operand ||, && and ?: do not take is not evaluated; ! binds before ==; ENV is the exported environment" {
  printf '%s\n' '<%= ENV["X"] ? ENV["X"].downcase : "d" %>|<%= ENV["X"] && ENV["X"].strip %>|<%= ENV["X"] || ENV.fetch("NOPE") %>|<%= !ENV["X"] == "c" %>|<%= ENV["N"].to_i + 1 %>|<%= ENV["SHELL_ONLY"] %>' >"$F"
  X=AbC N=-5 run render_erb "$F"
  assert_success
  assert_output 'abc|AbC|AbC|false|-4|'
  run render_erb "$F"
  assert_failure
  assert_output --partial 'ENV.fetch("NOPE") but NOPE is not set'
  printf '%s\n' '<%= ENV["X"] ? ENV["X"].downcase : "d" %>|<%= ENV["X"] && ENV["X"].strip %>|<%= ENV["SHELL_ONLY"] %>' >"$F"
  SHELL_ONLY=not-exported
  run render_erb "$F"
  assert_success
  assert_output 'd||'
  N=123456789012345678901 run render_erb <(printf '<%%= ENV["N"].to_i %%>\n')
  assert_failure
}
