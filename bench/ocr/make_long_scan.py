#!/usr/bin/env python3
"""A long scanned PDF for the OCR ingest benchmark: the sample handbook's 13 pages and the policy's 5,
each a 150-dpi greyscale JPEG (quality 50) on its own page without a text layer, repeated in order
up to PAGES pages.

    make_long_scan.py OUT.pdf [PAGES]      (default 100)

Then, e.g.: /usr/bin/time -v doctalk --data-dir D ingest OUT.pdf --json   (time, peak RSS, per-page
`ocr` diagnostics). Needs poppler-utils (pdftoppm) and Pillow (the OCR reference venv has it).
"""
import os
import subprocess
import sys
import tempfile

from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCES = ["examples/sample-kb/员工手册.pdf", "examples/sample-kb/it-security-policy.pdf"]


def main():
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    with tempfile.TemporaryDirectory() as tmp:
        for i, pdf in enumerate(SOURCES):
            subprocess.run(["pdftoppm", "-r", "150", "-gray", "-jpeg", os.path.join(REPO, pdf),
                            os.path.join(tmp, f"{i}")], check=True)
        pages = [Image.open(os.path.join(tmp, f)).convert("L") for f in sorted(os.listdir(tmp))]
        sequence = [pages[i % len(pages)] for i in range(count)]
        sequence[0].save(out, "PDF", save_all=True, append_images=sequence[1:], resolution=150, quality=50)


if __name__ == "__main__":
    main()
