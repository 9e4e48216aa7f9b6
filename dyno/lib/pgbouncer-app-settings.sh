# shellcheck shell=bash
# The app's own pgbouncer settings: config/pgbouncer.ini, committed with the app, `name = value`
# lines for pgbouncer's [pgbouncer] section (connect_query, server_reset_query_always, …). Sourced
# by pgbouncer-config.sh. Nothing here can reach the shell: each line is checked and written back
# as one `name = value` line; pgbouncer itself then checks names and values at start, and names
# the setting it refuses.

_APP_PGBOUNCER_INI=config/pgbouncer.ini

# What the start script manages: the private socket, the listener, client auth and TLS, the files.
_MANAGED_INI_SETTINGS=(listen_addr listen_port unix_socket_dir unix_socket_mode unix_socket_group
  auth_type auth_file auth_hba_file auth_user auth_query logfile pidfile user
  client_tls_sslmode client_tls_key_file client_tls_cert_file)

# pgbouncer_app_settings::read: the checked lines of config/pgbouncer.ini (none if it does not exist).
pgbouncer_app_settings::read() {
  local file="$_APP_DIR/$_APP_PGBOUNCER_INI" line n=0 name value var
  [[ -f $file ]] || return 0
  while IFS= read -r line || [[ -n $line ]]; do
    n=$((n + 1))
    line=${line%$'\r'}
    [[ $line =~ ^[[:space:]]*([#\;].*)?$ || $line =~ ^[[:space:]]*\[pgbouncer\][[:space:]]*$ ]] && continue
    [[ ! $line =~ ^[[:space:]]*\[ ]] ||
      output::die "$_APP_PGBOUNCER_INI:$n: only [pgbouncer] settings belong here" "The databases come from PGBOUNCER_URLS and the users from their URLs."
    [[ $line =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=[[:space:]]*(.*[^[:space:]])?[[:space:]]*$ ]] ||
      output::die "$_APP_PGBOUNCER_INI:$n: not a setting" "Write one 'name = value' per line, as in pgbouncer.ini."
    name=${BASH_REMATCH[1],,} value=${BASH_REMATCH[2]}
    [[ " ${_MANAGED_INI_SETTINGS[*]} " != *" $name "* ]] ||
      output::die "$_APP_PGBOUNCER_INI:$n: $name is set by the start script" "Remove the line: the pooler's listener, socket and client auth are ours to manage."
    var="PGBOUNCER_${name^^}"
    [[ -z ${_SETTING_CHECK[$var]:-} ]] ||
      output::die "$_APP_PGBOUNCER_INI:$n: $name has its config var" "Remove the line and set $var instead (heroku config:set $var=…)."
    printf '%s = %s\n' "$name" "$value"
  done <"$file"
}
