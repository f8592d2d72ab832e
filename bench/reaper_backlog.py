#!/usr/bin/env python3
"""B5: the lease reaper clearing a backlog. N expired IAM-user leases (their users exist in moto,
each with an access key) and M expired temporary-credential leases are written at once; two kms
replicas on one Postgres clear them. Leases per second ÷ boto3 deleting users of the same shape
sequentially with the same calls the provider makes, both through the same latency proxy in
front of moto (signature checking on). RSS sampled during the run; the audit log proves no lease
was settled twice. Goal: ≥ 4. Appends to docs/benchmarks.md.

  KMS_BIN=.build/release/kms KMS_TEST_POSTGRES_URL=... python3 bench/reaper_backlog.py
"""
import concurrent.futures
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests/e2e"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kms import Server, fresh_database  # noqa: E402
from latency_proxy import LatencyProxy  # noqa: E402
from moto_server import Moto  # noqa: E402
from report import psql, publish, rss_mib  # noqa: E402

# 3,000 by default, so `make bench` stays within 20 minutes on 2 cores (moto creates users at
# about 50 a second); BENCH_B5_USERS=10000 gives the full-size run the analysis quotes.
USERS = int(os.environ.get("BENCH_B5_USERS", "3000"))
TEMPORARY = int(os.environ.get("BENCH_B5_TEMPORARY", "100000"))
BASELINE = int(os.environ.get("BENCH_B5_BASELINE", "100"))
LATENCY_MS = float(os.environ.get("BENCH_B5_LATENCY_MS", "30"))






def make_users(moto, key, prefix, count):
    """Users shaped like the provider's: each with one access key. Straight to moto (not timed)."""
    def one(i):
        iam = clients.get(threading.get_ident()) or clients.setdefault(threading.get_ident(), moto.client("iam", *key))
        iam.create_user(UserName=f"{prefix}{i}")
        return iam.create_access_key(UserName=f"{prefix}{i}")["AccessKey"]["AccessKeyId"]
    clients = {}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def baseline(iam, prefix, count):
    """boto3 deleting users one after the other, with the calls the provider makes for a user it
    made without groups or policies: list and delete its keys, delete the user."""
    started = time.monotonic()
    for i in range(count):
        name = f"{prefix}{i}"
        for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=name, AccessKeyId=k["AccessKeyId"])
        iam.delete_user(UserName=name)
    return count / (time.monotonic() - started)


def clear(db, servers, where, expected):
    """Seconds until no lease matching `where` is live, with the replicas' RSS meanwhile."""
    started = time.monotonic()
    samples = {s.process.pid: [] for s in servers}
    while True:
        left = int(psql(db, f"SELECT count(*) FROM leases WHERE {where} AND status IN ('active', 'revocation_failed')"))
        for pid in samples:
            samples[pid].append(rss_mib(pid))
        if left == 0:
            return time.monotonic() - started, samples
        if time.monotonic() - started > 1800:
            raise RuntimeError(f"{left} of {expected} leases still live after 30 minutes")
        time.sleep(0.25)


