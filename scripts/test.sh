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
echo "== ui: vitest"
npm --prefix ui test --silent

# Clippy lints our crates while they compile for the tests: clippy-driver as the workspace's rustc
# (what `cargo clippy` runs, but producing code), so dependencies are compiled once, not a second
# time in check mode (15 minutes here). Every cargo call below has the same environment, so their
# fingerprints agree and nothing is rebuilt between them. (Only these calls: `cargo install` of a
# tool must not be linted.)
lint=(env RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)" CLIPPY_ARGS=-Dwarnings)
echo "== cargo build + clippy -D warnings"
"${lint[@]}" cargo build --workspace --bins --examples --locked
"${lint[@]}" cargo test --workspace --locked --no-run
echo "== cargo test"
"${lint[@]}" cargo test --workspace --locked -- --test-threads=2

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
