#!/usr/bin/env python3
"""Held-out FAQ questions answered with retrieval, by the base model and with a tuned adapter.

`doctalk tune --json` reports the held-out questions it compared without retrieval (the weights
alone). This asks the same questions through a knowledge base (`doctalk ask --json`: retrieval, the
FAQ match, the claim checks), once with the base and once with `--adapter`, and scores each answer
against the FAQ's the way `tune` does: exact after dropping spacing, punctuation and case, and
character F1. The knowledge base holds the FAQ without the held-out phrasings (they are removed
from its question and 相似问题 columns), so retrieval cannot match them word for word.

Run: python3 bench/tune/heldout_ask.py DOCTALK REPORT.json ADAPTER_DIR FAQ.csv WORK_DIR
"""
import csv
import pathlib
import json
import subprocess
import sys
from collections import Counter


def normalized(text):
    return "".join(c.lower() for c in text if c.isalnum())


def char_f1(got, want):
    got, want = normalized(got), normalized(want)
    if not got or not want:
        return 0.0
    common = sum((Counter(got) & Counter(want)).values())
    if common == 0:
        return 0.0
    p, r = common / len(got), common / len(want)
    return 2 * p * r / (p + r)


def ask(doctalk, data, question, adapter):
    args = [doctalk, "--data-dir", data, "ask", question, "--json"]
    if adapter:
        args += ["--adapter", adapter]
    out = subprocess.run(args, check=True, capture_output=True, text=True, timeout=600)
    return json.loads(out.stdout)


def reduced_faq(faq, held_questions, out):
    """The FAQ with the held-out phrasings taken out (an entry keeps its other phrasings)."""
    with open(faq, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    q_col = header.index("问题") if "问题" in header else 0
    similar_col = header.index("相似问题") if "相似问题" in header else None
    kept = [header]
    for row in body:
        phrasings = [row[q_col]] + ([p for p in row[similar_col].split("|") if p] if similar_col is not None else [])
        left = [p for p in phrasings if p.strip() not in held_questions]
        if not left:
            continue
        row = list(row)
        row[q_col] = left[0]
        if similar_col is not None:
            row[similar_col] = "|".join(left[1:])
        kept.append(row)
    with open(out, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(kept)


def main():
    if len(sys.argv) != 6:
        raise SystemExit(__doc__)
    doctalk, report_path, adapter, faq, work = sys.argv[1:]
    held = json.load(open(report_path))["comparison"]["answers"]
    work = pathlib.Path(work)
    work.mkdir(parents=True, exist_ok=True)
    data = str(work / "data")
    reduced = work / "faq.csv"
    reduced_faq(faq, {c["question"].strip() for c in held}, reduced)
    subprocess.run([doctalk, "--data-dir", data, "ingest", str(reduced), "--json"], check=True,
                   capture_output=True, timeout=1200)
    rows = []
    for case in held:
        for label, chosen in (("base", None), ("tuned", adapter)):
            reply = ask(doctalk, data, case["question"], chosen)
            answer = reply.get("answer", "")
            rows.append((label, normalized(answer) == normalized(case["expected"]), char_f1(answer, case["expected"]), reply.get("mode")))
    for label in ("base", "tuned"):
        mine = [r for r in rows if r[0] == label]
        exact = sum(r[1] for r in mine)
        f1 = sum(r[2] for r in mine) / len(mine)
        modes = Counter(r[3] for r in mine)
        print(f"{label}: exact {exact}/{len(mine)}, character F1 {f1:.3f}, modes {dict(modes)}")


if __name__ == "__main__":
    main()
