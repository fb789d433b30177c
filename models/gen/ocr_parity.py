#!/usr/bin/env python3
"""Compares two OCR outputs in the JSON-lines shape of ocr_reference.py / doctalk-ocr's ocr_page
example: for each reference line, the best-overlapping line of ours (IoU of the quadrilaterals) and
whether the texts are equal.

    ocr_parity.py OURS.jsonl REFERENCE.jsonl [--show]

Prints per image and in total: reference lines, lines matched with IoU >= 0.9, lines whose text is
identical, and our extra lines. Needs shapely (the reference venv has it).
"""
import json
import sys

from shapely.geometry import Polygon


def load(path):
    return {json.loads(l)["image"]: json.loads(l) for l in open(path, encoding="utf-8") if l.strip()}


def iou(a, b):
    pa, pb = Polygon(a), Polygon(b)
    if not pa.is_valid or not pb.is_valid:
        return 0.0
    inter = pa.intersection(pb).area
    union = pa.union(pb).area
    return inter / union if union else 0.0


def main():
    ours, ref = load(sys.argv[1]), load(sys.argv[2])
    show = "--show" in sys.argv
    total = {"ref": 0, "iou90": 0, "same_text": 0, "ours": 0}
    for image, r in ref.items():
        o = ours.get(image, {"lines": []})
        used = set()
        n = {"ref": len(r["lines"]), "iou90": 0, "same_text": 0, "ours": len(o["lines"])}
        for rl in r["lines"]:
            best, best_i = 0.0, None
            for i, ol in enumerate(o["lines"]):
                if i in used:
                    continue
                v = iou(rl["quad"], ol["quad"])
                if v > best:
                    best, best_i = v, i
            if best_i is not None and best > 0.5:
                used.add(best_i)
            if best >= 0.9:
                n["iou90"] += 1
            same = best_i is not None and best > 0.5 and o["lines"][best_i]["text"] == rl["text"]
            n["same_text"] += same
            if show and (best < 0.9 or not same):
                got = o["lines"][best_i]["text"] if best_i is not None else None
                print(f"  {image}: iou {best:.2f} ref {rl['text']!r} ours {got!r}")
        for k in total:
            total[k] += n[k]
        print(f"{image}: {n}")
    print(f"total: {total}; boxes IoU>=0.9 {total['iou90'] / max(1, total['ref']):.3f}, "
          f"same text {total['same_text'] / max(1, total['ref']):.3f}")


if __name__ == "__main__":
    main()
