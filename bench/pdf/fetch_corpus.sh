#!/usr/bin/env bash
# Assembles a public benchmark corpus of real PDFs from Debian documentation packages.
# Not committed: the PDFs land in a cache folder outside the repository.
#
#   bash bench/pdf/fetch_corpus.sh [CACHE_DIR]      # default /var/cache/doctalk-pdf-corpus
#
# zh/: documentation of the Chinese TeX packages (xeCJK, ctex, lshort-zh-cn, …), almost all
#      set with CID (Identity-H) fonts, which is where PDF engines lose Chinese text.
# en/: English manuals (Asymptote, MetaPost, recommended fonts).
# MANIFEST.tsv records package, version, path inside the package and sha256 of each file.
set -euo pipefail

cache=${1:-/var/cache/doctalk-pdf-corpus}
debs=$cache/.debs
mkdir -p "$debs" "$cache/zh" "$cache/en"

zh_packages=(texlive-lang-chinese)
en_packages=(asymptote-doc texlive-fonts-recommended-doc texlive-metapost-doc)

cd "$debs"
for pkg in "${zh_packages[@]}" "${en_packages[@]}"; do
    if ! compgen -G "${pkg}_*.deb" >/dev/null; then
        apt-get download "$pkg"
    fi
    if [ ! -d "x/$pkg" ]; then
        mkdir -p "x/$pkg"
        dpkg-deb -x "$(compgen -G "${pkg}_*.deb" | head -n1)" "x/$pkg"
    fi
done

manifest=$cache/MANIFEST.tsv
printf 'lang\tfile\tpackage\tversion\tpath_in_package\tsha256\n' >"$manifest"

copy_docs() {
    local lang=$1 pkg=$2 deb version
    deb=$(compgen -G "${pkg}_*.deb" | head -n1)
    version=$(dpkg-deb -f "$deb" Version)
    # Documents, not figures: bigger than 100 KB, regular files, outside figure folders.
    find "x/$pkg/usr/share/doc" -type f -name '*.pdf' -size +100k \
        -not -path '*/figure*' -not -path '*/src/*' | sort | while read -r f; do
        local name dest
        name=$(basename "$f")
        dest=$cache/$lang/$name
        [ -e "$dest" ] && continue
        cp "$f" "$dest"
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$lang" "$lang/$name" "$pkg" "$version" \
            "${f#x/$pkg}" "$(sha256sum "$dest" | cut -d' ' -f1)" >>"$manifest"
    done
}

for pkg in "${zh_packages[@]}"; do copy_docs zh "$pkg"; done
for pkg in "${en_packages[@]}"; do copy_docs en "$pkg"; done

echo "corpus in $cache: $(find "$cache/zh" -name '*.pdf' | wc -l) zh, $(find "$cache/en" -name '*.pdf' | wc -l) en"
