#!/usr/bin/env python3
"""Load test for `doctalk serve`: N concurrent askers for D seconds while an ingest runs.

    python3 bench/server/load_test.py http://127.0.0.1:8765 [--askers 50] [--seconds 60]
        [--ingest FILE] [--llm] [--token T]

Each asker loops over the sample questions, POSTing /api/ask (extractive unless --llm); with
--ingest FILE the file is uploaded to /api/ingest repeatedly (as new names) for the whole run.
Prints requests, errors, and p50/p90/p99 latency in ms as one JSON line, overall and per answer mode
(with --llm, the server answers what its model queue cannot take extractively: `--max-waiting`).
Standard library only.
"""
import argparse
import json
import statistics
import threading
import time
import urllib.error
import urllib.request

QUESTIONS = [
    "请问商旅的出差制度", "如何登陆管理员后台", "如何下载滴滴APP", "出差的话一天餐补给多少",
    "How do I reset my VPN password?", "What's the minimum length for a password?",
    "公司健身房几点开门", "我今年一共能休几天年假",
]


def request(url, body, token, timeout=600):
    req = urllib.request.Request(url, data=body, method="POST")
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("--askers", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--ingest")
    ap.add_argument("--llm", action="store_true")
    ap.add_argument("--token")
    args = ap.parse_args()
    stop = time.monotonic() + args.seconds
    latencies, errors, ingests = [], [], []
    by_mode = {}
    lock = threading.Lock()

    def asker(i):
        n = i
        while time.monotonic() < stop:
            q = QUESTIONS[n % len(QUESTIONS)]
            n += 1
            body = json.dumps({"question": q, "no_llm": not args.llm}).encode()
            t = time.perf_counter()
            try:
                status, raw = request(f"{args.base}/api/ask", body, args.token)
                answer = json.loads(raw)
                ok = status == 200 and "answer" in answer
                mode = answer.get("mode", "?")
            except (urllib.error.URLError, OSError, ValueError) as e:
                ok, raw = False, str(e).encode()
            ms = (time.perf_counter() - t) * 1000
            with lock:
                (latencies if ok else errors).append(ms if ok else raw[:200].decode(errors="replace"))
                if ok:
                    by_mode.setdefault(mode, []).append(ms)

    def ingester():
        data = open(args.ingest, "rb").read()
        k = 0
        while time.monotonic() < stop:
            k += 1
            name = f"load-{k}-{args.ingest.rsplit('/', 1)[-1]}"
            t = time.perf_counter()
            try:
                status, raw = request(f"{args.base}/api/ingest?name={urllib.parse.quote(name)}", data, args.token)
                ok = status == 200 and b'"status":"indexed"' in raw
            except (urllib.error.URLError, OSError) as e:
                ok, raw = False, str(e).encode()
            with lock:
                ingests.append((ok, (time.perf_counter() - t) * 1000))

    import urllib.parse  # noqa: E402  (used by ingester)
    threads = [threading.Thread(target=asker, args=(i,)) for i in range(args.askers)]
    if args.ingest:
        threads.append(threading.Thread(target=ingester))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    def pct(values, p):
        v = sorted(values)
        return v[min(len(v) - 1, int(p * len(v)))] if v else None

    lat = latencies
    print(json.dumps({
        "askers": args.askers, "seconds": args.seconds, "requests": len(lat) + len(errors),
        "errors": len(errors), "error_samples": errors[:3],
        "p50_ms": pct(lat, 0.50), "p90_ms": pct(lat, 0.90), "p99_ms": pct(lat, 0.99),
        "modes": {m: {"answers": len(v), "p50_ms": pct(v, 0.5), "p99_ms": pct(v, 0.99)} for m, v in by_mode.items()},
        "mean_ms": statistics.mean(lat) if lat else None,
        "ingests": len(ingests), "ingest_failures": sum(1 for ok, _ in ingests if not ok),
    }))


if __name__ == "__main__":
    main()
