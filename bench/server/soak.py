#!/usr/bin/env python3
"""Soak run for `doctalk serve`: mixed load from many clients at bounded rates for a long time,
watching the server for errors, slowdowns and leaks.

    python3 bench/server/soak.py http://127.0.0.1:8765 --pid PID [--minutes 60] [--clients 24]
        [--tokens FILE] [--out FILE.jsonl]

Each client is one of: an asker (questions in its own conversations, every ~2 s), a searcher
(every ~1 s), an uploader (a small new note every ~10 s, deleting its older uploads), or a
conversation keeper (lists, reads and deletes its conversations every ~5 s). With --tokens (one
token per line, e.g. from `doctalk users add … --json`) the clients use them in turn, as the users
of a team server would. Every minute one JSON line: requests, errors (by status), p50/p99 latency
per kind, the server's RSS, its anonymous part and open file handles (from /proc/PID). At the end a summary
with the growth of each from the first minute to the last. Standard library only.
"""
import argparse
import json
import random
import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

QUESTIONS = [
    "请问商旅的出差制度", "如何登陆管理员后台", "出差的话一天餐补给多少", "我今年一共能休几天年假",
    "How do I reset my VPN password?", "What's the minimum length for a password?",
    "公司健身房几点开门", "Which VPN client should I use?",
]


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.latency = {}
        self.errors = {}
        self.requests = 0

    def add(self, kind, ms, status):
        with self.lock:
            self.requests += 1
            self.latency.setdefault(kind, []).append(ms)
            if status >= 400 or status == 0:
                key = f"{kind}:{status}"
                self.errors[key] = self.errors.get(key, 0) + 1

    def take(self):
        with self.lock:
            out = (self.requests, self.latency, self.errors)
            self.reset()
            return out


def call(base, method, path, token, body=None, content_type="application/json", timeout=120):
    req = urllib.request.Request(base + path, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", content_type)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except Exception:  # connection refused or reset, timeout: the server failed this request
        return 0, b""


def timed(stats, kind, *args, **kwargs):
    start = time.monotonic()
    status, body = call(*args, **kwargs)
    stats.add(kind, (time.monotonic() - start) * 1000, status)
    return status, body


def asker(base, token, stats, stop, rng):
    conversation = "new"
    while not stop.is_set():
        q = rng.choice(QUESTIONS)
        body = json.dumps({"question": q, "conversation": conversation, "no_llm": True}).encode()
        status, reply = timed(stats, "ask", base, "POST", "/api/ask", token, body)
        if status == 200:
            conversation = json.loads(reply).get("conversation") or "new"
            if rng.random() < 0.2:
                conversation = "new"
        stop.wait(rng.uniform(1.0, 3.0))


def searcher(base, token, stats, stop, rng):
    while not stop.is_set():
        q = urllib.parse.quote(rng.choice(QUESTIONS))
        timed(stats, "search", base, "GET", f"/api/search?q={q}&k=5", token)
        stop.wait(rng.uniform(0.5, 1.5))


def uploader(base, token, stats, stop, rng, me):
    n = 0
    mine = []
    while not stop.is_set():
        n += 1
        name = f"soak-{me}-{n}.md"
        text = f"# Soak note {me}-{n}\n\nThe soak client {me} wrote note {n}; its code is S{me}X{n}.\n"
        status, _ = timed(stats, "upload", base, "POST", f"/api/ingest?name={name}", token,
                          text.encode(), content_type="application/octet-stream", timeout=300)
        if status == 200:
            mine.append(name)
        if len(mine) > 3:
            status, body = call(base, "GET", "/api/documents", token)
            if status == 200:
                old = mine.pop(0)
                for d in json.loads(body):
                    if d.get("path", "").endswith(old):
                        timed(stats, "delete", base, "DELETE", f"/api/documents/{d['id']}", token)
        stop.wait(rng.uniform(7.0, 13.0))


def keeper(base, token, stats, stop, rng):
    while not stop.is_set():
        status, body = timed(stats, "conversations", base, "GET", "/api/conversations", token)
        if status == 200:
            convs = json.loads(body)
            if convs:
                c = rng.choice(convs)
                timed(stats, "conversation", base, "GET", f"/api/conversations/{c['id']}", token)
                if len(convs) > 20:
                    timed(stats, "conversation_delete", base, "DELETE", f"/api/conversations/{convs[-1]['id']}", token)
        stop.wait(rng.uniform(3.0, 7.0))


def proc(pid):
    """RSS, its anonymous part (heap and other private memory: where a leak shows) and open file
    handles, in MiB and handles. The rest of RSS is file-backed, mostly the program's own code,
    which grows as requests reach code not run before and can be dropped by the kernel at will."""
    rss_kb = anon_kb = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
            elif line.startswith("RssAnon:"):
                anon_kb = int(line.split()[1])
    import os
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss_kb // 1024, anon_kb // 1024, fds


def summary(values):
    if not values:
        return None
    values = sorted(values)
    return {"n": len(values), "p50": round(statistics.median(values)),
            "p99": round(values[min(len(values) - 1, int(len(values) * 0.99))])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--clients", type=int, default=24)
    ap.add_argument("--tokens")
    ap.add_argument("--out")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    tokens = [None]
    if args.tokens:
        tokens = [t.strip() for t in open(args.tokens) if t.strip()]
    stats = Stats()
    stop = threading.Event()
    roles = [asker, searcher, uploader, keeper]
    threads = []
    for i in range(args.clients):
        role = roles[i % len(roles)]
        rng = random.Random(args.seed * 1000 + i)
        token = tokens[i % len(tokens)]
        extra = (i,) if role is uploader else ()
        t = threading.Thread(target=role, args=(args.base.rstrip("/"), token, stats, stop, rng) + extra, daemon=True)
        t.start()
        threads.append(t)
    out = open(args.out, "w") if args.out else None
    minutes = []
    started = time.monotonic()
    for minute in range(1, int(args.minutes) + 1):
        time.sleep(max(0.0, started + minute * 60 - time.monotonic()))
        requests, latency, errors = stats.take()
        rss, anon, fds = proc(args.pid)
        row = {"minute": minute, "requests": requests, "errors": errors, "rss_mib": rss, "anon_mib": anon,
               "open_files": fds,
               "latency_ms": {k: summary(v) for k, v in sorted(latency.items())}}
        minutes.append(row)
        line = json.dumps(row, ensure_ascii=False)
        print(line, flush=True)
        if out:
            out.write(line + "\n")
            out.flush()
    stop.set()
    first, last = minutes[0], minutes[-1]
    total_errors = sum(sum(m["errors"].values()) for m in minutes)
    result = {
        "summary": True, "minutes": len(minutes), "clients": args.clients,
        "requests": sum(m["requests"] for m in minutes), "errors": total_errors,
        "rss_mib_first_minute": first["rss_mib"], "rss_mib_last_minute": last["rss_mib"],
        "rss_growth": round(last["rss_mib"] / max(1, first["rss_mib"]) - 1, 3),
        "anon_mib_first_minute": first["anon_mib"], "anon_mib_last_minute": last["anon_mib"],
        "anon_growth": round(last["anon_mib"] / max(1, first["anon_mib"]) - 1, 3),
        "open_files_first_minute": first["open_files"], "open_files_last_minute": last["open_files"],
        "open_files_growth": round(last["open_files"] / max(1, first["open_files"]) - 1, 3),
    }
    print(json.dumps(result), flush=True)
    if out:
        out.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
