# shellcheck shell=bash
# nginx's config for this boot: the settings nginx's ERB reads, the app's config or our default
# rendered into a private render dir (_RENDER_DIR), and nginx -t. Sourced by start-nginx after
# common.sh; starts nothing.

# nginx's private directory for this boot: the rendered config, its include files, the pid file and
# our default config's temp paths.
_RENDER_DIR=""

# The app's config/nginx.conf.erb (or a plain config/nginx.conf) wins over our default.
nginx_config::source() {
  if [[ -f $_APP_DIR/config/nginx.conf.erb ]]; then printf '%s\n' "$_APP_DIR/config/nginx.conf.erb"
  elif [[ -f $_APP_DIR/config/nginx.conf ]]; then printf '%s\n' "$_APP_DIR/config/nginx.conf"
  else printf '%s\n' "$_BUILDPACK_HOME/conf/nginx.conf.erb"
  fi
}

# nginx listens on $PORT, which Heroku gives web dynos at boot.
nginx_config::require_port() {
  [[ -n ${PORT:-} ]] || output::die "PORT is not set" "Heroku sets it for web dynos; locally run with PORT=5000."
  [[ $PORT =~ ^[0-9]{1,5}$ ]] && ((PORT >= 1 && PORT <= 65535)) ||
    output::die "PORT must be a port number from 1 to 65535 (it is '$PORT')" "Heroku sets it for web dynos; locally run with PORT=5000."
}

# The settings, read and checked (settings::read); nginx's are exported for the config's ERB:
# those the app set, as read ("auto"), and for our default config the defaults too. An app's own
# config keeps its own fallbacks (`ENV['NGINX_WORKERS'] || 4`), as under heroku-buildpack-nginx.
nginx_config::export_settings() {
  local name ours=0
  [[ $(nginx_config::source) == "$_BUILDPACK_HOME/conf/nginx.conf.erb" ]] && ours=1
  settings::read
  for name in "${_SETTING_NAMES[@]}"; do
    [[ $name == NGINX_* && -n ${_SETTING[$name]} ]] || continue
    if ((ours)) || [[ -n ${!name:-} ]]; then export "$name=${_SETTING[$name]}"; fi
  done
}

# nginx_config::render_erb TEMPLATE: TEMPLATE rendered as Ruby's erb renders it (dyno/libexec/erb.rb, on the mruby
# beside nginx), from the app's dir as heroku-buildpack-nginx runs `erb config/nginx.conf.erb`:
# __FILE__ and relative paths in the template mean what they mean there.
nginx_config::render_erb() {
  (cd "$_APP_DIR" && "${_BIN[mruby]}" "$_BUILDPACK_HOME/libexec/erb.rb" "${1#"$_APP_DIR"/}" "$_SCRIPT_NAME")
}

# Renders the config into a private directory, beside the mime.types it includes, and checks it.
nginx_config::render() {
  local src out
  src=$(nginx_config::source)
  _RENDER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/nginx.XXXXXX")
  trap 'rm -rf "$_RENDER_DIR"' EXIT
  export _NGINX_PGBOUNCER_RENDER_DIR=$_RENDER_DIR
  mkdir -p "$_APP_DIR/logs/nginx"
  out="$_RENDER_DIR/nginx.conf"
  if [[ $src == *.erb ]]; then
    nginx_config::render_erb "$src" >"$out.tmp" || output::die "could not render ${src#"$_APP_DIR"/}" "Fix the line named above."
    mv "$out.tmp" "$out"
  else
    cp "$src" "$out"
  fi
  [[ $src != "$_APP_DIR/config/"* ]] || nginx_config::link_siblings
  # nginx's own include files (mime.types, uwsgi_params, ...) where the app has none of that name.
  local f
  for f in "$_BINARIES_DIR"/nginx/conf/*; do
    [[ -e $_RENDER_DIR/${f##*/} ]] || cp "$f" "$_RENDER_DIR/"
  done
  _RENDERED_ARGS=(-p "$_APP_DIR/" -c "$out")
  nginx_config::refuse_unsupported "$src"
  nginx_config::keep_in_foreground "$out"
  # At build time the slug is not yet where it runs: its /app paths name files of the build dir.
  [[ -z ${_SETTINGS_BUILD_DIR:-} || $_APP_DIR == /app ]] ||
    sed -Ei "s#(^|[[:space:]\"'])/app([/;[:space:]\"']|$)#\\1$_APP_DIR\\2#g" "$out"
  local check created=() path rc=0
  # At build time nothing may stay behind outside the render dir: a pid file or log nginx -t creates
  # (as root, on a machine that also boots the slug) would keep the dyno's nginx from starting.
  if [[ -n ${_SETTINGS_BUILD_DIR:-} ]]; then
    while IFS= read -r path; do [[ -e $path || -L $path ]] || created+=("$path"); done < <(nginx_config::files_nginx_creates "$out")
  fi
  check=$("${_BIN[nginx]}" "${_RENDERED_ARGS[@]}" -t 2>&1) || rc=$?
  # (the + form: bash 4.3, cedar-14's, calls an empty array unbound under set -u)
  for path in ${created[@]+"${created[@]}"}; do rm -f "$path" 2>/dev/null || rmdir "$path" 2>/dev/null || true; done
  if ((rc)); then
    printf '%s\n' "$check" | sed "s#$_RENDER_DIR/nginx.conf#${src#"$_APP_DIR"/} (rendered)#g" >&2
    if [[ $check == *"pcre2_compile() failed"* ]]; then
      output::die "nginx -t rejected ${src#"$_APP_DIR"/}: a regular expression that PCRE2 refuses" "$_PCRE2_HINT"
    fi
    output::die "nginx -t rejected ${src#"$_APP_DIR"/}" "Fix the config; the lines above give nginx's reason."
  fi
}

