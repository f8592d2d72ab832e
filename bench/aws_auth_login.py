#!/usr/bin/env python3
"""B1: an AWS Auth login through kms ÷ the same signed GetCallerIdentity sent straight to the same
moto (its physical limit: kms must make that call), on SQLite and on Postgres. Alternating rounds
of sequential requests, medians of the rounds, p50 and p99. Goal: ≤ 1.10 at p50. The same rounds
time `GET /api/status` on kms (no work behind it): the price of the one HTTP hop a login adds to
the direct call, so (direct + status) ÷ direct is the ratio a server doing nothing but forwarding
would reach with this client. Appends to docs/benchmarks.md.

  KMS_BIN=.build/release/kms python3 bench/aws_auth_login.py
"""
import base64
import datetime
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests/e2e"))
from kms import Server, fresh_database  # noqa: E402
from moto_server import Moto  # noqa: E402
from report import publish  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "200"))
BODY = "Action=GetCallerIdentity&Version=2011-06-15"
HOST = "sts.us-east-1.amazonaws.com"


def signed(key):
    request = AWSRequest(method="POST", url=f"https://{HOST}/", data=BODY)
    request.headers["Host"] = HOST
    request.headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    SigV4Auth(Credentials(*key), "sts", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def percentiles(samples):
    samples = sorted(samples)
    return samples[len(samples) // 2], samples[max(0, int(len(samples) * 0.99) - 1)]


def measure(session, call, key, n):
    out = []
    for _ in range(n):
        headers = signed(key)  # signing is the client's work in both cases: not timed
        started = time.perf_counter()
        r = call(session, headers)
        out.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, r.text
    return percentiles(out)


def phase_means(server):
    """Mean milliseconds of each login phase and of the STS round trip, from kms's /metrics
    (every login of the run, warm-up included)."""
    sums, counts = {}, {}
    for line in requests.get(server.url + "/metrics", timeout=10).text.splitlines():
        m = re.match(r'(kms_login_phase_seconds|kms_aws_auth_sts_seconds|http_server_request_duration)_(sum|count)\{?(.*?)\}? ([\d.e+-]+)$', line)
        if not m or (m.group(1) == "kms_login_phase_seconds" and 'method="aws-auth"' not in m.group(3)) \
                or (m.group(1) == "http_server_request_duration" and '"/api/v1/auth/aws-auth/login"' not in m.group(3)):
            continue
        phase = re.search(r'phase="(\w+)"', m.group(3))
        name = phase.group(1) if phase else {"kms_aws_auth_sts_seconds": "sts", "http_server_request_duration": "request"}[m.group(1)]
        (sums if m.group(2) == "sum" else counts)[name] = float(m.group(4))
    return {name: sums[name] / counts[name] * 1000 for name in sums if counts.get(name)}


def run(store, moto, key):
    work = Path(tempfile.mkdtemp(prefix="kms-b1-"))
    env = {"AWS_ENDPOINT_URL_STS": moto.url, "KMS_LOG_LEVEL": "warning"}
    server = Server(database_url=fresh_database() if store == "postgres" else None, data_dir=str(work), env=env).start()
    try:
        admin, org = server.bootstrap()
        identity = server.call("POST", "/api/v1/identities", admin, {"name": "b1", "organizationId": org}).json()["identity"]["id"]
        r = server.call("POST", f"/api/v1/auth/aws-auth/identities/{identity}", admin,
                        {"allowedPrincipalArns": "arn:aws:iam::123456789012:user/b1", "allowedAccountIds": "123456789012", "lockoutEnabled": False})
        assert r.status_code == 200, r.text
        direct = lambda s, headers: s.post(moto.url + "/", data=BODY, headers=headers, timeout=10)
        login = lambda s, headers: s.post(server.url + "/api/v1/auth/aws-auth/login", timeout=10, json={
            "identityId": identity, "iamHttpRequestMethod": "POST", "iamRequestBody": base64.b64encode(BODY.encode()).decode(),
            "iamRequestHeaders": base64.b64encode(json.dumps(headers).encode()).decode()})
        session = requests.Session()
        measure(session, direct, key, 30), measure(session, login, key, 30)  # warm-up
        status = lambda s, headers: s.get(server.url + "/api/status", timeout=10)
        measure(session, status, key, 30)
        rounds = {"direct": [], "kms": [], "status": []}
        for n in range(ROUNDS):  # A/B/C then C/B/A: no side always runs first
            order = [("direct", direct), ("kms", login), ("status", status)]
            for name, fn in (order if n % 2 == 0 else order[::-1]):
                rounds[name].append(measure(session, fn, key, SAMPLES))
        out = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for k, v in rounds.items()}
        out["phases"] = phase_means(server)
        return out
    finally:
        server.stop()


def main():
    moto = Moto()
    try:
        key = moto.seed_user("b1")
        moto.enforce()
        stores = ["sqlite"] + (["postgres"] if os.environ.get("KMS_TEST_POSTGRES_URL") else [])
        results = {store: run(store, moto, key) for store in stores}
    finally:
        moto.stop()
    rows = ["", f"## B1: AWS Auth login ÷ the same GetCallerIdentity straight to STS ({datetime.date.today()}, {platform.machine()}, "
                f"{os.cpu_count()} cores, `{Path(os.environ.get('KMS_BIN', 'kms')).parent.name}` build)", "",
            f"`bench/aws_auth_login.py`: moto (signature checking on) as STS; {ROUNDS} alternating rounds of {SAMPLES} sequential requests,",
            "each freshly signed by botocore (signing not timed); medians of the rounds. Goal: ≤ 1.10 at p50.",
            "`/api/status` is timed in the same rounds: one HTTP hop to kms with no work behind it, which a login adds to the",
            "direct call whatever kms does; the floor is (direct + status) ÷ direct, what a server that only forwarded would reach.", "",
            "| store | direct p50 | kms p50 | ratio p50 | `/api/status` p50 | floor p50 | direct p99 | kms p99 | ratio p99 |",
            "|---|---|---|---|---|---|---|---|---|"]
    for store, r in results.items():
        (d50, d99), (k50, k99), (s50, _) = r["direct"], r["kms"], r["status"]
        rows.append(f"| {store} | {d50:.2f} ms | {k50:.2f} ms | {k50 / d50:.2f} | {s50:.2f} ms | {(d50 + s50) / d50:.2f} | "
                    f"{d99:.2f} ms | {k99:.2f} ms | {k99 / d99:.2f} |")
    rows += ["", "Where a login's time goes, from kms's own histograms (`kms_login_phase_seconds`, `kms_aws_auth_sts_seconds`;",
             "means in ms over every login of the run). `lookup` (the config and the lockout record) runs while STS is asked;",
             "`verify` is the wait for STS after the lookup plus checking the caller against the config; `issue` writes the token and",
             "the audit entry of its issue in one commit.", "",
             "| store | STS round trip | lookup (overlapped) | verify | issue (token + audit entry) | whole request in kms | server's own work* |",
             "|---|---|---|---|---|---|---|"]
    for store, r in results.items():
        p = r["phases"]
        own = r["kms"][0] - p.get("sts", 0)
        rows.append(f"| {store} | {p.get('sts', 0):.2f} | {p.get('lookup', 0):.2f} | {p.get('verify', 0):.2f} | {p.get('issue', 0):.2f} | "
                    f"{p.get('request', 0):.2f} | {own:.2f} ({own / r['kms'][0]:.0%}) |")
    rows += ["", "\\* kms p50 minus the STS round trip kms itself measured: the HTTP hop to kms, parsing and checking the signed",
             "request, the durable write, and the answer. \"Whole request in kms\" is Hummingbird's own request timer; what the",
             "client measures beyond it is its connection to kms and its own JSON work.", ""]
    publish(rows)


if __name__ == "__main__":
    main()
