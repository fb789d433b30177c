#!/usr/bin/env python3
"""A smaller BEIR folder from a bigger one: the first N judged queries (file order), every document
they judge relevant, then other documents in file order up to M in all. Deterministic.

    python3 bench/retrieval/subset.py SRC_DIR DST_DIR --queries 300 --docs 2000
"""
import argparse
import json
import pathlib


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--queries", type=int, required=True)
    ap.add_argument("--docs", type=int, required=True)
    a = ap.parse_args()
    src, dst = pathlib.Path(a.src), pathlib.Path(a.dst)
    (dst / "qrels").mkdir(parents=True, exist_ok=True)
    rows = [line.rstrip("\n").split("\t") for line in open(src / "qrels/test.tsv", encoding="utf-8")][1:]
    judged = {r[0] for r in rows}
    queries = [q for q in map(json.loads, open(src / "queries.jsonl", encoding="utf-8")) if q["_id"] in judged]
    queries = queries[: a.queries]
    qids = {q["_id"] for q in queries}
    rows = [r for r in rows if r[0] in qids]
    relevant = {r[1] for r in rows}
    corpus = [json.loads(line) for line in open(src / "corpus.jsonl", encoding="utf-8")]
    keep = [d for d in corpus if d["_id"] in relevant]
    keep += [d for d in corpus if d["_id"] not in relevant][: max(0, a.docs - len(keep))]
    with open(dst / "corpus.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in keep)
    with open(dst / "queries.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(q, ensure_ascii=False) + "\n" for q in queries)
    with open(dst / "qrels/test.tsv", "w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        f.writelines("\t".join(r) + "\n" for r in rows)
    print(f"{dst}: {len(keep)} docs, {len(queries)} queries, {len(rows)} judgements")


if __name__ == "__main__":
    main()
