#!/usr/bin/env bash
# A small stand-in for the CNB lifecycle (pack and a Docker engine are not available here), enough
# to run this buildpack the way heroku/builder:24's lifecycle does. It follows buildpacks/spec:
#   buildpack.md "Phase #2: Detection": detect runs in the app dir with CNB_BUILDPACK_DIR,
#     CNB_PLATFORM_DIR, CNB_BUILD_PLAN_PATH set and PLATFORM PLAN as arguments; 0 passes, 100 fails
#     detection, anything else is an error.
#   buildpack.md "Phase #4: Build": build runs in the app dir with CNB_BUILDPACK_DIR, CNB_LAYERS_DIR,
#     CNB_PLATFORM_DIR, CNB_BP_PLAN_PATH and CNB_TARGET_* set and LAYERS PLATFORM PLAN as arguments;
#     `<layer>.toml` flags live in [types] (launch, build, cache).
#   buildpack.md "Phase #3: Analysis"/"restore" and platform.md: before a rebuild, each previous
#     `<layer>.toml` comes back without its [types] table, and a layer's files come back only if it
#     was a cache layer.
#   buildpack.md "Phase #5: Export"/"Launch" and "Environment Variable Modification Rules": a launch
#     layer's bin/ goes on PATH, its env/ and env.launch/ files apply (.override, .append,
#     .prepend, .default, .delim; a file with no suffix overrides; PATH-like variables prepend by
#     default); processes of API >= 0.9 run without a shell, so profile.d is not sourced; the
#     Procfile buildpack's processes are `bash -c ENTRY` in the app dir.
#
#   buildpack.md "Targets": a buildpack whose buildpack.toml declares [[targets]] runs only on a
#     target it lists (os, arch, and a distro name and version when it lists distros).
#
#   cnb-lifecycle.sh build BUILDPACK APP LAYERS PLATFORM   (a previous LAYERS is restored as above)
#   The target is linux/amd64 Ubuntu 24.04 unless TARGET_ARCH or TARGET_DISTRO_VERSION say otherwise.
#   cnb-lifecycle.sh launch APP LAYERS ENTRY...            (runs ENTRY as `bash -c`, env applied)
set -euo pipefail

target_env() {
  export CNB_TARGET_OS=linux CNB_TARGET_ARCH=${TARGET_ARCH:-amd64} CNB_TARGET_DISTRO_NAME=ubuntu \
    CNB_TARGET_DISTRO_VERSION=${TARGET_DISTRO_VERSION:-24.04}
}