# This nginx matches with PCRE2; heroku-buildpack-nginx kept PCRE1 on heroku-22, which took some
# patterns PCRE2 refuses.
_PCRE2_HINT="This nginx uses PCRE2, which is stricter than the PCRE1 of older nginx builds: a '-' between
two classes in [...] (e.g. [\\w-.]) must be escaped or put last ([\\w.-]); an unknown escape
(e.g. \\i) must be dropped or written as the character itself. The line is named above."

# nginx_config::link_siblings: the files beside the app's template, in the render dir where the
# rendered config is, so that relative paths in it (include, auth_basic_user_file, ssl_certificate)
# name them, as they do under heroku-buildpack-nginx, which renders into config/.
nginx_config::link_siblings() {
  local f
  for f in "$_APP_DIR"/config/* "$_APP_DIR"/config/.[!.]*; do
    [[ -e $f ]] || continue
    case ${f##*/} in nginx.conf | nginx.conf.erb) continue ;; esac
    ln -s "$f" "$_RENDER_DIR/${f##*/}"
  done
}

# nginx_config::files_nginx_creates CONFIG: the absolute paths nginx -t may create, one a line: those CONFIG
# names (pid, lock and log files, temp dirs) and the defaults built into nginx (nginx -V).
nginx_config::files_nginx_creates() {
  grep -oE '(^|[;{[:space:]])(pid|lock_file|error_log|access_log|[a-z_]*_temp_path)[[:space:]]+/[^;[:space:]]+' "$1" |
    sed -E 's/.*[[:space:]](\/[^[:space:]]+)$/\1/' || true
  "${_BIN[nginx]}" -V 2>&1 | tr ' ' '\n' | sed -nE 's/^--(pid-path|lock-path|http-[a-z-]+-temp-path)=(\/.+)$/\2/p'
}


# nginx_config::refuse_unsupported SOURCE: the lines that would take nginx out of the supervisor's
# hands (daemon on: nginx's default is to fork away; master_process off: no master to stop it
# gracefully), or that need modules this nginx lacks, each refused naming its line.
nginx_config::refuse_unsupported() {
  local line
  line=$(grep -nE '^[[:space:]]*daemon[[:space:]]+on[[:space:]]*;' "$1" | head -n1 | cut -d: -f1 || true)
  [[ -z $line ]] || output::die "${1#"$_APP_DIR"/}:$line: daemon on; would put nginx in the background, out of the start script's hands" "Remove the line: bin/start-nginx runs nginx in the foreground and supervises it."
  line=$(grep -nE '^[[:space:]]*master_process[[:space:]]+off[[:space:]]*;' "$1" | head -n1 | cut -d: -f1 || true)
  [[ -z $line ]] || output::die "${1#"$_APP_DIR"/}:$line: master_process off; leaves nginx without the master process that stops it gracefully" "Remove the line."
  line=$(grep -nE '^[^#]*naxsi' "$1" | head -n1 | cut -d: -f1 || true)
  [[ -z $line ]] || output::die "${1#"$_APP_DIR"/}:$line: NAXSI, the firewall module heroku-buildpack-nginx built in 2019-2020, is not in this nginx (NAXSI is no longer maintained)" "Remove the naxsi lines (include naxsi_core.rules; include naxsi.rules;)."
  line=$(grep -nE '^[[:space:]]*uuid4[[:space:]]' "$1" | head -n1 | cut -d: -f1 || true)
  [[ -z $line ]] || output::die "${1#"$_APP_DIR"/}:$line: uuid4 is nginx-uuid4-module's, which heroku-buildpack-nginx builds in and this nginx does not (Debian does not package it)" "Use nginx's own \$request_id (32 random hex digits) where you used the uuid4 variable."
  line=$(grep -nE '(^|[;{])[[:space:]]*([a-z_]+_by_lua[a-z_]*|lua_[a-z_]+|mruby_[a-z_]+|pagespeed)([[:space:];{]|$)' "$1" | grep -vE '^[0-9]+:[[:space:]]*#' | head -n1 | cut -d: -f1 || true)
  [[ -z $line ]] || output::die "${1#"$_APP_DIR"/}:$line: Lua, mruby and PageSpeed need another nginx (OpenResty, ngx_mruby, ngx_pagespeed); neither heroku-buildpack-nginx nor this buildpack has them" "Use a buildpack with that nginx for this app (heroku-buildpack-static's template is for its own nginx), or remove those lines."
}

# nginx_config::keep_in_foreground RENDERED: `daemon off;` unless the config says (heroku-buildpack-nginx's
# first configs say nothing about it), and the pid file in the render dir unless the config
# places it, as -g arguments.
nginx_config::keep_in_foreground() {
  local globals=""
  grep -Eq '^[[:space:]]*daemon[[:space:]]' "$1" || globals+="daemon off; "
  grep -Eq '^[[:space:]]*pid[[:space:]]' "$1" || globals+="pid $_RENDER_DIR/nginx.pid; "
  [[ -z $globals ]] || _RENDERED_ARGS+=(-g "$globals")
}
