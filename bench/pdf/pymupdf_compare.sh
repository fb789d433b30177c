#!/usr/bin/env bash
# Pages per second of PyMuPDF against our two engines on the same long PDFs.
# A reference point only: PyMuPDF (MuPDF, C) is AGPL and is never a dependency of DocTalk.
#
#   bash bench/pdf/pymupdf_compare.sh [PDF...]
#
# Default inputs: cnbook.pdf (429 pages, Chinese, CID fonts; "TeX for the Impatient" in
# Chinese, texlive-lang-chinese) and asymptote.pdf (196 pages, English, asymptote-doc), both
# from the corpus that fetch_corpus.sh assembles. Each tool reads each file 3 times; pages/s is total pages over total time.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
corpus=${DOCTALK_PDF_CORPUS:-/var/cache/doctalk-pdf-corpus}
venv=${DOCTALK_BENCH_VENV:-/var/cache/doctalk-bench-venv}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/cache/doctalk-target}

if [ $# -eq 0 ]; then
    [ -f "$corpus/zh/cnbook.pdf" ] || bash "$repo/bench/pdf/fetch_corpus.sh" "$corpus"
    set -- "$corpus/zh/cnbook.pdf" "$corpus/en/asymptote.pdf"
fi

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'pymupdf>=1.24'
fi

(cd "$repo" && cargo build --quiet --release -p doctalk-ingest --example pdf_engines)
engines=$CARGO_TARGET_DIR/release/examples/pdf_engines

for pdf in "$@"; do
    echo "== $pdf"
    "$venv/bin/python" - "$pdf" <<'PY'
import sys, time
import pymupdf
path = sys.argv[1]
runs = []
for _ in range(3):
    t = time.perf_counter()
    doc = pymupdf.open(path)
    pages = 0
    han = 0
    for page in doc:
        text = page.get_text()
        pages += 1
        han += sum(1 for c in text if "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf")
    runs.append(time.perf_counter() - t)
total = sum(runs)
print(f"pymupdf {pymupdf.VersionBind}: {pages} pages x3 in {total:.2f} s, "
      f"{3 * pages / total:.1f} pages/s, han {han}")
PY
    "$engines" "$pdf" --repeat 3 --budget 600
done
