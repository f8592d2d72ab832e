#!/usr/bin/env python3
"""Logins under a password flood: does argon2 stall the rest of the server?

Measures GET /api/status latency (p50, p99) on its own and while 32 clients send wrong-password
logins without pause, in alternating rounds on the same server, and reports the ratio loaded /
idle. Before password hashing moved off the event loops, the review measured status p99 going
from 4 ms to 182 ms (45x) under 32 bad logins. Appends its table to docs/benchmarks.md.

  KMS_BIN=.build/release/kms python3 bench/login_flood.py
"""
import datetime
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests/e2e"))
from kms import Server  # noqa: E402
from report import publish  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "300"))
FLOOD = 32
ROOT = Path(__file__).resolve().parents[1]


def status_latencies(session, url, n):
    out = []
    for _ in range(n):
        started = time.perf_counter()
        r = session.get(url + "/api/status", timeout=30)
        out.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200
    out.sort()
    return out[len(out) // 2], out[int(len(out) * 0.99) - 1]


def main():
    server = Server(data_dir=tempfile.mkdtemp(prefix="kms-flood-"), env={"KMS_LOG_LEVEL": "warning"}).start()
    outcomes = {"401": 0, "503": 0, "other": 0}
    try:
        server.bootstrap()
        session = requests.Session()
        status_latencies(session, server.url, 50)  # warm-up
        stop = threading.Event()

        def flood():
            s = requests.Session()
            while not stop.is_set():
                r = s.post(server.url + "/api/v1/auth/user/login", json={"email": "admin@example.com", "password": "wrong password, again"}, timeout=30)
                key = str(r.status_code) if str(r.status_code) in outcomes else "other"
                outcomes[key] += 1

        idle, loaded, logins_per_s = [], [], []
        for _ in range(ROUNDS):
            idle.append(status_latencies(session, server.url, SAMPLES))
            stop.clear()
            before = sum(outcomes.values())
            threads = [threading.Thread(target=flood, daemon=True) for _ in range(FLOOD)]
            started = time.perf_counter()
            for t in threads:
                t.start()
            time.sleep(1)
            loaded.append(status_latencies(session, server.url, SAMPLES))
            stop.set()
            for t in threads:
                t.join()
            logins_per_s.append((sum(outcomes.values()) - before) / (time.perf_counter() - started))
    finally:
        server.stop()

    p50_idle = statistics.median(x[0] for x in idle)
    p99_idle = statistics.median(x[1] for x in idle)
    p50_loaded = statistics.median(x[0] for x in loaded)
    p99_loaded = statistics.median(x[1] for x in loaded)
    rows = [
        "",
        f"## Logins under a password flood ({datetime.date.today()}, {platform.machine()}, {os.cpu_count()} cores, `{Path(os.environ.get('KMS_BIN', 'kms')).parent.name}` build)",
        "",
        f"`bench/login_flood.py`: `GET /api/status` latency alone and while {FLOOD} clients send wrong-password logins",
        f"without pause; {ROUNDS} alternating rounds of {SAMPLES} requests, medians of the rounds. argon2id runs on",
        "a dedicated pool (cores - 1 threads, 256 queued at most, then 503), not on the event loops.",
        "",
        "| | p50 | p99 |",
        "|---|---|---|",
        f"| status alone | {p50_idle:.1f} ms | {p99_idle:.1f} ms |",
        f"| status under the flood | {p50_loaded:.1f} ms | {p99_loaded:.1f} ms |",
        f"| ratio loaded / alone | {p50_loaded / p50_idle:.1f} | {p99_loaded / p99_idle:.1f} (before the change: 182 / 4 = 45) |",
        "",
        f"Bad logins answered: {statistics.median(logins_per_s):.0f}/s (401: {outcomes['401']}, 503 refused past the queue: {outcomes['503']}, other: {outcomes['other']}).",
        "",
    ]
    publish(rows)


if __name__ == "__main__":
    main()
