# shellcheck shell=bash disable=SC2094
# Renders the ERB that people write in config/nginx.conf.erb, in bash, because a dyno has no Ruby
# we can count on. Supported, one tag per `<% %>` on a single line:
#   <%= ENV["X"] %>  <%= ENV['X'] || 4 %>  <%= ENV['X'] || "text" %>
#   <%= ENV.fetch("X") %>  <%= ENV.fetch("X", 4) %>  <%= ENV.fetch("X") { 4 } %>
#   <% if ENV["X"] %>  <% if ENV["X"] == "v" %>  <% if ENV["X"] != "v" %>  <% unless ENV["X"] %>
#   <% elsif ... %>  <% else %>  <% end %>  <%# comment %>   (and the <%- -%> trim forms)
# Anything else stops with the file and line named. As in Ruby, a set but empty variable is true
# in a condition and `||` only falls back when the variable is unset.

Q="'"
ERB_NAME='([A-Za-z_][A-Za-z0-9_]*)'
ERB_ENV="ENV(\\[\"${ERB_NAME}\"\\]|\\[${Q}${ERB_NAME}${Q}\\])"
ERB_FETCH="ENV\\.fetch\\([\"${Q}]${ERB_NAME}[\"${Q}]\\)"
ERB_FETCH_DEFAULT="ENV\\.fetch\\([\"${Q}]${ERB_NAME}[\"${Q}], *(.+)\\)"
ERB_FETCH_BLOCK="ENV\\.fetch\\([\"${Q}]${ERB_NAME}[\"${Q}]\\) *\\{ *(.+) *\\}"

