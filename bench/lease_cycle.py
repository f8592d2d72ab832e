#!/usr/bin/env python3
"""B4: IAM-user lease create + revoke through kms ÷ the same IAM calls made by boto3 directly
against the same moto (CreateUser, CreateAccessKey, then DeleteAccessKey, DeleteUser), at 8
concurrent clients; throughput (cycles/s), alternating rounds, medians. Goal: ≥ 0.9. Appends to
docs/benchmarks.md.

  KMS_BIN=.build/release/kms python3 bench/lease_cycle.py
"""
import datetime
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests/e2e"))
from kms import Server  # noqa: E402
from moto_server import Moto  # noqa: E402
from report import publish  # noqa: E402

CLIENTS = int(os.environ.get("BENCH_CONCURRENCY", "8"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def throughput(cycle):
    stop = time.monotonic() + SECONDS
    counts, errors = [0] * CLIENTS, []

    def worker(i):
        while time.monotonic() < stop:
            try:
                cycle(i)
                counts[i] += 1
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(str(e)[:200])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    return sum(counts) / (time.monotonic() - started)


def main():
    moto = Moto()
    work = Path(tempfile.mkdtemp(prefix="kms-b4-"))
    server = None
    try:
        key = moto.seed_user("b4")
        moto.enforce()
        server = Server(data_dir=str(work), env={"AWS_ENDPOINT_URL": moto.url, "KMS_LOG_LEVEL": "warning"}).start()
        admin, org = server.bootstrap()
        project = server.call("POST", "/api/v1/projects", admin, {"projectName": "B4"}).json()["project"]
        scope = {"projectSlug": project["slug"], "environmentSlug": "dev", "path": "/"}
        r = server.call("POST", "/api/v1/dynamic-secrets", admin, {**scope, "name": "b4", "defaultTTL": "1h", "maxTTL": "2h", "provider": {
            "type": "aws-iam", "inputs": {"method": "access-key", "accessKey": key[0], "secretAccessKey": key[1], "credentialType": "iam-user"}}})
        assert r.status_code == 200, r.text
        sessions = [requests.Session() for _ in range(CLIENTS)]
        iams = [moto.client("iam", *key) for _ in range(CLIENTS)]

        def through_kms(i):
            s = sessions[i]
            lease = s.post(server.url + "/api/v1/dynamic-secrets/leases", json={**scope, "dynamicSecretName": "b4"},
                           headers={"Authorization": f"Bearer {admin}"}, timeout=30)
            assert lease.status_code == 200, lease.text
            gone = s.delete(server.url + f"/api/v1/dynamic-secrets/leases/{lease.json()['lease']['id']}", json=scope,
                            headers={"Authorization": f"Bearer {admin}"}, timeout=30)
            assert gone.status_code == 200, gone.text

        def direct(i):
            iam, name = iams[i], "b4-" + uuid.uuid4().hex[:12]
            iam.create_user(UserName=name)
            access = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
            iam.delete_access_key(UserName=name, AccessKeyId=access)
            iam.delete_user(UserName=name)

        throughput(through_kms), throughput(direct)  # warm-up
        rounds = {"direct": [], "kms": []}
        for n in range(ROUNDS):  # A/B then B/A: neither side always runs first
            order = [("direct", direct), ("kms", through_kms)]
            for name, fn in (order if n % 2 == 0 else order[::-1]):
                rounds[name].append(throughput(fn))
    finally:
        if server:
            server.stop()
        moto.stop()
    d, k = statistics.median(rounds["direct"]), statistics.median(rounds["kms"])
    publish(["", f"## B4: IAM-user lease create + revoke ÷ the same IAM calls made directly ({datetime.date.today()}, {platform.machine()}, "
                 f"{os.cpu_count()} cores, `{Path(os.environ.get('KMS_BIN', 'kms')).parent.name}` build)", "",
             f"`bench/lease_cycle.py`: {CLIENTS} concurrent clients for {SECONDS:.0f} s, {ROUNDS} alternating rounds, medians; moto with",
             "signature checking as IAM. Goal: ≥ 0.9.", "",
             "| | cycles/s |", "|---|---|",
             f"| boto3 straight to IAM (CreateUser, CreateAccessKey, DeleteAccessKey, DeleteUser) | {d:.1f} |",
             f"| lease create + revoke through kms | {k:.1f} |",
             f"| ratio | {k / d:.2f} |", ""])


if __name__ == "__main__":
    main()
