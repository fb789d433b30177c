#!/usr/bin/env python3
"""Time to the first shown text of an answer: `doctalk ask --json` on the sample knowledge base, one
fresh process per question (no prompt cache carried over), for one or more builds side by side.

For each round, each question is asked of every build in turn (interleaved, so a noisy machine
treats them alike). Prints, per build, the first-text time of each answer (`timings.first_token_ms`:
from the question to the first sentence the claim gate shows) and its median over every answer and
over those the model wrote (`mode` "llm"). An extractive answer is either one the model was never
asked for (an FAQ entry matched) or, with a `fallback_reason`, one shown after the model failed or
had no room; the second kind is counted apart, as its time includes whatever the model did first.

Run: python3 bench/llm/first_token.py [--rounds N] [--data-dir D] [--max-tokens T] NAME=path/to/doctalk [NAME=path ...]
Without --data-dir, the first build ingests examples/sample-kb into a new temporary directory; a
given one must already hold the sample knowledge base.
"""
import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[2]
# The three seed questions of scripts/demo.sh, then five more over the same documents (zh and en).
QUESTIONS = [
    "请问商旅的出差制度",
    "如何登陆管理员后台",
    "如何下载滴滴APP",
    "出差住宿标准是多少",
    "会议室怎么预订",
    "年假有多少天",
    "How often must passwords be changed?",
    "What should I do if I receive a phishing email?",
]


def run(cmd, timeout):
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("builds", nargs="+", help="NAME=path/to/doctalk")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--data-dir")
    parser.add_argument("--max-tokens", type=int, default=200)
    args = parser.parse_args()
    builds = [b.split("=", 1) for b in args.builds]
    if any(len(b) != 2 for b in builds):
        raise SystemExit("each build is NAME=path")
    if args.data_dir:
        data = pathlib.Path(args.data_dir)
    else:
        data = pathlib.Path(tempfile.mkdtemp(prefix="doctalk-first-token-"))
        print(f"ingesting examples/sample-kb into {data} with {builds[0][0]}", flush=True)
        run([builds[0][1], "--data-dir", str(data), "ingest", str(REPO / "examples/sample-kb")], 1800)

    answers = {name: [] for name, _ in builds}
    for r in range(args.rounds):
        for q in QUESTIONS:
            for name, binary in builds:
                out = json.loads(run([binary, "--data-dir", str(data), "ask", q, "--json",
                                      "--max-tokens", str(args.max_tokens)], 900))
                ms = out["timings"].get("first_token_ms")
                kind = "llm" if out["mode"] == "llm" else ("fallback" if out.get("fallback_reason") else "faq")
                answers[name].append((ms, kind))
                shown = "-" if ms is None else f"{ms / 1000:.2f}"
                print(f"round {r + 1} {name:>10} {shown:>6} s  {kind:<8} {q}", flush=True)

    print()
    for name, rows in answers.items():
        every = [ms / 1000 for ms, kind in rows if ms is not None and kind != "fallback"]
        llm = [ms / 1000 for ms, kind in rows if ms is not None and kind == "llm"]
        fallbacks = sum(kind == "fallback" for _, kind in rows)
        describe = lambda v: (f"p50 {statistics.median(v):.2f} s ({min(v):.2f}–{max(v):.2f}) over {len(v)}"
                              if v else "none")
        print(f"{name}: first text {describe(every)} answers; written by the model: {describe(llm)}; "
              f"{fallbacks} extractive after the model (left out)")


if __name__ == "__main__":
    sys.exit(main())
