#!/usr/bin/env bash
# Compile cost against its physical floor, measured side by side (issue: benchmarks, figure 3).
#   cold: bin/compile with an empty cache, artifacts from a loopback mirror
#         vs `curl | sha256sum` + `tar xzf` of the same artifacts
#   warm: bin/compile with the cache filled   vs `tar xzf` of the same artifacts
# Rounds alternate the two sides; medians and ratios are printed. Needs artifacts (npm run
# vendor:build) and python3 for the mirror. Usage: bench/compile.sh [ROUNDS] [STACK]
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-7}
STACK=${2:-heroku-24}
WORK=$(mktemp -d)
# shellcheck source=test/support/dyno.sh
. "$REPO/test/support/dyno.sh"
trap 'mirror::stop; rm -rf "$WORK"' EXIT

mirror::start "$REPO/artifacts" "$WORK"
url=$MIRROR_URL
mkdir -p "$WORK/env" && echo "$url" >"$WORK/env/BUILDPACK_VENDOR_URL"
files=$(node -e '
const m = require(process.argv[1]);
console.log(m.stacks[process.argv[2]].filter((f) => !f.startsWith("node-")).join(" "));' "$REPO/vendor-manifest.json" "$STACK")

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }

compile_once() { # compile_once CACHE: seconds for one compile into a fresh build dir
  local b="$WORK/build" t
  rm -rf "$b" && mkdir -p "$b"
  t=$(now)
  STACK=$STACK "$REPO/bin/compile" "$b" "$1" "$WORK/env" >/dev/null
  elapsed "$t"
}

floor_cold() { # download + hash + unpack, the least a cold compile must do
  local d="$WORK/floor" t f
  rm -rf "$d" && mkdir -p "$d"
  t=$(now)
  for f in $files; do
    curl -fsS "$url/$f" | tee "$d/$f" | sha256sum >/dev/null
    mkdir -p "$d/${f%%-*}" && tar -xzf "$d/$f" -C "$d/${f%%-*}"
  done
  elapsed "$t"
}

floor_warm() { # unpack only
  local d="$WORK/floor-warm" t f
  rm -rf "$d" && mkdir -p "$d"
  t=$(now)
  for f in $files; do mkdir -p "$d/${f%%-*}" && tar -xzf "$REPO/artifacts/$f" -C "$d/${f%%-*}"; done
  elapsed "$t"
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

for f in cold cold-floor warm warm-floor; do : >"$WORK/$f"; done
mkdir -p "$WORK/warm-cache"
compile_once "$WORK/warm-cache" >/dev/null # fill the warm cache
for i in $(seq "$ROUNDS"); do
  rm -rf "$WORK/cold-cache"
  if ((i % 2)); then
    compile_once "$WORK/cold-cache" >>"$WORK/cold"; floor_cold >>"$WORK/cold-floor"
    compile_once "$WORK/warm-cache" >>"$WORK/warm"; floor_warm >>"$WORK/warm-floor"
  else
    floor_cold >>"$WORK/cold-floor"; compile_once "$WORK/cold-cache" >>"$WORK/cold"
    floor_warm >>"$WORK/warm-floor"; compile_once "$WORK/warm-cache" >>"$WORK/warm"
  fi
done

row() { # row NAME SIDE FLOOR
  local a b
  a=$(median <"$WORK/$2") b=$(median <"$WORK/$3")
  printf '| %-5s | %8.3f s | %8.3f s | %5.2fx |\n' "$1" "$a" "$b" "$(echo "$a / $b" | bc -l)"
}
echo "Compile on $STACK, $ROUNDS alternating rounds, medians ($(date -u +%Y-%m-%d), $(nproc) cores)"
echo "| case  | compile    | floor      | ratio  |"
echo "| ----- | ---------- | ---------- | ------ |"
row cold cold cold-floor
row warm warm warm-floor

# Where a warm compile's time goes, part by part, on the slug the rounds above built.
part() { # part FILE COMMAND...: appends the seconds COMMAND takes to $WORK/part-FILE
  local t
  t=$(now)
  "${@:2}" >/dev/null 2>&1 || true
  elapsed "$t" >>"$WORK/part-$1"
}
cached=()
for f in $files; do cached+=("$(find "$WORK/warm-cache" -name "$f" | head -n1)"); done
for _ in $(seq "$ROUNDS"); do
  part node node -e 0
  part bundle node "$REPO/dist/buildpack.cjs"
  part rehash sha256sum "${cached[@]}"
  part nginx-t env -i PATH=/usr/bin:/bin HOME="$WORK/build" PORT=5000 _NGINX_PGBOUNCER_BINARIES="$WORK/build/vendor" bash "$WORK/build/bin/start-nginx" --check-config
done
echo
echo "| part of a warm compile | median |"
echo "| --- | --- |"
printf '| Node starts (`node -e 0`) | %.3f s |\n' "$(median <"$WORK/part-node")"
printf '| Node starts and loads the bundle (no command) | %.3f s |\n' "$(median <"$WORK/part-bundle")"
printf '| cached artifacts re-hashed (`sha256sum`) | %.3f s |\n' "$(median <"$WORK/part-rehash")"
printf '| config rendered and `nginx -t` (`start-nginx --check-config`) | %.3f s |\n' "$(median <"$WORK/part-nginx-t")"
