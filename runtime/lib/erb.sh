# shellcheck shell=bash disable=SC2094
# Renders the ERB that people write in config/nginx.conf.erb, in bash, because a dyno has no Ruby
# we can count on. One tag per `<% %>` on a single line: output tags (<%= expression %>),
# if/unless/elsif/else/end on an expression, comments (<%# %>), and the <%- -%> trim forms.
# Anything else stops with the file and line named. As in Ruby, a set but empty variable is true
# in a condition and `||` only falls back when the variable is unset.

# Expressions are evaluated as Ruby would, for this subset:
#   ENV["X"]  ENV['X']  ENV.fetch("X")  ENV.fetch("X", default)  ENV.fetch("X") { default }
#   'text'  "text with #{expression}"  42  nil  true  false  ( expression )
#   a || b   a && b   !a   a == b   a != b   a + b   a ? b : c
#   .to_s .to_i .strip .downcase .upcase .nil? .empty?
# A value is held as one string: its Ruby class's letter, then its text (s: String, i: Integer,
# n: nil, t: true, f: false). ERB_ERROR says why an evaluation failed: "unsupported", or
# "fetch NAME" (ENV.fetch of an unset variable without a default). As in Ruby, the operand that
# ||, && and ?: do not take is parsed but not evaluated (ERB_SKIP > 0): no error of its values
# counts there. ENV is the exported environment, not the renderer's own shell variables.

