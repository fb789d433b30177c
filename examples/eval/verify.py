#!/usr/bin/env python3
"""Check the sample knowledge base and the labelled retrieval set against each other.

    python3 examples/eval/verify.py

Needs only the Python standard library and poppler's `pdftotext`. Exits non-zero on any error, so it can
guard a regeneration of the PDFs: if text moves to another page, the page labels in retrieval.jsonl
must be updated and this script says which ones.

Checks:
  * faq.csv: the header is 问题,相似问题,答案,分类; no empty question/answer/category; questions unique.
  * PDFs: every page has a text layer; no space was inserted between two Chinese characters.
  * retrieval.jsonl: well-formed records, unique ids; every FAQ reference names an existing 问题
    exactly; every page reference's `must_contain` occurs on that page (compared with all whitespace
    removed, because a phrase may wrap onto the next line); `unanswerable` exactly when nothing is
    relevant; questions are not verbatim copies of FAQ questions (the seed questions excepted).
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

EVAL = Path(__file__).resolve().parent
KB = EVAL.parent / "sample-kb"
FAQ_HEADER = ["问题", "相似问题", "答案", "分类"]
CJK = "\u3400-\u4dbf\u4e00-\u9fff"
# Questions the product's seed demo uses verbatim; they may match an FAQ question on purpose.
SEED_PREFIX = "seed-"
SOURCES = {"员工手册.pdf": "handbook.md", "it-security-policy.pdf": "it-security-policy.md"}


def page_texts(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    pages = out.split("\f")
    # pdftotext ends the last page with a form feed too.
    if pages and not pages[-1].strip():
        pages.pop()
    return pages


def squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def norm_question(s: str) -> str:
    return re.sub(r"[\s\W_]+", "", s).lower()


def main() -> int:
    errors: list[str] = []
    notes: list[str] = []

    # ---- FAQ
    with open(KB / "faq.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    if rows[0] != FAQ_HEADER:
        errors.append(f"faq.csv header {rows[0]} != {FAQ_HEADER}")
    faq = [dict(zip(FAQ_HEADER, r)) for r in rows[1:]]
    for i, r in enumerate(faq, start=2):
        for col in ("问题", "答案", "分类"):
            if not r.get(col, "").strip():
                errors.append(f"faq.csv line {i}: empty {col}")
    questions = [r["问题"] for r in faq]
    if len(set(questions)) != len(questions):
        errors.append("faq.csv: duplicate 问题")
    faq_zh = sum(1 for q in questions if re.search(f"[{CJK}]", q))
    notes.append(f"faq.csv: {len(faq)} pairs ({faq_zh} zh, {len(faq) - faq_zh} en)")
    faq_phrasings = {norm_question(q) for q in questions}
    for r in faq:
        faq_phrasings.update(norm_question(p) for p in r["相似问题"].split("|") if p.strip())

    # ---- PDFs
    pdfs: dict[str, list[str]] = {}
    for pdf in sorted(KB.glob("*.pdf")):
        pages = page_texts(pdf)
        pdfs[pdf.name] = pages
        notes.append(f"{pdf.name}: {len(pages)} pages, {pdf.stat().st_size} bytes")
        # A space between two Chinese characters is an extraction fault unless the source put one there
        # ("第一章 总则") or the page footer does ("第 3 页 共 13 页").
        authored = {"页共"}
        source = KB / "source" / SOURCES.get(pdf.name, "")
        if source.is_file():
            src = source.read_text(encoding="utf-8")
            pairs = re.finditer(f"([{CJK}])\\s+([{CJK}])", src)
            authored |= {m.group(1) + m.group(2) for m in pairs}
        for n, text in enumerate(pages, start=1):
            if not text.strip():
                errors.append(f"{pdf.name} p{n}: no text extracted")
            for m in re.finditer(f"([{CJK}]) +([{CJK}])", text):
                if m.group(1) + m.group(2) not in authored:
                    errors.append(f"{pdf.name} p{n}: space inserted between Chinese characters: "
                                  f"{m.group()!r}")

    # ---- retrieval set
    ids: set[str] = set()
    counts = {"zh": 0, "en": 0, "unanswerable": 0, "wrapped": 0}
    for ln, line in enumerate((EVAL / "retrieval.jsonl").read_text(encoding="utf-8").splitlines(), 1):
        where = f"retrieval.jsonl line {ln}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"{where}: {e}")
            continue
        rid = rec.get("id")
        if not rid or rid in ids:
            errors.append(f"{where}: missing or duplicate id {rid!r}")
        ids.add(rid)
        if rec.get("lang") not in ("zh", "en"):
            errors.append(f"{where}: lang must be zh or en")
        else:
            counts[rec["lang"]] += 1
        q = rec.get("question", "")
        if not q.strip():
            errors.append(f"{where}: empty question")
        if norm_question(q) in faq_phrasings and not str(rid).startswith(SEED_PREFIX):
            errors.append(f"{where}: question copies an FAQ phrasing: {q}")
        relevant = rec.get("relevant")
        if not isinstance(relevant, list):
            errors.append(f"{where}: relevant must be a list")
            continue
        if bool(rec.get("unanswerable")) != (not relevant):
            errors.append(f"{where}: unanswerable must be true exactly when relevant is empty")
        counts["unanswerable"] += not relevant
        for ref in relevant:
            file = ref.get("file")
            if file == "faq.csv":
                if ref.get("question") not in questions:
                    errors.append(f"{where}: no FAQ question {ref.get('question')!r}")
            elif file in pdfs:
                page, phrase = ref.get("page"), ref.get("must_contain", "")
                pages = pdfs[file]
                if not isinstance(page, int) or not 1 <= page <= len(pages):
                    errors.append(f"{where}: {file} has no page {page}")
                    continue
                if not phrase or squash(phrase) not in squash(pages[page - 1]):
                    found = [n for n, t in enumerate(pages, 1) if phrase and squash(phrase) in squash(t)]
                    errors.append(f"{where}: {phrase!r} not on {file} p{page} (found on {found})")
                elif phrase not in pages[page - 1]:
                    counts["wrapped"] += 1
            else:
                errors.append(f"{where}: unknown file {file!r}")
    notes.append(
        f"retrieval.jsonl: {len(ids)} questions ({counts['zh']} zh, {counts['en']} en), "
        f"{counts['unanswerable']} unanswerable, {counts['wrapped']} phrases wrap across lines"
    )

    for n in notes:
        print(n)
    for e in errors:
        print("ERROR", e, file=sys.stderr)
    print("OK" if not errors else f"{len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
