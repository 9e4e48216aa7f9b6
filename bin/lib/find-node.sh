# shellcheck shell=bash
# Finds a Node that can run the compile step (sourced by bin/compile and bin/build).
# The build image may have no Node, or one too old, and cedar-14's glibc runs Node 16 at most, so
# the stack's pinned Node (dist/node-pins.sh) is fetched with curl, checked and cached.

MIN_NODE_MAJOR=16

# `node --version` answers in milliseconds; running code would cost a full Node start (~0.1 s).
find_node::is_usable() {
  local version
  version=$("$1" --version 2>/dev/null) || return 1
  [[ $version =~ ^v([0-9]+)\. ]] && ((BASH_REMATCH[1] >= MIN_NODE_MAJOR))
}

# find_node::vendor_base_url ENV_DIR: BUILDPACK_VENDOR_URL from the config vars, else the manifest's.
find_node::vendor_base_url() {
  local env_dir=$1 url
  if [[ -n $env_dir && -s $env_dir/BUILDPACK_VENDOR_URL ]]; then
    url=$(<"$env_dir/BUILDPACK_VENDOR_URL")
  else
    url=$NODE_PINS_BASE_URL
  fi
  if [[ ! $url =~ ^https?://[^/]+ ]]; then
    printf ' !     Error: %s\n !     %s\n' "$NODE_PINS_VENDOR_URL_ERROR" "$NODE_PINS_VENDOR_URL_HINT" >&2
    return 1
  fi
  printf '%s\n' "${url%/}"
}

# find_node::build_arch: this machine's architecture as the manifest names it (the Node fetched must run
# here, whatever the binaries are for); node-pins.sh, sourced first, holds the names.
find_node::build_arch() {
  local machine name
  machine=$(uname -m)
  name="NODE_PINS_ARCH_${machine//[^A-Za-z0-9]/_}"
  printf '%s\n' "${!name:-$machine}"
}

# find_node::fetch_pinned STACK CACHE_DIR ENV_DIR: prints the path of the pinned node binary.
find_node::fetch_pinned() {
  local stack=$1 cache=$2 env_dir=$3 pin_var pin file sha256 size dir base tmp arch
  # shellcheck source=dist/node-pins.sh
  . "$BP_DIR/dist/node-pins.sh"
  arch=$(find_node::build_arch)
  pin_var="NODE_PIN_${stack//[^A-Za-z0-9]/_}_$arch"
  pin=${!pin_var:-}
  if [[ -z $stack ]]; then
    printf ' !     Error: STACK is not set\n !     %s\n' "$NODE_PINS_STACK_HINT" >&2
    return 1
  elif [[ -z $pin && -z $(compgen -v "NODE_PIN_${stack//[^A-Za-z0-9]/_}_") ]]; then
    printf ' !     Error: stack "%s" is not supported\n !     %s\n' "$stack" "$NODE_PINS_STACK_HINT" >&2
    return 1
  elif [[ -z $pin ]]; then
    printf ' !     Error: %s has no %s binaries here\n !     %s\n' "$stack" "$arch" "$NODE_PINS_ARM64_HINT" >&2
    return 1
  fi
  read -r file sha256 size <<<"$pin"
  dir="$cache/nginx-pgbouncer/compile-node/${file%.tar.gz}"
  if [[ -x $dir/bin/node && -f $dir/.sha256 && $(<"$dir/.sha256") == "$sha256" ]]; then
    printf '%s\n' "$dir/bin/node"
    return 0
  fi
  base=$(find_node::vendor_base_url "$env_dir") || return 1
  echo "-----> Fetching ${file%-linux-*} to run the build ($((size / 1048576)) MB)" >&2
  mkdir -p "$cache/nginx-pgbouncer/compile-node"
  tmp=$(mktemp "$cache/nginx-pgbouncer/compile-node/.download.XXXXXX")
  if ! curl -fsSL --retry 3 --retry-connrefused --connect-timeout 10 --max-time 600 -o "$tmp" "$base/$file"; then
    rm -f "$tmp"
    echo " !     Error: could not download $file from the vendor mirror." >&2
    echo " !     Check BUILDPACK_VENDOR_URL (or the network), then build again." >&2
    return 1
  fi
  if [[ $(sha256sum "$tmp" | cut -d' ' -f1) != "$sha256" ]]; then
    rm -f "$tmp"
    echo " !     Error: $file does not match its pinned sha256; it was not used." >&2
    return 1
  fi
  rm -rf "$dir" "$dir.tmp" && mkdir -p "$dir.tmp"
  tar -xzf "$tmp" -C "$dir.tmp" && rm -f "$tmp"
  printf '%s\n' "$sha256" >"$dir.tmp/.sha256"
  mv "$dir.tmp" "$dir"
  printf '%s\n' "$dir/bin/node"
}

# find_node::find STACK CACHE_DIR ENV_DIR
find_node::find() {
  local candidate
  candidate=$(command -v node 2>/dev/null || true)
  if [[ -n $candidate ]] && find_node::is_usable "$candidate"; then
    printf '%s\n' "$candidate"
    return 0
  fi
  find_node::fetch_pinned "$@"
}