# erb::tokenize EXPR: EXPR's tokens into ERB_TOKENS ("s:text" for a single-quoted string, "d:raw"
# for a double-quoted one, "i:digits", "w:word", or the operator itself); fails on anything else.
erb::tokenize() {
  local e=$1 t
  ERB_TOKENS=()
  while [[ -n $e ]]; do
    e=${e#"${e%%[![:space:]]*}"}
    [[ -n $e ]] || break
    if [[ $e =~ ^\'([^\'\\]*)\'(.*)$ ]]; then t="s:${BASH_REMATCH[1]}" e=${BASH_REMATCH[2]}
    elif [[ $e == '"'* ]]; then erb::dquoted "$e" || return 1; t="d:$ERB_RAW" e=$ERB_REST
    elif [[ $e =~ ^([0-9]+)(.*)$ ]]; then t="i:${BASH_REMATCH[1]}" e=${BASH_REMATCH[2]}
    elif [[ $e =~ ^([A-Za-z_][A-Za-z0-9_]*[?]?)(.*)$ ]]; then t="w:${BASH_REMATCH[1]}" e=${BASH_REMATCH[2]}
    elif [[ $e =~ ^(\&\&|\|\||==|!=)(.*)$ ]]; then t=${BASH_REMATCH[1]} e=${BASH_REMATCH[2]}
    elif [[ $e =~ ^([][(){}.,!+?:])(.*)$ ]]; then t=${BASH_REMATCH[1]} e=${BASH_REMATCH[2]}
    else ERB_ERROR=unsupported; return 1
    fi
    ERB_TOKENS+=("$t")
  done
}

ERB_SKIP=0

# erb::dquoted TEXT: the double-quoted string TEXT starts with, its raw inside into ERB_RAW and
# what follows into ERB_REST. Quotes inside #{...} do not end it ("#{ENV["HOME"]}/x").
erb::dquoted() {
  local e=${1:1} i=0 depth=0 c
  while ((i < ${#e})); do
    c=${e:i:1}
    if [[ $c == '\' ]]; then i=$((i + 2)); continue; fi
    if ((depth == 0)) && [[ $c == '"' ]]; then ERB_RAW=${e:0:i} ERB_REST=${e:i+1}; return 0; fi
    if [[ $c == '#' && ${e:i+1:1} == '{' ]]; then depth=$((depth + 1)) i=$((i + 2)); continue; fi
    if ((depth > 0)) && [[ $c == '}' ]]; then depth=$((depth - 1)); fi
    i=$((i + 1))
  done
  ERB_ERROR=unsupported
  return 1
}

erb::peek() { [[ ${ERB_TOKENS[ERB_POS]-} == "$1" ]]; }
# erb::skipped FN: FN parsed as an operand Ruby would not evaluate.
erb::skipped() {
  ERB_SKIP=$((ERB_SKIP + 1))
  local rc=0
  "$1" || rc=$?
  ERB_SKIP=$((ERB_SKIP - 1))
  return "$rc"
}
# erb::type_error: Ruby would raise here (a method of another class, String + nil): refused, unless
# in an operand Ruby does not evaluate.
erb::type_error() {
  ((ERB_SKIP)) && { ERB_VALUE=n; return 0; }
  ERB_ERROR=unsupported
  return 1
}
erb::expect() { erb::peek "$1" || { ERB_ERROR=unsupported; return 1; }; ERB_POS=$((ERB_POS + 1)); }
erb::truthy() { [[ $1 != n && $1 != f ]]; }

# erb::eval EXPR: EXPR's value into ERB_VALUE, or fails with ERB_ERROR.
erb::eval() {
  local -a ERB_TOKENS
  local ERB_POS=0
  erb::tokenize "$1" || return 1
  erb::ternary || return 1
  ((ERB_POS == ${#ERB_TOKENS[@]})) || { ERB_ERROR=unsupported; return 1; }
}

erb::ternary() {
  erb::or || return 1
  erb::peek "?" || return 0
  local cond=$ERB_VALUE chosen
  ERB_POS=$((ERB_POS + 1))
  if erb::truthy "$cond"; then
    erb::ternary && chosen=$ERB_VALUE && erb::expect ":" && erb::skipped erb::ternary || return 1
    ERB_VALUE=$chosen
  else
    erb::skipped erb::ternary && erb::expect ":" && erb::ternary || return 1
  fi
}

erb::or() {
  erb::and || return 1
  local left
  while erb::peek "||"; do
    ERB_POS=$((ERB_POS + 1)) left=$ERB_VALUE
    if erb::truthy "$left"; then
      erb::skipped erb::and || return 1
      ERB_VALUE=$left
    else
      erb::and || return 1
    fi
  done
  return 0
}

erb::and() {
  erb::compare || return 1
  local left
  while erb::peek "&&"; do
    ERB_POS=$((ERB_POS + 1)) left=$ERB_VALUE
    if erb::truthy "$left"; then
      erb::compare || return 1
    else
      erb::skipped erb::compare || return 1
      ERB_VALUE=$left
    fi
  done
  return 0
}

# ! binds tighter than == and + in Ruby: !a == b is (!a) == b.
erb::not() {
  if erb::peek "!"; then
    ERB_POS=$((ERB_POS + 1))
    erb::not || return 1
    if erb::truthy "$ERB_VALUE"; then ERB_VALUE=f; else ERB_VALUE=t; fi
    return 0
  fi
  erb::postfix
}

erb::compare() {
  erb::sum || return 1
  local op=${ERB_TOKENS[ERB_POS]-} left=$ERB_VALUE
  [[ $op == "==" || $op == "!=" ]] || return 0
  ERB_POS=$((ERB_POS + 1))
  erb::sum || return 1
  if [[ $left == "$ERB_VALUE" && $op == "==" || $left != "$ERB_VALUE" && $op == "!=" ]]; then ERB_VALUE=t; else ERB_VALUE=f; fi
}

erb::sum() {
  erb::not || return 1
  local left
  while erb::peek "+"; do
    ERB_POS=$((ERB_POS + 1)) left=$ERB_VALUE
    erb::not || return 1
    if [[ $left == s* && $ERB_VALUE == s* ]]; then ERB_VALUE="s${left#s}${ERB_VALUE#s}"
    elif [[ $left == i* && $ERB_VALUE == i* ]]; then erb::integer "$((${left#i} + ${ERB_VALUE#i}))" || return 1
    else erb::type_error || return 1  # String + nil, String + Integer
    fi
  done
  return 0
}

# erb::integer TEXT: an Integer of TEXT's leading [-+]digits, at most 18 of them (bash's 64-bit
# arithmetic; Ruby's has no bound, so a longer one is refused rather than wrapped).
erb::integer() {
  [[ $1 =~ ^[[:space:]]*([-+]?)0*([0-9]{1,18})([^0-9]|$) ]] || { [[ $1 =~ ^[[:space:]]*[-+]?[0-9]{19} ]] && { ERB_ERROR=unsupported; return 1; }; ERB_VALUE=i0; return 0; }
  ERB_VALUE="i${BASH_REMATCH[1]/+/}$((10#${BASH_REMATCH[2]}))"
  [[ $ERB_VALUE != i-0 ]] || ERB_VALUE=i0
}

erb::postfix() {
  erb::primary || return 1
  local m v
  while erb::peek "." && [[ ${ERB_TOKENS[ERB_POS + 1]-} == w:* ]]; do
    m=${ERB_TOKENS[ERB_POS + 1]#w:} v=$ERB_VALUE
    ERB_POS=$((ERB_POS + 2))
    case $m:${v:0:1} in
      to_s:n) ERB_VALUE=s ;;
      to_s:i | to_s:s) ERB_VALUE="s${v:1}" ;;
      to_s:t) ERB_VALUE=strue ;;
      to_s:f) ERB_VALUE=sfalse ;;
      to_i:s) erb::integer "${v:1}" || return 1 ;;
      to_i:i) ;;
      to_i:n) ERB_VALUE=i0 ;;
      strip:s) v=${v:1} v=${v#"${v%%[![:space:]]*}"} ERB_VALUE="s${v%"${v##*[![:space:]]}"}" ;;
      downcase:s) v=${v:1} ERB_VALUE="s${v,,}" ;;
      upcase:s) v=${v:1} ERB_VALUE="s${v^^}" ;;
      nil\?:*) [[ $v == n ]] && ERB_VALUE=t || ERB_VALUE=f ;;
      empty\?:s) [[ $v == s ]] && ERB_VALUE=t || ERB_VALUE=f ;;
      to_s:* | to_i:* | strip:* | downcase:* | upcase:* | empty\?:*) erb::type_error || return 1 ;;
      *) ERB_ERROR=unsupported; return 1 ;;
    esac
  done
  return 0
}

