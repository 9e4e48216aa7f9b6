#!/usr/bin/env bats
# The ERB renderer (dyno/libexec/erb.rb on the nginx artifact's mruby): config/nginx.conf.erb
# rendered as heroku-buildpack-nginx renders it with Ruby's erb, with no Ruby on the dyno.
load ../support/helpers

setup_file() {
  artifact::extract nginx "$BATS_FILE_TMPDIR/vendor/nginx" ./libexec/mruby
}

setup() {
  _SCRIPT_NAME="test"
  _APP_DIR="$BATS_TEST_TMPDIR/app" _BUILDPACK_HOME="$REPO/dyno"
  declare -gA _BIN=([mruby]="$BATS_FILE_TMPDIR/vendor/nginx/libexec/mruby")
  mkdir -p "$_APP_DIR/config"
  F="$_APP_DIR/config/nginx.conf.erb"
  # shellcheck source=dyno/lib/nginx-config.sh
  . "$REPO/dyno/lib/nginx-config.sh"
}

# The environment every template of the differential test renders under.
RENDER_ENV=(PORT=5000 NGINX_WORKERS=3 HOME=/app DYNO=web.1 BASIC_AUTH_USER=u BASIC_AUTH_PASSWORD=p)

@test "every template we hold (real apps', the anchor's, ours) renders byte for byte as Ruby's erb renders it" {
  local f dir name ours ruby n=0 differ=""
  while IFS= read -r f; do
    dir=$(dirname "$(dirname "$f")") name=config/$(basename "$f")
    [[ $(basename "$(dirname "$f")") == config ]] || { dir=$(dirname "$f") name=$(basename "$f"); }
    ours=$(cd "$dir" && env -i "${RENDER_ENV[@]}" "${_BIN[mruby]}" "$_BUILDPACK_HOME/libexec/erb.rb" "$name" 2>&1; echo "rc=$?")
    # The anchor's own command: `erb config/nginx.conf.erb` (trim mode %).
    ruby=$(cd "$dir" && env -i "${RENDER_ENV[@]}" PATH=/usr/bin:/bin erb "$name" 2>&1; echo "rc=$?")
    [[ $ours == "$ruby" ]] || differ+="${f#"$REPO"/}"$'\n'
    n=$((n + 1))
  done < <(find "$REPO/test/fixtures" "$REPO/dyno/conf" -name '*.erb' | sort)
  ((n > 60)) || fail "found only $n templates"
  [[ -z $differ ]] || fail "renders unlike Ruby's erb: $differ"
  echo "# $n templates rendered as Ruby's erb renders them" >&3
}

@test "ENV lookups, || defaults and ENV.fetch in its three forms" {
  cat >"$F" <<'T'
workers <%= ENV['NGINX_WORKERS'] || 4 %>;
port <%= ENV["PORT"] %>;
a <%= ENV.fetch("A", "dflt") %> b <%= ENV.fetch('PORT') %> c <%= ENV.fetch("C") { 7 } %>
T
  PORT=5000 run nginx_config::render_erb "$F"
  assert_success
  assert_output $'workers 4;\nport 5000;\na dflt b 5000 c 7'
  PORT=5000 NGINX_WORKERS=2 A=x C=y run nginx_config::render_erb "$F"
  assert_output $'workers 2;\nport 5000;\na x b 5000 c y'
}

@test "the Ruby of real templates: multi-line tags, heredocs, blocks, JSON.parse, RbConfig, File.exist?(__FILE__ …), % lines, -%>" {
  cat >"$F" <<'T'
<% require 'json'
   tokens = (ENV['TOKENS'] || '').split(',').map(&:strip).reject(&:empty?)
   block = <<~NGINX
     add_header X-A a;
   NGINX
%>
<% tokens.each do |t| -%>
token <%= t %>;
<% end -%>
<%= block %>
<% JSON.parse(ENV['REDIRECTS']).each do |from, to| -%>
rewrite ^<%= from %>$ <%= to %> permanent;
<% end -%>
<% unless RbConfig::CONFIG['host_os'] =~ /darwin/ -%>
use epoll;
<% end -%>
<% if File.exist?(File.dirname(__FILE__) + '/extra.conf') -%>
include extra.conf;
<% end -%>
% n = ENV['N'].to_i * 2
n <%= n %> <%%= literal
T
  touch "$_APP_DIR/config/extra.conf"
  TOKENS=' a, ,b ' REDIRECTS='{"/old": "/new", "/x": "/y"}' N=21 run nginx_config::render_erb "$F"
  assert_success
  assert_output $'\ntoken a;\ntoken b;\nadd_header X-A a;\n\nrewrite ^/old$ /new permanent;\nrewrite ^/x$ /y permanent;\nuse epoll;\ninclude extra.conf;\nn 42 <%= literal'
}

@test "as the anchor's erb reads them: a %% line's tags, a comment's -%> (the newline stays), a plain-text regex in split and sub" {
  printf '%s\n' '%% <%= 1 + 1 %>' 'a <%# note -%>' 'b' '<%= "a,b".split(/,/).inspect %> <%= "x.y".sub(/\./, "-") %>' >"$F"
  run nginx_config::render_erb "$F"
  assert_success
  assert_output $'% 2\na \nb\n["a", "b"] x-y'
}

@test "ENV is the exported environment: a shell variable that is not exported is nil, as under Ruby" {
  printf '<%%= ENV["SHELL_ONLY"].inspect %%>|<%%= ENV["X"] %%>\n' >"$F"
  # shellcheck disable=SC2034 # set, and on purpose not exported
  SHELL_ONLY=not-exported
  X=exported run nginx_config::render_erb "$F"
  assert_success
  assert_output 'nil|exported'
}

@test "a failing template names its line and what Ruby says, and writes nothing" {
  local template want
  while IFS='|' read -r template want; do
    printf '%b' "$template" >"$F"
    run nginx_config::render_erb "$F"
    assert_failure
    assert_output "test: error: config/nginx.conf.erb:$want"
  done <<'CASES'
ok\n<%= ENV.fetch("NOPE") %>\n|2: key not found: "NOPE": ENV.fetch of a variable that is not set (set it, or give ENV.fetch a default) (KeyError)
a\nb\n<%= nil + "x" %>\n|3: undefined method '+' (NoMethodError)
<% if ENV["A"] %>\nx\n|3: syntax error, unexpected end of file, expecting "'end'" (SyntaxError)
x\ny <%= ENV["A"]\n|2: a <% tag that is never closed with %> (SyntaxError)
<% require 'socket' %>\n|1: cannot load socket: this renderer has ERB, ENV, JSON.parse and RbConfig, no other library (LoadError)
\n<%= ENV["H"] =~ /^a.*b$/ %>\n|2: the regular expression /^a.*b$/ is more than literal text, which is all this renderer matches (mruby has no Regexp): compare strings instead (==, include?, start_with?, end_with?) (NotImplementedError)
<%= JSON.parse('{"a": }') %>\n|1: unexpected "}" at character 7 of the JSON (expected a value) (JSON::ParserError)
CASES
}

@test "regular expressions of literal text match as Ruby's do" {
  printf '%s\n' '<%= "darwin21" =~ /darwin/ %>|<%= "linux" =~ /darwin/ %>|<%= /^Lin/i =~ "linux-gnu" %>|<%= "a.conf" =~ /\.conf$/ %>|<%= /\Aweb\z/.match?("web") %>' >"$F"
  run nginx_config::render_erb "$F"
  assert_success
  assert_output '0||0|1|true'
}
