#!/usr/bin/env python3
"""Writes a chat model's measured answer scores into its manifest (models/<name>.json, "measured"),
from the JSON report of `doctalk bench answers --json` (LLM mode), so the model catalogue shows
numbers rather than claims.

Usage: models/gen/record_answer_scores.py REPORT.json MODEL_NAME --machine "..." [--date YYYY-MM-DD]
"""
import argparse
import datetime
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("report")
    ap.add_argument("model")
    ap.add_argument("--machine", required=True)
    ap.add_argument("--date", default=datetime.date.today().isoformat())
    ap.add_argument("--set", default="examples/eval/answers.jsonl")
    args = ap.parse_args()

    report = json.load(open(args.report, encoding="utf-8"))
    llm = next((m for m in report.get("modes", []) if m["mode"] == "llm"), None)
    if llm is None:
        # An error exit, not a stub: a report without the LLM mode measured no model.
        raise SystemExit(f"{args.report}: no LLM mode in the report")
    t, before = llm["totals"], llm.get("before_checking") or {}
    manifest_path = ROOT / "models" / f"{args.model}.json"
    manifest = json.load(open(manifest_path, encoding="utf-8"))
    if manifest.get("kind") != "chat-llm":
        raise SystemExit(f"{manifest_path}: not a chat model")
    docs = 4
    manifest["measured"] = {
        "set": f"{args.set}: {t['questions']} questions ({t['unanswerable']} unanswerable), {docs} documents",
        "machine": args.machine,
        "date": args.date,
        "fact_and_citation": round(t["fact_and_citation_rate"] or 0.0, 3),
        "fact_and_citation_before_checking": round(before.get("fact_and_citation_rate") or 0.0, 3),
        "refusals": round(t["refusal_rate"] or 0.0, 3),
        "false_refusals": round(t["false_refusal_rate"] or 0.0, 3),
        "first_text_p50_ms": round(t["first_token_ms_p50"] or 0.0),
    }
    with open(manifest_path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"{manifest_path.name}: {manifest['measured']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