# check_target BUILDPACK: the target is one buildpack.toml lists (flat [[targets]] tables, as ours).
check_target() {
  awk -v os="$CNB_TARGET_OS" -v arch="$CNB_TARGET_ARCH" -v dn="$CNB_TARGET_DISTRO_NAME" -v dv="$CNB_TARGET_DISTRO_VERSION" '
    function done_target() { if (in_t && t_os == os && t_arch == arch && (!distros || d_ok)) ok = 1 }
    /^\[\[targets\]\]/ { done_target(); in_t = 1; t_os = ""; t_arch = ""; distros = 0; d_ok = 0; next }
    /^\[\[targets\.distros\]\]/ { distros = 1; d_name = ""; next }
    /^\[/ { done_target(); in_t = 0; next }
    in_t && /^os *=/ { gsub(/[" ]/, "", $0); sub(/^os=/, ""); t_os = $0 }
    in_t && /^arch *=/ { gsub(/[" ]/, "", $0); sub(/^arch=/, ""); t_arch = $0 }
    in_t && /^name *=/ { gsub(/[" ]/, "", $0); sub(/^name=/, ""); d_name = $0 }
    in_t && /^version *=/ { gsub(/[" ]/, "", $0); sub(/^version=/, ""); if (d_name == dn && $0 == dv) d_ok = 1 }
    END { done_target(); exit !ok }' "$1/buildpack.toml" || {
    echo "lifecycle: the buildpack does not support $CNB_TARGET_OS/$CNB_TARGET_ARCH $CNB_TARGET_DISTRO_NAME $CNB_TARGET_DISTRO_VERSION" >&2
    return 1
  }
}

restore_layers() { # the analyzer and restorer's view of a previous build's layers dir
  local layers=$1 toml name
  [[ -d $layers ]] || { mkdir -p "$layers"; return 0; }
  for toml in "$layers"/*.toml; do
    [[ -e $toml ]] || continue
    name=$(basename "$toml" .toml)
    if ! awk '/^\[types\]/{t=1;next} /^\[/{t=0} t && /^cache *= *true/{found=1} END{exit !found}' "$toml"; then
      rm -rf "${layers:?}/$name"
    fi
    # Restored without [types]: the buildpack must set its flags again.
    awk '/^\[types\]/{skip=1;next} /^\[/{skip=0} !skip' "$toml" >"$toml.restored" && mv "$toml.restored" "$toml"
  done
  # Anything that is not a layer with metadata is not restored.
  for name in "$layers"/*; do
    [[ -d $name && ! -e $name.toml ]] && rm -rf "$name"
  done
  return 0
}

check_layer_tomls() {
  local toml
  for toml in "$1"/*.toml; do
    [[ -e $toml ]] || continue
    if awk '/^\[/{exit} /^(launch|build|cache) *=/{bad=1} END{exit !bad}' "$toml"; then
      echo "lifecycle: $toml sets layer flags at the top level; API 0.10 wants them under [types]" >&2
      return 1
    fi
  done
}

build() {
  local bp=$1 app=$2 layers=$3 platform=$4 status=0
  target_env
  check_target "$bp"
  mkdir -p "$platform/env"
  restore_layers "$layers"
  local plan_dir
  plan_dir=$(mktemp -d)
  (cd "$app" && CNB_BUILDPACK_DIR=$bp CNB_PLATFORM_DIR=$platform CNB_BUILD_PLAN_PATH="$plan_dir/plan.toml" \
    "$bp/bin/detect" "$platform" "$plan_dir/plan.toml") || status=$?
  if ((status == 100)); then echo "lifecycle: detect: no match" >&2; return 100; fi
  if ((status != 0)); then echo "lifecycle: detect failed ($status)" >&2; return 1; fi
  printf '[[entries]]\nname = "nginx-pgbouncer"\n' >"$plan_dir/bp-plan.toml"
  (cd "$app" && CNB_BUILDPACK_DIR=$bp CNB_LAYERS_DIR=$layers CNB_PLATFORM_DIR=$platform \
    CNB_BP_PLAN_PATH="$plan_dir/bp-plan.toml" "$bp/bin/build" "$layers" "$platform" "$plan_dir/bp-plan.toml")
  rm -rf "$plan_dir"
  check_layer_tomls "$layers"
}

# apply_env_dir DIR: the spec's modification rules for one layer env directory.
apply_env_dir() {
  local dir=$1 f name suffix value delim
  [[ -d $dir ]] || return 0
  for f in "$dir"/*; do
    [[ -f $f ]] || continue
    name=$(basename "$f")
    suffix=${name#*.}
    [[ $suffix == "$name" ]] && suffix=override
    name=${name%%.*}
    [[ $suffix == delim ]] && continue
    value=$(<"$f")
    delim=""
    [[ -f $dir/$name.delim ]] && delim=$(<"$dir/$name.delim")
    case $suffix in
      override) export "$name=$value" ;;
      default) [[ -n ${!name+set} ]] || export "$name=$value" ;;
      prepend) export "$name=$value${!name:+$delim${!name}}" ;;
      append) export "$name=${!name:+${!name}$delim}$value" ;;
    esac
  done
}

launch() {
  local app=$1 layers=$2 toml layer
  shift 2
  for toml in "$layers"/*.toml; do
    [[ -e $toml ]] || continue
    layer=${toml%.toml}
    awk '/^\[types\]/{t=1;next} /^\[/{t=0} t && /^launch *= *true/{found=1} END{exit !found}' "$toml" || continue
    [[ -d $layer/bin ]] && export PATH="$layer/bin:$PATH"
    apply_env_dir "$layer/env"
    apply_env_dir "$layer/env.launch"
  done
  cd "$app"
  exec bash -c "$*"
}

cmd=$1
shift
case $cmd in
  build) build "$@" ;;
  launch) launch "$@" ;;
  *) echo "usage: cnb-lifecycle.sh build|launch ..." >&2; exit 2 ;;
esac
