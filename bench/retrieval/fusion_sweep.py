#!/usr/bin/env python3
"""Compares ways of fusing the dense and BM25 lists on candidate dumps of `doctalk bench retrieval`.

  doctalk bench retrieval --dataset DIR --dump DIR.candidates.jsonl   # once per set
  python3 bench/retrieval/fusion_sweep.py A.candidates.jsonl B.candidates.jsonl ...

Each dump line holds one query's judgements and both components' own top 200 (passage id, score).
Every fusion below is computed from those lists alone, so a setting is tried on every set in
seconds instead of re-indexing. For each setting it prints nDCG@10 and recall@5 per set and the
worst margin over max(dense, BM25) across sets: a fusion worth shipping has a margin ≥ 0 on every set
for both metrics. The metrics are those of doctalk-core's `eval` module.
"""
import json
import math
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def ndcg(ranked, relevant, k=10):
    dcg = sum(relevant.get(pid, 0) / math.log2(i + 2) for i, pid in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked, relevant, k=5):
    if not relevant:
        return 0.0
    return sum(1 for pid in ranked[:k] if pid in relevant) / len(relevant)


def dense_only(q):
    return [pid for pid, _ in q["dense"]]


def bm25_only(q):
    return [pid for pid, _ in q["bm25"]]


def rrf(k, w_bm25):
    """Reciprocal-rank fusion with the BM25 list weighted by w_bm25 (the dense list by 1)."""

    def fuse(q):
        score = {}
        for w, lst in ((1.0, q["dense"]), (w_bm25, q["bm25"])):
            seen = set()
            for i, (pid, _) in enumerate(lst):
                if pid in seen:
                    continue
                seen.add(pid)
                score[pid] = score.get(pid, 0.0) + w / (k + i + 1)
        return sorted(score, key=lambda p: -score[p])

    return fuse


def normalised(lst, how):
    """Scores of one list mapped to 0..1 (best = 1): by min–max over the list, or by the top score."""
    best = {}
    for pid, s in lst:
        best.setdefault(pid, s)
    if not best:
        return {}
    hi, lo = max(best.values()), min(best.values())
    if how == "minmax":
        span = hi - lo
        return {p: (s - lo) / span if span > 0 else 1.0 for p, s in best.items()}
    return {p: s / hi if hi > 0 else 0.0 for p, s in best.items()}


def convex(alpha, how):
    """alpha·dense + (1 − alpha)·BM25 on normalised scores; a list that misses a passage gives it 0."""

    def fuse(q):
        d, b = normalised(q["dense"], how), normalised(q["bm25"], how)
        keys = set(d) | set(b)
        return sorted(keys, key=lambda p: -(alpha * d.get(p, 0.0) + (1 - alpha) * b.get(p, 0.0)))

    return fuse


def raw_plus(beta, how):
    """The raw cosine plus beta times BM25 scaled to 0..1: by the query's best BM25 score ("max"),
    or saturating as s / (s + 10) ("sat"), so one list's weak best hit is not inflated to 1."""

    def fuse(q):
        d = {}
        for pid, s in q["dense"]:
            d.setdefault(pid, s)
        b = {}
        for pid, s in q["bm25"]:
            b.setdefault(pid, s)
        top = max(b.values(), default=0.0)
        floor = min(d.values(), default=0.0)
        scale = (lambda s: s / top if top > 0 else 0.0) if how == "max" else (lambda s: s / (s + 10.0))
        keys = set(d) | set(b)
        return sorted(keys, key=lambda p: -(d.get(p, floor) + beta * scale(b.get(p, 0.0))))

    return fuse


def evaluate(queries, fuse):
    n = len(queries)
    nd = sum(ndcg(fuse(q), q["relevant"]) for q in queries) / n
    rc = sum(recall(fuse(q), q["relevant"]) for q in queries) / n
    return nd, rc


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: fusion_sweep.py DUMP.jsonl [DUMP.jsonl ...]")
    sets = {path.rsplit("/", 1)[-1].replace(".candidates.jsonl", ""): load(path) for path in sys.argv[1:]}
    settings = {"dense": dense_only, "bm25": bm25_only}
    for k in (10, 30, 60):
        for w in (1.0, 0.7, 0.5, 0.3, 0.2, 0.1):
            settings[f"rrf k={k} w_bm25={w}"] = rrf(k, w)
    for how in ("minmax", "max"):
        for alpha in (0.5, 0.6, 0.7, 0.8, 0.9):
            settings[f"convex {how} a={alpha}"] = convex(alpha, how)

    for how in ("max", "sat"):
        for beta in (0.01, 0.015, 0.02, 0.025, 0.03, 0.05, 0.08, 0.12):
            settings[f"cos+b·bm25 {how} b={beta}"] = raw_plus(beta, how)

    results = {name: {s: evaluate(qs, fuse) for s, qs in sets.items()} for name, fuse in settings.items()}
    names = list(sets)
    print(f"{'setting':<28}" + "".join(f"{n[:18]:>22}" for n in names) + f"{'worst margin':>16}")
    for name, per_set in results.items():
        margins = []
        for s in names:
            best_nd = max(results["dense"][s][0], results["bm25"][s][0])
            best_rc = max(results["dense"][s][1], results["bm25"][s][1])
            margins += [per_set[s][0] - best_nd, per_set[s][1] - best_rc]
        cells = "".join(f"{per_set[s][0]:>11.3f}/{per_set[s][1]:<10.3f}" for s in names)
        print(f"{name:<28}{cells}{min(margins):>+16.3f}")
    print("cells: nDCG@10/recall@5; worst margin: the lowest (fusion − max(dense, BM25)) over sets and both metrics")


if __name__ == "__main__":
    main()
