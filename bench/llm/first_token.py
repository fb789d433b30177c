#!/usr/bin/env python3
"""Time to the first shown text of an answer: `doctalk ask --json` on the sample knowledge base, one
fresh process per question (no prompt cache carried over), for one or more builds side by side.

For each round, each question is asked of every build in turn (interleaved, so a noisy machine
treats them alike). Prints, per build, the first-text time of each question (`timings.
first_token_ms`: from the question to the first sentence the claim gate shows), its median over all
questions and over those the model answered (`mode` "llm"; the others are answered from an FAQ entry
without the model).

Run: python3 bench/llm/first_token.py [--rounds N] [--data-dir D] NAME=path/to/doctalk [NAME=path ...]
The first build ingests examples/sample-kb into D (a new temporary directory unless given).
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
    data = pathlib.Path(args.data_dir or tempfile.mkdtemp(prefix="doctalk-first-token-"))
    if not (data / "kb").exists() and not any(data.glob("*")):
        print(f"ingesting examples/sample-kb into {data} with {builds[0][0]}", flush=True)
        run([builds[0][1], "--data-dir", str(data), "ingest", str(REPO / "examples/sample-kb")], 1800)

    times = {name: {} for name, _ in builds}
    for r in range(args.rounds):
        for q in QUESTIONS:
            for name, binary in builds:
                out = json.loads(run([binary, "--data-dir", str(data), "ask", q, "--json",
                                      "--max-tokens", str(args.max_tokens)], 900))
                ms = out["timings"].get("first_token_ms")
                times[name].setdefault(q, []).append((ms, out["mode"]))
                print(f"round {r + 1} {name:>10} {ms if ms is None else round(ms / 1000, 2)!s:>6} s  "
                      f"{out['mode']:<10} {q}", flush=True)

    print()
    for name, per_q in times.items():
        every, llm = [], []
        for q, seen in per_q.items():
            shown = [ms for ms, _ in seen if ms is not None]
            if not shown:
                continue
            m = statistics.median(shown) / 1000
            every.append(m)
            if any(mode == "llm" for _, mode in seen):
                llm.append(m)
        p50 = lambda v: f"{statistics.median(v):.2f} s" if v else "-"
        print(f"{name}: first text p50 {p50(every)} over {len(every)} questions, "
              f"{p50(llm)} over the {len(llm)} the model answered "
              f"(range {min(llm, default=0):.2f}–{max(llm, default=0):.2f} s)")


if __name__ == "__main__":
    sys.exit(main())
