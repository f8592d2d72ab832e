#!/usr/bin/env python3
"""Does a hanging audit stream receiver slow anything down?

Alternating rounds on one server: without a stream, then with a webhook stream whose receiver
accepts connections and never answers. Measures Universal Auth login latency (argon2 included)
and the latency of a cheap audited write (`POST /api/v1/identities`), p50 and p99, medians of
the rounds, and reports with ÷ without (goal for login p99: <= 1.05). Appends to
docs/benchmarks.md.

  KMS_BIN=.build/release/kms python3 bench/audit_stream_hang.py
"""
import datetime
import os
import platform
import socket
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
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "200"))
ROOT = Path(__file__).resolve().parents[1]


def percentiles(samples):
    samples = sorted(samples)
    return samples[len(samples) // 2], samples[max(0, int(len(samples) * 0.99) - 1)]


def timed(call, n):
    out = []
    for _ in range(n):
        started = time.perf_counter()
        r = call()
        out.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, r.text
    return percentiles(out)


def main():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    held = []
    threading.Thread(target=lambda: [held.append(listener.accept()) for _ in iter(int, 1)], daemon=True).start()
    hang_url = f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    server = Server(data_dir=tempfile.mkdtemp(prefix="kms-hang-"), env={"KMS_LOG_LEVEL": "warning"}).start()
    try:
        admin, org = server.bootstrap()
        session = requests.Session()
        auth = {"Authorization": f"Bearer {admin}"}
        identity = session.post(server.url + "/api/v1/identities", headers=auth, json={"name": "bench", "organizationId": org}).json()["identity"]["id"]
        client_id = session.post(server.url + f"/api/v1/auth/universal-auth/identities/{identity}", headers=auth, json={}).json()["identityUniversalAuth"]["clientId"]
        secret = session.post(server.url + f"/api/v1/auth/universal-auth/identities/{identity}/client-secrets", headers=auth, json={}).json()["clientSecret"]
        login = lambda: session.post(server.url + "/api/v1/auth/universal-auth/login", json={"clientId": client_id, "clientSecret": secret}, timeout=30)
        write = lambda: session.post(server.url + "/api/v1/identities", headers=auth, json={"name": "w", "organizationId": org}, timeout=30)
        timed(login, 20), timed(write, 20)  # warm-up
        results = {"without": {"login": [], "write": []}, "with": {"login": [], "write": []}}
        for n in range(ROUNDS):  # A/B then B/A: neither side always runs first
            for mode in (("without", "with") if n % 2 == 0 else ("with", "without")):
                stream = None
                if mode == "with":
                    r = session.post(server.url + f"/api/v1/organizations/{org}/audit-log-streams", headers=auth,
                                     json={"name": "hang", "kind": "webhook", "url": hang_url, "secret": "bench-secret-0123456789"})
                    stream = r.json()["auditLogStream"]["id"]
                    time.sleep(1)  # the worker is now stuck on the receiver
                results[mode]["login"].append(timed(login, SAMPLES))
                results[mode]["write"].append(timed(write, SAMPLES))
                if stream:
                    status = session.get(server.url + f"/api/v1/organizations/{org}/audit-log-streams/{stream}", headers=auth).json()["auditLogStream"]["status"]
                    assert status["lagEntries"] > 0, "the receiver must really be hanging"
                    session.delete(server.url + f"/api/v1/organizations/{org}/audit-log-streams/{stream}", headers=auth)
    finally:
        server.stop()
        listener.close()

    def med(mode, kind, i):
        return statistics.median(x[i] for x in results[mode][kind])

    rows = ["", f"## Audit streams: a hanging receiver ({datetime.date.today()}, {platform.machine()}, {os.cpu_count()} cores, "
                f"`{Path(os.environ.get('KMS_BIN', 'kms')).parent.name}` build)", "",
            f"`bench/audit_stream_hang.py`: {ROUNDS} alternating rounds of {SAMPLES} sequential requests without a stream and with a",
            "webhook stream whose receiver accepts connections and never answers; medians of the rounds.", "",
            "| | p50 without | p50 with | p99 without | p99 with | p99 with ÷ without |", "|---|---|---|---|---|---|"]
    for kind, label in (("login", "Universal Auth login"), ("write", "audited write (`POST /api/v1/identities`)")):
        p50a, p50b, p99a, p99b = med("without", kind, 0), med("with", kind, 0), med("without", kind, 1), med("with", kind, 1)
        rows.append(f"| {label} | {p50a:.2f} ms | {p50b:.2f} ms | {p99a:.2f} ms | {p99b:.2f} ms | {p99b / p99a:.2f} |")
    rows += ["", "Goal: login p99 with ÷ without ≤ 1.05. Requests never wait for a stream: delivery reads the log from the database",
             "in its own task per stream, with a 10 s send timeout.", ""]
    publish(rows)


if __name__ == "__main__":
    main()
