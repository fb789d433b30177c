#!/usr/bin/env bash
# The main job on embedded defaults: index the bundled sample knowledge base and answer the
# three seed questions with the local model, citing file and page. No network beyond package
# registries.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/doctalk-target}"
export DOCTALK_MODELS_DIR="${DOCTALK_MODELS_DIR:-$PWD/.models}"
export DOCTALK_DATA_DIR="${DOCTALK_DATA_DIR:-$PWD/.demo-data}"
# The whole workspace, as the tests build it: a `-p` build resolves other features and rebuilds lance.
cargo build --workspace --bins --locked
doctalk="$CARGO_TARGET_DIR/debug/doctalk"

"$doctalk" ingest examples/sample-kb
for q in "请问商旅的出差制度" "如何登陆管理员后台" "如何下载滴滴APP"; do
  echo
  echo "━━ $q"
  "$doctalk" ask "$q" --max-tokens 200
done
