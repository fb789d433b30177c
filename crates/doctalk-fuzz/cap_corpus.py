"""Bounds a minimised corpus folder so the repository stays small and the replay in the test suite
stays quick: keeps the smallest files (afl-cmin already dropped the inputs that add no coverage)
until MAX_FILES files or MAX_BYTES bytes, deletes the rest, and says what it dropped.

    python3 cap_corpus.py DIR [MAX_FILES] [MAX_BYTES]      (defaults 300 files, 1.5 MB)
"""

import os
import sys


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    folder = sys.argv[1]
    max_files = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    max_bytes = int(sys.argv[3]) if len(sys.argv) > 3 else 1_500_000
    files = sorted(
        (os.path.getsize(os.path.join(folder, f)), f)
        for f in os.listdir(folder)
        if os.path.isfile(os.path.join(folder, f))
    )
    kept, total = 0, 0
    for size, name in files:
        if kept < max_files and (total + size <= max_bytes or kept == 0):
            kept += 1
            total += size
        else:
            os.remove(os.path.join(folder, name))
    print(f"{folder}: kept {kept} of {len(files)} inputs, {total} bytes")


main()
