#!/usr/bin/env python3
"""Makes the OCR test pages: pictures of real pages from the repository's own PDFs, clean and
degraded the way scans are, plus the text layer of each original page (the ground truth for the
character error rate) and RapidOCR's reading of each picture (the parity reference).

    make_scans.py OUT_DIR

Needs poppler-utils (pdftoppm, pdftotext) and the OCR reference venv (models/gen/ocr_reference.py:
rapidocr 3.10.0, onnxruntime 1.31.1, which brings Pillow and numpy). Writes into OUT_DIR:
  zh-p3-200dpi.png        员工手册.pdf page 3 at 200 dpi (clean)
  en-p2-200dpi.png        it-security-policy.pdf page 2 at 200 dpi (clean)
  zh-p2-150dpi-skew.jpg   员工手册.pdf page 2 at 150 dpi, turned 4°, noise, JPEG quality 60
  en-p3-1bit.tif          it-security-policy.pdf page 3 at 200 dpi, 1 bit, CCITT G4
  NAME.txt                pdftotext's text of the same page (ground truth)
  reference.jsonl         ocr_reference.py --json over the pictures
Deterministic: fixed noise seed.
"""
import os
import subprocess
import sys

import numpy as np
from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ZH = os.path.join(REPO, "examples/sample-kb/员工手册.pdf")
EN = os.path.join(REPO, "examples/sample-kb/it-security-policy.pdf")
VENV_PY = os.environ.get("DOCTALK_OCR_PYTHON", "/var/cache/doctalk-ocr-venv/bin/python")


def render(pdf, page, dpi, out_base):
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", "-f", str(page), "-l", str(page),
                    pdf, out_base], check=True)
    return Image.open(out_base + ".png").convert("RGB")


def text_layer(pdf, page, out):
    subprocess.run(["pdftotext", "-layout", "-f", str(page), "-l", str(page), pdf, out], check=True)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)

    render(ZH, 3, 200, os.path.join(out, "zh-p3-200dpi"))
    text_layer(ZH, 3, os.path.join(out, "zh-p3-200dpi.txt"))
    render(EN, 2, 200, os.path.join(out, "en-p2-200dpi"))
    text_layer(EN, 2, os.path.join(out, "en-p2-200dpi.txt"))

    base = os.path.join(out, "zh-p2-150dpi-skew")
    img = render(ZH, 2, 150, base)
    os.remove(base + ".png")
    img = img.rotate(4, resample=Image.BICUBIC, expand=True, fillcolor=(255, 255, 255))
    arr = np.asarray(img).astype(np.float32)
    arr += rng.normal(0, 12, arr.shape)
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(base + ".jpg", quality=60)
    text_layer(ZH, 2, base + ".txt")

    base = os.path.join(out, "en-p3-1bit")
    img = render(EN, 3, 200, base)
    os.remove(base + ".png")
    img.convert("L").point(lambda v: 255 if v > 200 else 0).convert("1").save(base + ".tif", compression="group4")
    text_layer(EN, 3, base + ".txt")

    pictures = ["zh-p3-200dpi.png", "en-p2-200dpi.png", "zh-p2-150dpi-skew.jpg", "en-p3-1bit.tif"]
    with open(os.path.join(out, "reference.jsonl"), "w", encoding="utf-8") as f:
        subprocess.run([VENV_PY, os.path.join(REPO, "models/gen/ocr_reference.py"), "--json", *pictures],
                       check=True, cwd=out, stdout=f)


if __name__ == "__main__":
    main()
