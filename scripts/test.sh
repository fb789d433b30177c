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
echo "== cargo test"
cargo test --workspace --locked -- --test-threads=2