# erb_literal TEXT: the value of a Ruby literal (number, 'str', "str"), or fails.
erb_literal() {
  local t=$1
  if [[ $t =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; then printf '%s' "$t"
  elif [[ $t =~ ^\"([^\"\\]*)\"$ || $t =~ ^\'([^\'\\]*)\'$ ]]; then printf '%s' "${BASH_REMATCH[1]}"
  else return 1
  fi
}

# erb_value EXPR: the string an output tag's expression yields, or fails (status 1: unsupported,
# status 2: ENV.fetch of an unset variable).
erb_value() {
  local e=$1 name fallback
  e=${e#"${e%%[![:space:]]*}"} e=${e%"${e##*[![:space:]]}"}
  if [[ $e =~ ^${ERB_ENV}$ ]]; then
    name=${BASH_REMATCH[2]:-${BASH_REMATCH[3]}}
    printf '%s' "${!name:-}"
  elif [[ $e =~ ^${ERB_ENV}\ *\|\|\ *(.+)$ ]]; then
    name=${BASH_REMATCH[2]:-${BASH_REMATCH[3]}}
    fallback=$(erb_literal "${BASH_REMATCH[4]}") || return 1
    if [[ -n ${!name+set} ]]; then printf '%s' "${!name}"; else printf '%s' "$fallback"; fi
  elif [[ $e =~ ^${ERB_FETCH_BLOCK}$ || $e =~ ^${ERB_FETCH_DEFAULT}$ ]]; then
    name=${BASH_REMATCH[1]}
    fallback=$(erb_literal "${BASH_REMATCH[2]% }") || return 1
    if [[ -n ${!name+set} ]]; then printf '%s' "${!name}"; else printf '%s' "$fallback"; fi
  elif [[ $e =~ ^${ERB_FETCH}$ ]]; then
    name=${BASH_REMATCH[1]}
    [[ -n ${!name+set} ]] || return 2
    printf '%s' "${!name}"
  elif erb_literal "$e" >/dev/null; then
    erb_literal "$e"
  else
    return 1
  fi
}

# erb_condition EXPR: succeeds when the condition holds; status 1 false, 3 unsupported.
erb_condition() {
  local e=$1 name value literal
  e=${e#"${e%%[![:space:]]*}"} e=${e%"${e##*[![:space:]]}"}
  if [[ $e =~ ^${ERB_ENV}$ ]]; then
    name=${BASH_REMATCH[2]:-${BASH_REMATCH[3]}}
    [[ -n ${!name+set} ]]
  elif [[ $e =~ ^${ERB_ENV}\ *(==|!=)\ *(.+)$ ]]; then
    name=${BASH_REMATCH[2]:-${BASH_REMATCH[3]}}
    local op=${BASH_REMATCH[4]}
    literal=$(erb_literal "${BASH_REMATCH[5]}") || return 3
    value=${!name-}
    if [[ -z ${!name+set} ]]; then [[ $op == "!=" ]]
    elif [[ $op == "==" ]]; then [[ $value == "$literal" ]]
    else [[ $value != "$literal" ]]
    fi
  else
    return 3
  fi
}

# render_erb FILE: writes the rendered file to stdout; on unsupported ERB, reports FILE:LINE.
render_erb() {
  local file=$1 line n=0 out tag code rest only_control
  # Condition stack: each level is "active taken" (active: this branch renders; taken: some
  # branch of this if already rendered).
  local -a active=(1) taken=(1)
  local depth=0 ok
  while IFS= read -r line || [[ -n $line ]]; do
    n=$((n + 1))
    out="" only_control=1 rest=$line
    while [[ $rest == *"<%"* ]]; do
      local before=${rest%%"<%"*}
      [[ ${active[depth]} == 1 ]] && out+=$before
      [[ $before =~ [^[:space:]] ]] && only_control=0
      rest=${rest#*"<%"}
      if [[ $rest != *"%>"* ]]; then
        erb_fail "$file" "$n" "a tag that does not close on the same line"
        return 1
      fi
      tag=${rest%%"%>"*}
      rest=${rest#*"%>"}
      tag=${tag%-} tag=${tag#-}
      if [[ $tag == "#"* ]]; then continue; fi
      if [[ $tag == "="* ]]; then
        only_control=0
        [[ ${active[depth]} == 1 ]] || continue
        local value rc=0
        value=$(erb_value "${tag#=}") || rc=$?
        if ((rc == 2)); then
          [[ $tag =~ $ERB_FETCH ]] && ERB_MISSING=${BASH_REMATCH[1]}
          erb_fail "$file" "$n" "ENV.fetch(\"$ERB_MISSING\") but $ERB_MISSING is not set" "set it, or give ENV.fetch a default"
          return 1
        elif ((rc)); then
          erb_fail "$file" "$n" "unsupported ERB <%${tag}%>"
          return 1
        fi
        out+=$value
        continue
      fi
      code=${tag#"${tag%%[![:space:]]*}"} code=${code%"${code##*[![:space:]]}"}
      case $code in
        "if "* | "unless "*)
          local parent=${active[depth]} cond=${code#* } rc=0
          erb_condition "$cond" || rc=$?
          ((rc == 3)) && { erb_fail "$file" "$n" "unsupported condition <%${tag}%>"; return 1; }
          [[ $code == unless* ]] && { ((rc == 0)) && rc=1 || rc=0; }
          ok=$((parent == 1 && rc == 0 ? 1 : 0))
          depth=$((depth + 1)) active[depth]=$ok taken[depth]=$ok
          ;;
        "elsif "*)
          ((depth > 0)) || { erb_fail "$file" "$n" "elsif without if"; return 1; }
          local rc=0
          erb_condition "${code#elsif }" || rc=$?
          ((rc == 3)) && { erb_fail "$file" "$n" "unsupported condition <%${tag}%>"; return 1; }
          ok=$((active[depth - 1] == 1 && taken[depth] == 0 && rc == 0 ? 1 : 0))
          active[depth]=$ok
          ((ok)) && taken[depth]=1
          ;;
        "else")
          ((depth > 0)) || { erb_fail "$file" "$n" "else without if"; return 1; }
          ok=$((active[depth - 1] == 1 && taken[depth] == 0 ? 1 : 0))
          active[depth]=$ok taken[depth]=1
          ;;
        "end")
          ((depth > 0)) || { erb_fail "$file" "$n" "end without if"; return 1; }
          depth=$((depth - 1))
          ;;
        *)
          erb_fail "$file" "$n" "unsupported ERB <%${tag}%>"
          return 1
          ;;
      esac
    done
    [[ ${active[depth]} == 1 ]] && out+=$rest
    [[ $rest =~ [^[:space:]] ]] && only_control=0
    # A line that held only control tags leaves no blank line behind.
    if ((only_control)) && [[ $line == *"<%"* ]]; then continue; fi
    [[ ${active[depth]} == 1 || -n $out ]] && printf '%s\n' "$out"
  done <"$file"
  ((depth == 0)) || { erb_fail "$file" "$n" "an if without its end"; return 1; }
}

erb_fail() { # erb_fail FILE LINE WHAT [HINT]
  printf '%s: error: %s:%s: %s\n' "$SCRIPT_NAME" "$1" "$2" "$3" >&2
  printf '%s: %s\n' "$SCRIPT_NAME" "${4:-only ENV[...], ENV[...] || default, ENV.fetch(...) and if/unless/elsif/else/end on ENV are supported}" >&2
}
