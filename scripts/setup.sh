#!/usr/bin/env bash
# Installs what DocTalk needs to build and run on a fresh Debian/Ubuntu machine:
# system packages (apt-get) and the default model files (from PyPI packages that carry them).
# Idempotent: re-running skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential pkg-config libssl-dev      # native crates
  protobuf-compiler libprotobuf-dev          # lance (LanceDB) build
  libasound2-dev                             # cpal (voice playback)
  pulseaudio pulseaudio-utils libasound2-plugins   # audio tests: a private audio server with a null sink (paplay plays into it)
  libespeak-ng1 espeak-ng-data               # the offline default voice (opened at run time)
  poppler-utils qpdf                         # PDF fixtures and tools used by tests/benchmarks
  fonts-wqy-microhei                         # CJK font used to (re)generate the sample PDFs
  python3 python3-venv unzip ca-certificates
  libwebkit2gtk-4.1-dev libgtk-3-dev         # the desktop app (Tauri 2: WebKitGTK webview)
  librsvg2-dev libxdo-dev
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Model files, each checked against its manifest in models/:
scripts/fetch-models.sh all-minilm-l6-v2 whisper-base piper-en_us-joe-medium   # English sentence encoder; Whisper base (speech recognition, zh + en); the English Piper voice
scripts/fetch-models.sh ppocr-v6-small onnxruntime   # OCR of scans and photos: PaddleOCR's models (from the rapidocr wheel) and the ONNX Runtime library that runs them
scripts/fetch-e5.sh                        # multilingual encoder (multilingual-e5-small, 4-bit)
scripts/fetch-llm.sh qwen2.5-coder-0.5b-instruct-q4_k_m smollm2-135m-instruct-q4_1   # default chat LLM + the SmolLM2 used by tokenizer tests

# Python clients the end-to-end tests drive DocTalk with (the official OpenAI and MCP SDKs) and the
# S3-compatible server the shared-index test stores into (moto's server mode), in a venv of their
# own; tests find it through DOCTALK_TEST_PYTHON or <repo>/.venv-test. ONNX Runtime is the reference
# the candle VITS (Piper voices) is checked against.
TEST_VENV="${DOCTALK_TEST_VENV:-$PWD/.venv-test}"
if ! "$TEST_VENV/bin/python" -c "import openai, mcp, moto.server, onnxruntime, numpy" 2>/dev/null; then
  echo "setup: creating the test venv $TEST_VENV (openai, mcp, moto, onnxruntime)"
  python3 -m venv "$TEST_VENV"
  "$TEST_VENV/bin/pip" install --quiet --disable-pip-version-check \
    "openai==1.109.1" "mcp==1.30.0" "moto[server]==5.2.5" "onnxruntime==1.31.1" "numpy==2.4.6"
fi


# The UI (ui/): the desktop app embeds its build and `doctalk serve` serves it. Node.js 20+ and npm
# come from the machine, or from Debian when missing; versions are pinned by ui/package-lock.json.
if ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing nodejs and npm"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
if [ ! -f ui/node_modules/.package-lock.json ] || ! cmp -s ui/package-lock.json ui/node_modules/.package-lock.json.copy 2>/dev/null; then
  echo "setup: npm ci (ui)"
  npm --prefix ui ci --no-audit --no-fund --loglevel=error
  cp ui/package-lock.json ui/node_modules/.package-lock.json.copy
fi
echo "setup: building the UI (ui/dist)"
npm --prefix ui run build --silent >/dev/null
