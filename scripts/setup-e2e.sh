#!/usr/bin/env bash
# What only the end-to-end tests need: Debian's Chromium (driven by playwright-core), the desktop
# app's WebDriver stack (WebKitWebDriver from webkit2gtk-driver, tauri-driver from crates.io) and
# Xvfb for a display. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(chromium fonts-noto-cjk webkit2gtk-driver xvfb xauth)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup-e2e: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# tauri-driver, built once into a fixed root so later runs reuse it.
TAURI_DRIVER_ROOT="${TAURI_DRIVER_ROOT:-/var/cache/doctalk-tools}"
if [ ! -x "$TAURI_DRIVER_ROOT/bin/tauri-driver" ]; then
  echo "setup-e2e: cargo install tauri-driver"
  cargo install tauri-driver --version 2.1.0 --locked --root "$TAURI_DRIVER_ROOT" --quiet
fi

if [ ! -d tests/e2e/node_modules/playwright-core ]; then
  npm --prefix tests/e2e ci --no-audit --no-fund --loglevel=error
fi
