# shellcheck shell=bash
# nginx's config for this boot: the settings nginx's ERB reads, the app's config or our default
# rendered into a private run dir, and nginx -t. Sourced by start-nginx after common.sh; starts
# nothing.

# shellcheck source=runtime/lib/erb.sh
. "$LIB_DIR/erb.sh"

NGINX_BIN="$VENDOR_DIR/nginx/bin/nginx"
RUN_DIR=""

# The app's config/nginx.conf.erb (or a plain config/nginx.conf) wins over our default.
config_source() {
  if [[ -f $APP_DIR/config/nginx.conf.erb ]]; then printf '%s\n' "$APP_DIR/config/nginx.conf.erb"
  elif [[ -f $APP_DIR/config/nginx.conf ]]; then printf '%s\n' "$APP_DIR/config/nginx.conf"
  else printf '%s\n' "$RUNTIME_HOME/conf/nginx.conf.erb"
  fi
}

# The settings, checked; nginx's exported as read (e.g. "auto", "100m") for the config's ERB.
read_settings() {
  local name
  [[ -n ${PORT:-} ]] || die "PORT is not set" "Heroku sets it for web dynos; locally run with PORT=5000."
  [[ $PORT =~ ^[0-9]{1,5}$ ]] && ((PORT >= 1 && PORT <= 65535)) ||
    die "PORT must be a port number from 1 to 65535 (it is '$PORT')" "Heroku sets it for web dynos; locally run with PORT=5000."
  settings::read
  for name in "${SETTING_NAMES[@]}"; do
    [[ $name == NGINX_* && -n ${SETTING[$name]} ]] && export "$name=${SETTING[$name]}"
  done
  return 0
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
  if [[ -f $APP_DIR/config/mime.types ]]; then cp "$APP_DIR/config/mime.types" "$RUN_DIR/"
  else cp "$VENDOR_DIR/nginx/conf/mime.types" "$RUN_DIR/"
  fi
  # The pid file goes in the run dir unless the config places it.
  NGINX_ARGS=(-p "$APP_DIR/" -c "$out")
  grep -Eq '^[[:space:]]*pid[[:space:]]' "$out" || NGINX_ARGS+=(-g "pid $RUN_DIR/nginx.pid;")
  local check
  if ! check=$("$NGINX_BIN" "${NGINX_ARGS[@]}" -t 2>&1); then
    printf '%s\n' "$check" | sed "s#$RUN_DIR/nginx.conf#${src#"$APP_DIR"/} (rendered)#g" >&2
    die "nginx -t rejected ${src#"$APP_DIR"/}" "Fix the config; the lines above give nginx's reason."
  fi
}

