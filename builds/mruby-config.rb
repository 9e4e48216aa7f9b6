# mruby's build config (read by its minirake from build_mruby in build-static.sh): the static
# mruby that dyno/libexec/erb.rb runs on to render config/nginx.conf.erb at boot.
# CC, AR, CFLAGS_COMMON and CROSS come from build-static.sh.

# No lock file: minirake would write it beside this config, into the source tree.
MRuby::Lockfile.disable

# The core gems a template can reach: the standard library's classes and methods, File and Dir
# (File.exist?, File.read), eval (ERB's compiled template runs in it), exit. No sockets.
def template_gems(conf)
  conf.gembox "stdlib"
  conf.gembox "stdlib-ext"
  %w[mruby-io mruby-dir mruby-errno mruby-print mruby-eval mruby-exit mruby-bin-mruby].each { |g| conf.gem core: g }
end

def static_musl(conf)
  conf.toolchain :gcc
  conf.cc.command = ENV.fetch("CC")
  conf.cc.flags << ENV.fetch("CFLAGS_COMMON").split
  # Strings count characters as Ruby's do (length, [], inspect of UTF-8 text).
  conf.cc.defines << "MRB_UTF8_STRING"
  conf.linker.command = ENV.fetch("CC")
  conf.linker.flags << "-static"
  conf.archiver.command = ENV.fetch("AR")
end

if ENV["CROSS"].to_s.empty?
  MRuby::Build.new do |conf|
    static_musl(conf)
    template_gems(conf)
  end
else
  # A cross build compiles its Ruby parts with the build machine's own mrbc.
  MRuby::Build.new do |conf|
    conf.toolchain :gcc
    conf.cc.command = conf.linker.command = "gcc"
    conf.archiver.command = "ar"
  end
  MRuby::CrossBuild.new("target") do |conf|
    static_musl(conf)
    template_gems(conf)
  end
end