def main():
    moto = Moto()
    proxy = None
    servers = []
    try:
        key = moto.seed_user("b5")
        moto.enforce()
        proxy = LatencyProxy(moto.port, LATENCY_MS)
        db = fresh_database()
        work = Path(tempfile.mkdtemp(prefix="kms-b5-"))
        (work / "a").mkdir()
        (work / "b").mkdir()
        env = {"AWS_ENDPOINT_URL": proxy.url, "KMS_LOG_LEVEL": "warning", "KMS_LEASE_REAPER_INTERVAL": "0.5"}
        first = Server(database_url=db, data_dir=str(work / "a"), env=env).start()
        servers.append(first)
        admin, org = first.bootstrap()
        project = first.call("POST", "/api/v1/projects", admin, {"projectName": "B5"}).json()["project"]
        scope = {"projectSlug": project["slug"], "environmentSlug": "dev", "path": "/"}
        secrets = {}
        for name, kind in (("b5-users", "iam-user"), ("b5-sts", "temporary-credentials")):
            r = first.call("POST", "/api/v1/dynamic-secrets", admin, {**scope, "name": name, "provider": {
                "type": "aws-iam", "inputs": {"method": "access-key", "accessKey": key[0], "secretAccessKey": key[1], "credentialType": kind}}})
            assert r.status_code == 200, r.text
            secrets[name] = r.json()["dynamicSecret"]["id"]
        servers.append(Server(database_url=db, data_dir=str(work / "b"), env=env).start())

        print(f"B5: creating {USERS} + 2 x {BASELINE} IAM users in moto ...", flush=True)
        make_users(moto, key, "b5-user-", USERS)
        make_users(moto, key, "b5-before-", BASELINE)
        make_users(moto, key, "b5-after-", BASELINE)
        # The baseline pays the same round trip as kms.
        iam = boto3.client("iam", region_name="us-east-1", endpoint_url=proxy.url, aws_access_key_id=key[0], aws_secret_access_key=key[1])
        before = baseline(iam, "b5-before-", BASELINE)

        now = int(time.time() * 1000)
        # Each lease keeps its secret's config (as kms writes it): the reaper needs nothing else.
        insert = """INSERT INTO leases (id, org_id, project_id, dynamic_secret_id, external_entity_id, status, version, created_at, updated_at,
                    expire_at, max_expire_at, provider_type, inputs, sealed_inputs)
                    SELECT '{p}' || i, '{org}', '{project}', d.id, '{e}' || i, 'active', 1, {now}, {now}, {due}, {now}, d.type, d.inputs, d.sealed_inputs
                    FROM generate_series({a}, {b}) AS i, dynamic_secrets d WHERE d.id = '{ds}'"""
        print(f"B5: {USERS} expired IAM-user leases ...", flush=True)
        psql(db, insert.format(p="b5-lease-", org=org, project=project["id"], ds=secrets["b5-users"], e="b5-user-", now=now, due=now - 1000, a=0, b=USERS - 1))
        users_seconds, users_rss = clear(db, servers, "dynamic_secret_id = '%s'" % secrets["b5-users"], USERS)
        after = baseline(iam, "b5-after-", BASELINE)

        print(f"B5: {TEMPORARY} expired temporary-credential leases ...", flush=True)
        psql(db, insert.format(p="b5-sts-", org=org, project=project["id"], ds=secrets["b5-sts"], e="b5-session-", now=now, due=now - 1000, a=0, b=TEMPORARY - 1))
        sts_seconds, sts_rss = clear(db, servers, "dynamic_secret_id = '%s'" % secrets["b5-sts"], TEMPORARY)

        settled = psql(db, "SELECT count(*), count(DISTINCT event_metadata) FROM audit_log WHERE event_type = 'lease-expired'").split("|")
        failures = psql(db, "SELECT count(*) FROM leases WHERE attempts > 0")
        left_users = len(iam.list_users(PathPrefix="/")["Users"])
        per_replica = psql(db, "SELECT count(*) FROM leases WHERE status = 'expired'")
    finally:
        for s in servers:
            s.stop()
        if proxy:
            proxy.stop()
        moto.stop()

    base = statistics.mean([before, after])
    rate = USERS / users_seconds
    rss = [v for samples in users_rss.values() for v in samples] + [v for samples in sts_rss.values() for v in samples]
    assert int(settled[0]) == USERS + TEMPORARY == int(settled[1]), f"leases settled twice or missed: {settled}"
    publish(["", f"## B5: the reaper clearing a backlog ({datetime.date.today()}, {platform.machine()}, {os.cpu_count()} cores, "
                 f"`{Path(os.environ.get('KMS_BIN', 'kms')).parent.name}` build, Postgres, 2 replicas)", "",
             f"`bench/reaper_backlog.py`: {USERS:,} expired IAM-user leases, then {TEMPORARY:,} expired temporary-credential leases, written at",
             f"once; two replicas clear them. moto (signature checking on) behind a proxy adding {LATENCY_MS:.0f} ms per request (AWS's round",
             "trip; moto alone answers in 1-2 ms). Baseline: boto3 through the same proxy deleting users of the same shape one after the",
             f"other with the calls the provider makes (mean of {BASELINE} users before and {BASELINE} after the run). Goal: ≥ 4.", "",
             "| | value |", "|---|---|",
             f"| boto3 sequential deletes (baseline) | {base:.1f} users/s (before {before:.1f}, after {after:.1f}) |",
             f"| reaper, IAM-user leases | {rate:.1f} leases/s ({USERS:,} in {users_seconds:.1f} s) |",
             f"| ratio | {rate / base:.2f} |",
             f"| reaper, temporary-credential leases (no AWS call) | {TEMPORARY / sts_seconds:,.0f} leases/s ({TEMPORARY:,} in {sts_seconds:.1f} s) |",
             f"| RSS of the replicas during the run | {min(rss):.0f} to {max(rss):.0f} MiB |",
             f"| leases settled / distinct audit entries | {settled[0]} / {settled[1]} (each exactly once across both replicas) |",
             f"| leases that needed a retry | {failures} |",
             f"| IAM users left in moto | {left_users - 1} (the seeded admin user excluded) |",
             f"| leases expired | {per_replica} |", ""])


if __name__ == "__main__":
    main()
