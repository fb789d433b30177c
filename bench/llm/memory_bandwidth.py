#!/usr/bin/env python3
"""This machine's sustained memory read bandwidth, and the decode ceiling it implies for a GGUF model.

Decoding one token reads every weight once, so tokens/s can never exceed bandwidth / weight bytes.
Each of `threads` threads sums its own slice of a 2 GiB array (numpy releases the GIL), best of 5.

Run: /var/cache/doctalk-llamacpp-venv/bin/python bench/llm/memory_bandwidth.py [threads] [model.gguf ...]
"""
import os
import sys
import threading
import time

import numpy as np

SIZE = 2 << 30


def read_bandwidth(threads: int) -> float:
    data = np.ones(SIZE // 8, dtype=np.float64)
    slices = np.array_split(data, threads)
    best = 0.0
    for _ in range(5):
        workers = [threading.Thread(target=np.sum, args=(s,)) for s in slices]
        t = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        best = max(best, SIZE / (time.perf_counter() - t))
    return best


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    bw = read_bandwidth(threads)
    print(f"read bandwidth: {bw / 1e9:.1f} GB/s ({threads} threads)")
    for path in sys.argv[2:]:
        size = os.path.getsize(path)
        print(f"{os.path.basename(path)}: {size / 1e9:.2f} GB of weights -> decode ceiling {bw / size:.1f} tokens/s")


if __name__ == "__main__":
    main()