# erb::env_name: the variable name of a string token (ENV['X'] and ENV.fetch("X")).
erb::env_name() {
  local t=${ERB_TOKENS[ERB_POS]-}
  [[ $t =~ ^[sd]:([^\#]+)$ ]] || { ERB_ERROR=unsupported; return 1; }
  ERB_NAME=${BASH_REMATCH[1]} ERB_POS=$((ERB_POS + 1))
}

# erb::env NAME: the variable's value into ERB_VALUE, or nil. A name bash cannot hold (ENV["8080"])
# is never set in a dyno's environment as bash passes it on.
# (The exported names are read once per render, by render_erb: no fork per lookup at boot.)
erb::env() {
  ERB_VALUE=n
  [[ -n ${ERB_EXPORTED[$1]+set} ]] && ERB_VALUE="s${!1}"
  return 0
}

erb::primary() {
  local t=${ERB_TOKENS[ERB_POS]-} name
  ERB_POS=$((ERB_POS + 1))
  case $t in
    s:*) ERB_VALUE="s${t#s:}" ;;
    d:*) erb::interpolate "${t#d:}" || return 1 ;;
    i:*) erb::integer "${t#i:}" || return 1 ;;
    w:nil) ERB_VALUE=n ;;
    w:true) ERB_VALUE=t ;;
    w:false) ERB_VALUE=f ;;
    "(") erb::ternary && erb::expect ")" ;;
    w:ENV)
      if erb::peek "["; then
        ERB_POS=$((ERB_POS + 1))
        erb::env_name && erb::expect "]" || return 1
        erb::env "$ERB_NAME"
      elif erb::peek "." && [[ ${ERB_TOKENS[ERB_POS + 1]-} == w:fetch ]]; then
        ERB_POS=$((ERB_POS + 2))
        erb::expect "(" && erb::env_name || return 1
        name=$ERB_NAME
        erb::env "$name"
        local value=$ERB_VALUE default=erb::ternary
        # The default is evaluated only when the variable is unset.
        [[ $value == n ]] || default="erb::skipped erb::ternary"
        if erb::peek ","; then
          ERB_POS=$((ERB_POS + 1))
          $default && erb::expect ")" || return 1
        elif erb::expect ")" && erb::peek "{"; then
          ERB_POS=$((ERB_POS + 1))
          $default && erb::expect "}" || return 1
        elif [[ $value == n ]] && ((!ERB_SKIP)); then
          ERB_ERROR="fetch $name"
          return 1
        fi
        [[ $value == n ]] || ERB_VALUE=$value
      else
        ERB_ERROR=unsupported
        return 1
      fi
      ;;
    *) ERB_ERROR=unsupported; return 1 ;;
  esac
}

