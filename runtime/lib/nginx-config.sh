# shellcheck shell=bash
# nginx's config for this boot: the settings nginx's ERB reads, the app's config or our default
# rendered into a private run dir, and nginx -t. Sourced by start-nginx after common.sh; starts
# nothing.

NGINX_BIN="$VENDOR_DIR/nginx/bin/nginx"
RUN_DIR=""

# The app's config/nginx.conf.erb (or a plain config/nginx.conf) wins over our default.
config_source() {
  if [[ -f $APP_DIR/config/nginx.conf.erb ]]; then printf '%s\n' "$APP_DIR/config/nginx.conf.erb"
  elif [[ -f $APP_DIR/config/nginx.conf ]]; then printf '%s\n' "$APP_DIR/config/nginx.conf"
  else printf '%s\n' "$RUNTIME_HOME/conf/nginx.conf.erb"
  fi
}

# The settings, checked. nginx's go to the config's ERB: those the app set, as read ("auto"), and
# for our default config the defaults too. An app's own config keeps its own fallbacks
# (`ENV['NGINX_WORKERS'] || 4`), as under heroku-buildpack-nginx.
read_settings() {
  local name ours=0
  [[ $(config_source) == "$RUNTIME_HOME/conf/nginx.conf.erb" ]] && ours=1
  [[ -n ${PORT:-} ]] || die "PORT is not set" "Heroku sets it for web dynos; locally run with PORT=5000."
  [[ $PORT =~ ^[0-9]{1,5}$ ]] && ((PORT >= 1 && PORT <= 65535)) ||
    die "PORT must be a port number from 1 to 65535 (it is '$PORT')" "Heroku sets it for web dynos; locally run with PORT=5000."
  settings::read
  for name in "${SETTING_NAMES[@]}"; do
    [[ $name == NGINX_* && -n ${SETTING[$name]} ]] || continue
    if ((ours)) || [[ -n ${!name:-} ]]; then export "$name=${SETTING[$name]}"; fi
  done
}

# render_erb TEMPLATE: TEMPLATE rendered as Ruby's erb renders it (runtime/lib/erb.rb, on the mruby
# beside nginx), from the app's dir as heroku-buildpack-nginx runs `erb config/nginx.conf.erb`:
# __FILE__ and relative paths in the template mean what they mean there.
render_erb() {
  (cd "$APP_DIR" && "$VENDOR_DIR/nginx/libexec/mruby" "$LIB_DIR/erb.rb" "${1#"$APP_DIR"/}" "$SCRIPT_NAME")
}

# Renders the config into a private directory, beside the mime.types it includes, and checks it.
render_config() {
  local src out
  src=$(config_source)
  RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/nginx.XXXXXX")
  trap 'rm -rf "$RUN_DIR"' EXIT
  export NGINX_RUN_DIR=$RUN_DIR
  mkdir -p "$APP_DIR/logs/nginx"
  out="$RUN_DIR/nginx.conf"
  if [[ $src == *.erb ]]; then
    render_erb "$src" >"$out.tmp" || die "could not render ${src#"$APP_DIR"/}" "Fix the line named above."
    mv "$out.tmp" "$out"
  else
    cp "$src" "$out"
  fi
  [[ $src != "$APP_DIR/config/"* ]] || link_config_siblings
  # nginx's own include files (mime.types, uwsgi_params, ...) where the app has none of that name.
  local f
  for f in "$VENDOR_DIR"/nginx/conf/*; do
    [[ -e $RUN_DIR/${f##*/} ]] || cp "$f" "$RUN_DIR/"
  done
  NGINX_ARGS=(-p "$APP_DIR/" -c "$out")
  keep_in_hand "$out" "$src"
  # At build time the slug is not yet where it runs: its /app paths name files of the build dir.
  [[ -z ${SETTINGS_BUILD_DIR:-} || $APP_DIR == /app ]] ||
    sed -Ei "s#(^|[[:space:]\"'])/app([/;[:space:]\"']|$)#\\1$APP_DIR\\2#g" "$out"
  local check created=() path rc=0
  # At build time nothing may stay behind outside the run dir: a pid file or log nginx -t creates
  # (as root, on a machine that also boots the slug) would keep the dyno's nginx from starting.
  if [[ -n ${SETTINGS_BUILD_DIR:-} ]]; then
    while IFS= read -r path; do [[ -e $path || -L $path ]] || created+=("$path"); done < <(files_nginx_creates "$out")
  fi
  check=$("$NGINX_BIN" "${NGINX_ARGS[@]}" -t 2>&1) || rc=$?
  # (the + form: bash 4.3, cedar-14's, calls an empty array unbound under set -u)
  for path in ${created[@]+"${created[@]}"}; do rm -f "$path" 2>/dev/null || rmdir "$path" 2>/dev/null || true; done
  if ((rc)); then
    printf '%s\n' "$check" | sed "s#$RUN_DIR/nginx.conf#${src#"$APP_DIR"/} (rendered)#g" >&2
    if [[ $check == *"pcre2_compile() failed"* ]]; then
      die "nginx -t rejected ${src#"$APP_DIR"/}: a regular expression that PCRE2 refuses" "$PCRE2_HINT"
    fi
    die "nginx -t rejected ${src#"$APP_DIR"/}" "Fix the config; the lines above give nginx's reason."
  fi
}

