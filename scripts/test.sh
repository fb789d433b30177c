#!/usr/bin/env bash
# The whole test suite, from a fresh machine: install, lint, build, test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

# A fixed target directory lets repeated runs (and CI on the same machine) reuse the build;
# a cold build works too, it is only slower.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/doctalk-target}"
export CARGO_TERM_COLOR=never
export DOCTALK_MODELS_DIR="${DOCTALK_MODELS_DIR:-$PWD/.models}"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== ui: vitest"
npm --prefix ui test --silent

echo "== cargo test"
cargo test --workspace --locked -- --test-threads=2

# End to end: the UI in Debian's Chromium (playwright-core) against `doctalk serve`, and the
# desktop app's real window under Xvfb driven over WebDriver (tauri-driver + WebKitWebDriver).
scripts/setup-e2e.sh
export DOCTALK_BIN="$CARGO_TARGET_DIR/debug/doctalk"
export DOCTALK_DESKTOP_BIN="$CARGO_TARGET_DIR/debug/doctalk-desktop"
export DOCTALK_E2E_ARTIFACTS="${DOCTALK_E2E_ARTIFACTS:-$PWD/target/e2e-artifacts}"
echo "== e2e: browser"
npm --prefix tests/e2e run --silent test:browser
echo "== e2e: desktop window"
xvfb-run -a npm --prefix tests/e2e run --silent test:desktop
echo "screenshots: $DOCTALK_E2E_ARTIFACTS"
