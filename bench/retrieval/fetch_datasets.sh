#!/usr/bin/env bash
# Builds small public retrieval evaluation sets, in BEIR layout, from data that a registry
# package ships inside its archive (the hubs are out of reach on these machines).
# Not committed: the data lands in a cache folder outside the repository.
#
#   bash bench/retrieval/fetch_datasets.sh [CACHE_DIR]    # default /var/cache/doctalk-retrieval-data
#
# Each <CACHE_DIR>/<name>/ holds corpus.jsonl, queries.jsonl, qrels/test.tsv and manifest.json
# (package, version, sha256, licence, sampling, counts).
#
# insuranceqa-zh, insuranceqa-en: PyPI `insuranceqa-data` 1.0, the only release whose sdist
# still carries the data (InsuranceQA V1 questions and answers in English with a Chinese
# translation; releases 1.3, 2.0 and 2.5.5 no longer include it). 1000 of the 2000 test questions,
# 5000 answers (all 3302 correct answers of the test split plus hard negatives), same ids in
# both languages. Licence: GPL-3.0 package; the data is for research use only.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${1:-/var/cache/doctalk-retrieval-data}
pkgs=$cache/.packages
mkdir -p "$pkgs"

# name==version  sha256 of the file the registry serves
iqa_spec=insuranceqa-data==1.0
iqa_file=insuranceqa_data-1.0.tar.gz
iqa_sha256=f413933723f379fa39bf5e3c2c20618a2f9c230daa94a431eda216feb13498f5

fetch_pypi() { # spec file sha256
    local spec=$1 file=$2 sum=$3
    if [ ! -f "$pkgs/$file" ]; then
        # pip reads the sdist's metadata (in a throw-away build environment); nothing is
        # installed and no code of the package is imported.
        python3 -m pip download --quiet --no-deps --no-binary :all: -d "$pkgs" "$spec"
    fi
    if ! echo "$sum  $pkgs/$file" | sha256sum --check --status; then
        echo "checksum mismatch for $pkgs/$file (expected $sum)" >&2
        exit 1
    fi
}

fetch_pypi "$iqa_spec" "$iqa_file" "$iqa_sha256"

for lang in zh en; do
    python3 "$here/to_beir.py" insuranceqa --archive "$pkgs/$iqa_file" --lang "$lang" \
        --max-queries 1000 --max-docs 5000 --out "$cache/insuranceqa-$lang"
done

# A 2,000-document / 300-query English subset: indexing 5,000 long answers with the e5 encoder takes
# most of an hour on a 2-core machine.
python3 "$here/subset.py" "$cache/insuranceqa-en" "$cache/insuranceqa-en-2k" --queries 300 --docs 2000
