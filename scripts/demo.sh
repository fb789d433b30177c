#!/usr/bin/env bash
# The main job on embedded defaults: index the bundled sample knowledge base and answer the
# three seed questions with the best cited passages. No network beyond package registries.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/doctalk-target}"
export DOCTALK_MODELS_DIR="${DOCTALK_MODELS_DIR:-$PWD/.models}"
export DOCTALK_DATA_DIR="${DOCTALK_DATA_DIR:-$PWD/.demo-data}"
cargo build -p doctalk-cli --locked
doctalk="$CARGO_TARGET_DIR/debug/doctalk"

"$doctalk" ingest examples/sample-kb
for q in "请问商旅的出差制度" "如何登陆管理员后台" "如何下载滴滴APP"; do
  echo
  echo "━━ $q"
  "$doctalk" search "$q" --top-k 3
done
