#!/usr/bin/env python3
"""Retrieval over scanned documents: do questions about facts that exist only in a page's picture
find that page?

    scanned_recall.py [--doctalk BIN] [--dpi 150] [--json]

Makes image-only copies of the two sample PDFs (each page a greyscale JPEG at --dpi, no text layer,
as a scanner writes them), ingests them into a fresh knowledge base, and asks every labelled question
of examples/eval/answers.jsonl whose source is one of them (42 questions, zh and en). A question
counts as found when one of its top-5 search hits comes from the scanned copy and contains one of its
expected spans (whitespace ignored). The same is measured over the original PDFs (text layers) in the
same run, as the reference. Needs poppler-utils (pdftoppm) and Pillow (the OCR reference venv has it:
models/gen/ocr_reference.py), and a built `doctalk` with the OCR model installed.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCES = {"员工手册.pdf": "员工手册", "it-security-policy.pdf": "it-security-policy"}


def scan(pdf, out_pdf, dpi, tmp):
    base = os.path.join(tmp, os.path.basename(out_pdf) + "-p")
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", pdf, base], check=True)
    pages = sorted(f for f in os.listdir(tmp) if f.startswith(os.path.basename(base)))
    images = [Image.open(os.path.join(tmp, f)).convert("L") for f in pages]
    images[0].save(out_pdf, "PDF", save_all=True, append_images=images[1:], resolution=dpi, quality=75)


def squash(s):
    return "".join(s.split()).lower()


def measure(doctalk, folder, cases, env):
    data = tempfile.mkdtemp()
    try:
        subprocess.run([doctalk, "--data-dir", data, "ingest", folder, "--json"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        found, rows = 0, []
        for case in cases:
            out = subprocess.run([doctalk, "--data-dir", data, "search", case["q"], "-k", "5", "--json"],
                                 check=True, env=env, capture_output=True, text=True).stdout
            hits = json.loads(out)
            stem = SOURCES[case["source"]]
            ok = any(stem in h["path"] and any(squash(e) in squash(h["text"]) for e in case["expect_any"])
                     for h in hits)
            found += ok
            rows.append({"q": case["q"], "found": ok})
        return found / len(cases), rows
    finally:
        shutil.rmtree(data, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--doctalk", default=os.path.join(REPO, "target/release/doctalk"))
    ap.add_argument("--dpi", type=int, default=150)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    cases = [json.loads(l) for l in open(os.path.join(REPO, "examples/eval/answers.jsonl"), encoding="utf-8")]
    cases = [c for c in cases if c.get("source") in SOURCES]
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        scanned, original = os.path.join(tmp, "scanned"), os.path.join(tmp, "original")
        os.makedirs(scanned)
        os.makedirs(original)
        for name, stem in SOURCES.items():
            src = os.path.join(REPO, "examples/sample-kb", name)
            shutil.copy(src, os.path.join(original, name))
            scan(src, os.path.join(scanned, stem + "-scan.pdf"), args.dpi, tmp)
        scanned_recall, scanned_rows = measure(args.doctalk, scanned, cases, env)
        original_recall, _ = measure(args.doctalk, original, cases, env)
    report = {"questions": len(cases), "dpi": args.dpi, "recall_at_5_scanned": scanned_recall,
              "recall_at_5_text_layer": original_recall,
              "missed": [r["q"] for r in scanned_rows if not r["found"]]}
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(f"{len(cases)} questions; recall@5 scanned ({args.dpi} dpi) {scanned_recall:.3f}, "
              f"text layer {original_recall:.3f}")
        for q in report["missed"]:
            print("  missed:", q)


if __name__ == "__main__":
    sys.exit(main())
