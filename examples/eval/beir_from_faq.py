#!/usr/bin/env python3
"""A small BEIR-style folder from the sample FAQ, for the `doctalk bench retrieval` test.

Corpus: every FAQ answer (id a<row>). Queries: every *similar question* column entry (id q<row>-<n>),
judged relevant to its own row's answer. The standard question is left out on purpose: the similar
questions are paraphrases, so this is a (small) real retrieval task, not string matching.

Run: python3 examples/eval/beir_from_faq.py   (writes examples/eval/beir-faq/)
"""
import csv
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
FAQ = HERE.parent / "sample-kb" / "faq.csv"
OUT = HERE / "beir-faq"


def main():
    rows = list(csv.DictReader(FAQ.open(encoding="utf-8")))
    (OUT / "qrels").mkdir(parents=True, exist_ok=True)
    with (OUT / "corpus.jsonl").open("w", encoding="utf-8") as corpus, \
         (OUT / "queries.jsonl").open("w", encoding="utf-8") as queries, \
         (OUT / "qrels" / "test.tsv").open("w", encoding="utf-8") as qrels:
        qrels.write("query-id\tcorpus-id\tscore\n")
        for i, row in enumerate(rows, start=1):
            doc = f"a{i}"
            corpus.write(json.dumps({"_id": doc, "title": "", "text": row["答案"]}, ensure_ascii=False) + "\n")
            for n, q in enumerate(filter(None, (s.strip() for s in row["相似问题"].split("|"))), start=1):
                qid = f"q{i}-{n}"
                queries.write(json.dumps({"_id": qid, "text": q}, ensure_ascii=False) + "\n")
                qrels.write(f"{qid}\t{doc}\t1\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
