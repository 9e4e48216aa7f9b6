# shellcheck shell=bash
# The mruby that renders config/nginx.conf.erb (the nginx artifact's libexec/mruby), for the x64
# build (vendor.bats) and the arm64 one under qemu (vendor-arm64.bats): what it lacks on purpose,
# our backports, and the renderer on it. The caller sets MRUBY_CMD (how to run the binary); load
# after helpers.bash.

# mruby_checks::run SCRIPT: SCRIPT's output under the shipped mruby.
mruby_checks::run() { run "${MRUBY_CMD[@]}" -e "$1"; }

# Left out of the build (builds/mruby-config.rb): sockets (GHSA-qj89-7wc6-8hfr) and bigint
# (its open OSS-Fuzz reports).
mruby_checks::gems_left_out() {
  mruby_checks::run 'p [Object.const_defined?(:BasicSocket), Object.const_defined?(:File), (2**64 rescue "no bigint")]'
  assert_success
  assert_output '[false, true, "no bigint"]'
}

# ours/mruby/0002 (upstream 550d10adb): with 16 positional arguments and keywords,
# method_missing got a stray argument as its keywords.
mruby_checks::method_missing_packed_arguments() {
  mruby_checks::run 'class X; def method_missing(n, *a, **kw) = p([n, a.size, kw]); end
X.new.go(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, k: 1)'
  assert_success
  assert_output '[:go, 16, {:k=>1}]'
}

# The renderer on this binary: a template using the Ruby real ones use.
mruby_checks::renders() {
  local t="$BATS_TEST_TMPDIR/t.erb"
  printf '%s\n' '<% a = (ENV["LIST"] || "").split(",").map(&:strip) -%>' '<% a.each do |x| %>[<%= x %>]<% end %>' \
    '<%= RbConfig::CONFIG["host_os"] =~ /darwin/ ? "mac" : "linux" %> <%= JSON.parse(ENV["J"])["k"] %>' >"$t"
  LIST='a, b' J='{"k": "v"}' run "${MRUBY_CMD[@]}" "$REPO/dyno/libexec/erb.rb" "$t"
  assert_success
  assert_output $'[a][b]\nlinux v'
}
