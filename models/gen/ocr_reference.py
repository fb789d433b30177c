#!/usr/bin/env python3
"""RapidOCR's own Python pipeline (onnxruntime) on page images: the parity and speed reference for
doctalk-ocr.

    ocr_reference.py IMAGE... [--json] [--runs N]

Prints, per image, one JSON object: {"image", "lines": [{"quad": [[x, y] x4], "text", "score"}],
"seconds"} with --json, else the text. With --runs N, each image is read N times and the fastest
time is reported (the first run also loads the models).

Environment: a venv with `rapidocr==3.10.0` and `onnxruntime==1.31.1` (the versions the manifests in
models/ pin), e.g.

    python3 -m venv /var/cache/doctalk-ocr-venv
    /var/cache/doctalk-ocr-venv/bin/pip install rapidocr==3.10.0 onnxruntime==1.31.1

The models are the wheel's own files, the same bytes models/ppocr-v6-small.json fetches. Threads:
ONNX Runtime's intra-op pool is set to the number of cores given by --threads (default 2).
"""
import argparse
import json
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("images", nargs="+")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    from rapidocr import RapidOCR

    engine = RapidOCR(params={
        "EngineConfig.onnxruntime.intra_op_num_threads": args.threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        "Global.log_level": "error",
    })
    for path in args.images:
        best = None
        result = None
        for _ in range(max(1, args.runs)):
            start = time.perf_counter()
            result = engine(path)
            took = time.perf_counter() - start
            best = took if best is None else min(best, took)
        lines = []
        if result.boxes is not None:
            for quad, text, score in zip(result.boxes, result.txts, result.scores):
                lines.append({
                    "quad": [[float(x), float(y)] for x, y in quad],
                    "text": text,
                    "score": float(score),
                })
        if args.json:
            print(json.dumps({"image": path, "lines": lines, "seconds": best}, ensure_ascii=False))
        else:
            print("\n".join(l["text"] for l in lines))
            print(f"-- {path}: {len(lines)} lines, {best:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