# This nginx matches with PCRE2; heroku-buildpack-nginx kept PCRE1 on heroku-22, which took some
# patterns PCRE2 refuses.
PCRE2_HINT="This nginx uses PCRE2, which is stricter than the PCRE1 of older nginx builds: a '-' between
two classes in [...] (e.g. [\\w-.]) must be escaped or put last ([\\w.-]); an unknown escape
(e.g. \\i) must be dropped or written as the character itself. The line is named above."

# link_config_siblings: the files beside the app's template, in the run dir where the rendered
# config is, so that relative paths in it (include, auth_basic_user_file, ssl_certificate) name
# them, as they do under heroku-buildpack-nginx, which renders into config/.
link_config_siblings() {
  local f
  for f in "$APP_DIR"/config/* "$APP_DIR"/config/.[!.]*; do
    [[ -e $f ]] || continue
    case ${f##*/} in nginx.conf | nginx.conf.erb) continue ;; esac
    ln -s "$f" "$RUN_DIR/${f##*/}"
  done
}

# files_nginx_creates CONFIG: the absolute paths nginx -t may create, one a line: those CONFIG
# names (pid, lock and log files, temp dirs) and the defaults built into nginx (nginx -V).
files_nginx_creates() {
  grep -oE '(^|[;{[:space:]])(pid|lock_file|error_log|access_log|[a-z_]*_temp_path)[[:space:]]+/[^;[:space:]]+' "$1" |
    sed -E 's/.*[[:space:]](\/[^[:space:]]+)$/\1/' || true
  "$NGINX_BIN" -V 2>&1 | tr ' ' '\n' | sed -nE 's/^--(pid-path|lock-path|http-[a-z-]+-temp-path)=(\/.+)$/\2/p'
}


# nginx must stay in the start script's hands: in the foreground (the anchor's first configs say
# nothing about daemon, and nginx's default is to fork away) and with a master process that stops
# gracefully; its pid file goes in the run dir unless the config places it.
keep_in_hand() { # keep_in_hand RENDERED SOURCE
  local line globals=""
  line=$(grep -nE '^[[:space:]]*daemon[[:space:]]+on[[:space:]]*;' "$2" | head -n1 | cut -d: -f1 || true)
  [[ -z $line ]] || die "${2#"$APP_DIR"/}:$line: daemon on; would put nginx in the background, out of the start script's hands" "Remove the line: bin/start-nginx runs nginx in the foreground and supervises it."
  line=$(grep -nE '^[[:space:]]*master_process[[:space:]]+off[[:space:]]*;' "$2" | head -n1 | cut -d: -f1 || true)
  [[ -z $line ]] || die "${2#"$APP_DIR"/}:$line: master_process off; leaves nginx without the master process that stops it gracefully" "Remove the line."
  line=$(grep -nE '^[^#]*naxsi' "$2" | head -n1 | cut -d: -f1 || true)
  [[ -z $line ]] || die "${2#"$APP_DIR"/}:$line: NAXSI, the firewall module heroku-buildpack-nginx built in 2019-2020, is not in this nginx (NAXSI is no longer maintained)" "Remove the naxsi lines (include naxsi_core.rules; include naxsi.rules;)."
  line=$(grep -nE '^[[:space:]]*uuid4[[:space:]]' "$2" | head -n1 | cut -d: -f1 || true)
  [[ -z $line ]] || die "${2#"$APP_DIR"/}:$line: uuid4 is nginx-uuid4-module's, which heroku-buildpack-nginx builds in and this nginx does not (Debian does not package it)" "Use nginx's own \$request_id (32 random hex digits) where you used the uuid4 variable."
  line=$(grep -nE '(^|[;{])[[:space:]]*([a-z_]+_by_lua[a-z_]*|lua_[a-z_]+|mruby_[a-z_]+|pagespeed)([[:space:];{]|$)' "$2" | grep -vE '^[0-9]+:[[:space:]]*#' | head -n1 | cut -d: -f1 || true)
  [[ -z $line ]] || die "${2#"$APP_DIR"/}:$line: Lua, mruby and PageSpeed need another nginx (OpenResty, ngx_mruby, ngx_pagespeed); neither heroku-buildpack-nginx nor this buildpack has them" "Use a buildpack with that nginx for this app (heroku-buildpack-static's template is for its own nginx), or remove those lines."
  grep -Eq '^[[:space:]]*daemon[[:space:]]' "$1" || globals+="daemon off; "
  grep -Eq '^[[:space:]]*pid[[:space:]]' "$1" || globals+="pid $RUN_DIR/nginx.pid; "
  [[ -z $globals ]] || NGINX_ARGS+=(-g "$globals")
}