# erb::interpolate RAW: a double-quoted string's value: its #{...} parts evaluated, \" \\ \n \t read.
erb::interpolate() {
  local raw=$1 out="" inner
  while [[ -n $raw ]]; do
    if [[ $raw == '#{'* ]]; then
      raw=${raw#'#{'}
      [[ $raw == *"}"* ]] || { ERB_ERROR=unsupported; return 1; }
      inner=${raw%%"}"*} raw=${raw#*"}"}
      erb::eval "$inner" || return 1
      case $ERB_VALUE in n) ;; t) out+=true ;; f) out+=false ;; *) out+=${ERB_VALUE:1} ;; esac
    elif [[ $raw == '\'* ]]; then
      case ${raw:1:1} in n) out+=$'\n' ;; t) out+=$'\t' ;; *) out+=${raw:1:1} ;; esac
      raw=${raw:2}
    else
      out+=${raw:0:1} raw=${raw:1}
    fi
  done
  ERB_VALUE="s$out"
}

# erb_value EXPR: the text an output tag prints into ERB_TEXT, or fails (status 1: unsupported,
# status 2: ENV.fetch of an unset variable, named in ERB_MISSING).
erb_value() {
  ERB_ERROR=""
  if ! erb::eval "$1"; then
    [[ $ERB_ERROR == fetch\ * ]] && { ERB_MISSING=${ERB_ERROR#fetch }; return 2; }
    return 1
  fi
  case $ERB_VALUE in n) ERB_TEXT="" ;; t) ERB_TEXT=true ;; f) ERB_TEXT=false ;; *) ERB_TEXT=${ERB_VALUE:1} ;; esac
}

# erb_condition EXPR: succeeds when the condition holds; status 1 false, 3 unsupported (2: ENV.fetch
# of an unset variable).
erb_condition() {
  ERB_ERROR=""
  if ! erb::eval "$1"; then
    [[ $ERB_ERROR == fetch\ * ]] && { ERB_MISSING=${ERB_ERROR#fetch }; return 2; }
    return 3
  fi
  erb::truthy "$ERB_VALUE" || return 1
}

# render_erb FILE: writes the rendered file to stdout; on unsupported ERB, reports FILE:LINE.
render_erb() {
  local file=$1 line n=0 out tag code rest only_control name
  declare -gA ERB_EXPORTED=()
  for name in $(compgen -e); do ERB_EXPORTED[$name]=1; done
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
        local rc=0
        erb_value "${tag#=}" || rc=$?
        if ((rc == 2)); then
          erb_fetch_fail "$file" "$n"
          return 1
        elif ((rc)); then
          erb_fail "$file" "$n" "unsupported ERB <%${tag}%>"
          return 1
        fi
        out+=$ERB_TEXT
        continue
      fi
      code=${tag#"${tag%%[![:space:]]*}"} code=${code%"${code##*[![:space:]]}"}
      case $code in
        "if "* | "unless "*)
          local parent=${active[depth]} cond=${code#* } rc=0
          erb_condition "$cond" || rc=$?
          ((rc == 2)) && { erb_fetch_fail "$file" "$n"; return 1; }
          ((rc == 3)) && { erb_fail "$file" "$n" "unsupported condition <%${tag}%>"; return 1; }
          [[ $code == unless* ]] && { ((rc == 0)) && rc=1 || rc=0; }
          ok=$((parent == 1 && rc == 0 ? 1 : 0))
          depth=$((depth + 1)) active[depth]=$ok taken[depth]=$ok
          ;;
        "elsif "*)
          ((depth > 0)) || { erb_fail "$file" "$n" "elsif without if"; return 1; }
          local rc=0
          erb_condition "${code#elsif }" || rc=$?
          ((rc == 2)) && { erb_fetch_fail "$file" "$n"; return 1; }
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

ERB_SUPPORTED='supported: ENV[...] and ENV.fetch(...), strings (with #{...}), numbers, nil, true, false, && || ! == != + ?:, .to_s .to_i .strip .downcase .upcase .nil? .empty?, and if/unless/elsif/else/end, one tag per <% %> on one line'

erb_fail() { # erb_fail FILE LINE WHAT [HINT]
  printf '%s: error: %s:%s: %s\n' "$SCRIPT_NAME" "$1" "$2" "$3" >&2
  printf '%s: %s\n' "$SCRIPT_NAME" "${4:-$ERB_SUPPORTED}" >&2
}

erb_fetch_fail() { # erb_fetch_fail FILE LINE: ENV.fetch of the unset ERB_MISSING
  erb_fail "$1" "$2" "ENV.fetch(\"$ERB_MISSING\") but $ERB_MISSING is not set" "set it, or give ENV.fetch a default"
}
