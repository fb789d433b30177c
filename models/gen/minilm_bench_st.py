#!/usr/bin/env python3
"""sentence-transformers on all-MiniLM-L6-v2, on the same 256 passages as
`cargo run --release -p doctalk-models --example e5_bench -- --minilm` (the reference for
DocTalk's BertEncoder throughput). Median passages/s over runs, and peak RSS.

    /var/cache/doctalk-torch-venv/bin/python models/gen/minilm_bench_st.py [--threads 2] [--runs 5]
(benchmark-only venv: torch, sentence-transformers)
"""
import argparse
import pathlib
import resource
import statistics
import time

import torch
from sentence_transformers import SentenceTransformer

REPO = pathlib.Path(__file__).resolve().parents[2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--model", default=str(REPO / ".models/all-MiniLM-L6-v2"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    text = (REPO / "crates/doctalk-models/tests/fixtures/e5/bench_passages.txt").read_text(encoding="utf-8")
    passages = [line for line in text.splitlines() if line]
    model = SentenceTransformer(args.model, device="cpu")
    model.encode(passages[:8])
    rates = []
    for _ in range(args.runs):
        t = time.perf_counter()
        model.encode(passages, batch_size=32)
        rates.append(len(passages) / (time.perf_counter() - t))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"sentence-transformers all-MiniLM-L6-v2: {len(passages)} passages, {args.threads} threads: "
          f"median {statistics.median(rates):.1f} passages/s over {args.runs} runs "
          f"(min {min(rates):.1f}, max {max(rates):.1f}); peak RSS {peak} MB")


if __name__ == "__main__":
    main()
