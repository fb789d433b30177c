#!/usr/bin/env bash
# The main job on embedded defaults: build DocTalk (desktop app, CLI, server, UI), index the
# bundled sample knowledge base, answer the three seed questions with the local model, citing file
# and page, then open the desktop app on that knowledge base. Without a display it says so and
# points to `doctalk serve`, which offers the same app in a browser. No network beyond package
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

echo
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "Opening the DocTalk desktop app on the sample knowledge base…"
  exec "$CARGO_TARGET_DIR/debug/doctalk-desktop"
else
  echo "No display here, so the desktop app cannot open a window. The same app runs in a browser:"
  echo "  DOCTALK_DATA_DIR=$DOCTALK_DATA_DIR DOCTALK_MODELS_DIR=$DOCTALK_MODELS_DIR $doctalk serve"
  echo "then open http://127.0.0.1:8765 (or use the CLI above: doctalk ask | chat | search)."
fi
