#!/usr/bin/env bash
# Builds the desktop app's installable package with the Tauri CLI (from npm, pinned in
# ui/package-lock.json): a .deb holding the app with the UI embedded, and no models (they arrive
# through the model store on first use).
#
#   scripts/package.sh            release build (what users install)
#   scripts/package.sh --debug    the debug build, packaged the same way (quick to check the bundler)
#
# Bundles: DOCTALK_BUNDLES (default "deb"). An AppImage ("deb,appimage") needs linuxdeploy and
# appimagetool, which the Tauri CLI downloads from GitHub while bundling; machines that reach only
# the package registries cannot build it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/doctalk-target}"
bundles="${DOCTALK_BUNDLES:-deb}"
profile=release
flags=()
if [ "${1:-}" = "--debug" ]; then
  profile=debug
  flags+=(--debug)
fi

ui/node_modules/.bin/tauri build "${flags[@]}" --bundles "$bundles" --ci

binary="$CARGO_TARGET_DIR/$profile/doctalk-desktop"
echo
echo "binary:  $binary ($(du -h "$binary" | cut -f1))"
for f in "$CARGO_TARGET_DIR/$profile"/bundle/*/*.{deb,AppImage}; do
  if [ -e "$f" ]; then echo "package: $f ($(du -h "$f" | cut -f1))"; fi
done
