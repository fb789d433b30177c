#!/usr/bin/env bash
# The whole test suite, from a fresh machine: install, lint, build, test. Every step is a stage with
# a time limit (scripts/lib/stages.sh): a hung step fails naming itself and the processes it left,
# well before CI's 90 minutes, and the script ends with a table of each stage's wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/stages.sh

# A fixed target directory lets repeated runs (and CI on the same machine) reuse the build;
# a cold build works too, it is only slower.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/doctalk-target}"
export CARGO_TERM_COLOR=never
# A fresh clone builds our crates once: incremental caches (several GB per clone path in the shared
# target directory) only fill the disk (a CI run here failed with ENOSPC at 68 GB).
export CARGO_INCREMENTAL=0
export DOCTALK_MODELS_DIR="${DOCTALK_MODELS_DIR:-$PWD/.models}"

# Limits are generous against a cold run on 2 cores (see ARCHITECTURE.md, "Build and test"), and
# together stay under CI's 90 minutes. DOCTALK_STAGE_SCALE stretches them (a slower machine).
scale=${DOCTALK_STAGE_SCALE:-1}
lim() { echo $(($1 * scale)); }

stage "setup: packages, models, UI build" "$(lim 1500)" scripts/setup.sh
stage "setup: e2e (Chromium, WebKitWebDriver, tauri-driver)" "$(lim 900)" scripts/setup-e2e.sh
stage "cargo fmt --check" "$(lim 120)" cargo fmt --all -- --check
stage "ui: vitest" "$(lim 300)" npm --prefix ui test --silent

# Clippy lints our crates while they compile for the tests: clippy-driver as the workspace's rustc
# (what `cargo clippy` runs, but producing code), so dependencies are compiled once, not a second
# time in check mode (15 minutes here). Every cargo call below has the same environment, so their
# fingerprints agree and nothing is rebuilt between them. (Only these calls: `cargo install` of a
# tool must not be linted.)
export CLIPPY_DRIVER="$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)"
lint=(env RUSTC_WORKSPACE_WRAPPER="$CLIPPY_DRIVER" CLIPPY_ARGS=-Dwarnings)
stage "build + clippy: binaries, examples" "$(lim 2700)" "${lint[@]}" cargo build --workspace --bins --examples --locked
# The test binaries, listed as cargo builds them ("<package> <target> <manifest dir> <executable>").
export TESTS_LIST=$(mktemp)
list_tests() {
  RUSTC_WORKSPACE_WRAPPER="$CLIPPY_DRIVER" CLIPPY_ARGS=-Dwarnings \
    cargo test --workspace --locked --no-run --message-format=json-render-diagnostics |
    python3 scripts/lib/test_binaries.py >"$TESTS_LIST"
}
stage "build + clippy: test binaries" "$(lim 1200)" list_tests

# Each test binary is its own stage, run as `cargo test` runs it (from its package's directory),
# so the table shows where the time goes and a hang names the binary. A failure does not hide the
# others: all run, then the script fails.
STAGE_KEEP_GOING=1
run_test_binary() { (cd "$1" && "$2" --test-threads=2); }
while read -r pkg target dir exe; do
  limit=900
  [ "$target" = cli ] && limit=2400   # the CLI end to end: real models, every command (about 10 min)
  stage "test: $pkg/$target" "$(lim $limit)" run_test_binary "$dir" "$exe"
done <"$TESTS_LIST"
rm -f "$TESTS_LIST"
stage "test: doc tests" "$(lim 600)" "${lint[@]}" cargo test --workspace --locked --doc

# End to end: the UI in Debian's Chromium (playwright-core) against `doctalk serve`, and the
# desktop app's real window under Xvfb driven over WebDriver (tauri-driver + WebKitWebDriver).
export DOCTALK_BIN="$CARGO_TARGET_DIR/debug/doctalk"
export DOCTALK_DESKTOP_BIN="$CARGO_TARGET_DIR/debug/doctalk-desktop"
export DOCTALK_E2E_ARTIFACTS="${DOCTALK_E2E_ARTIFACTS:-$PWD/target/e2e-artifacts}"
export TAURI_DRIVER="${TAURI_DRIVER:-${TAURI_DRIVER_ROOT:-/var/cache/doctalk-tools}/bin/tauri-driver}"
stage "e2e: browser" "$(lim 900)" npm --prefix tests/e2e run --silent test:browser
stage "e2e: desktop window" "$(lim 900)" xvfb-run -a npm --prefix tests/e2e run --silent test:desktop
echo "screenshots: $DOCTALK_E2E_ARTIFACTS"
stages_finish
