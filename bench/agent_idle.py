#!/usr/bin/env python3
"""What a `kms agent` costs a workload: idle RSS, CPU seconds per hour of idle running, and the
latency of its container-credentials endpoint (p50, p99) against the same listener's /healthz
(the baseline: the same server and socket, no credentials work). Runs kms, moto and the agent
locally; appends to docs/benchmarks.md.

  KMS_BIN=.build/release/kms python3 bench/agent_idle.py
"""
import datetime
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests/e2e"))
from kms import KMS_BIN, Server, free_port, wait_until  # noqa: E402
from moto_server import Moto  # noqa: E402
from report import publish  # noqa: E402

IDLE_SECONDS = int(os.environ.get("BENCH_IDLE_SECONDS", "60"))
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "2000"))


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def latencies(session, url, headers, n):
    out = []
    for _ in range(n):
        started = time.perf_counter()
        r = session.get(url, headers=headers, timeout=10)
        out.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, r.text
    out.sort()
    return out[len(out) // 2], out[int(len(out) * 0.99) - 1]


def main():
    work = Path(tempfile.mkdtemp(prefix="kms-agent-bench-"))
    moto = Moto()
    key = moto.seed_user("bench-keys")
    (work / "kms").mkdir()
    server = Server(data_dir=str(work / "kms"), env={"AWS_ENDPOINT_URL": moto.url, "KMS_LOG_LEVEL": "warning"}).start()
    agent = None
    try:
        admin, org = server.bootstrap()
        project = server.call("POST", "/api/v1/projects", admin, {"projectName": "Bench"}).json()["project"]
        identity = server.call("POST", "/api/v1/identities", admin, {"name": "agent", "organizationId": org}).json()["identity"]["id"]
        client_id = server.call("POST", f"/api/v1/auth/universal-auth/identities/{identity}", admin, {"accessTokenTTL": 3600}).json()["identityUniversalAuth"]["clientId"]
        secret = server.call("POST", f"/api/v1/auth/universal-auth/identities/{identity}/client-secrets", admin, {}).json()["clientSecret"]
        server.call("POST", f"/api/v1/projects/{project['id']}/identity-memberships/{identity}", admin, {"role": "member"})
        r = server.call("POST", "/api/v1/dynamic-secrets", admin, {"name": "bench", "projectSlug": project["slug"], "environmentSlug": "dev", "path": "/",
                                                                 "defaultTTL": "1h", "maxTTL": "2h", "provider": {"type": "aws-iam", "inputs": {
                                                                     "method": "access-key", "accessKey": key[0], "secretAccessKey": key[1], "credentialType": "iam-user"}}})
        assert r.status_code == 200, r.text
        (work / "client-id").write_text(client_id)
        (work / "client-secret").write_text(secret)
        port = free_port()
        (work / "agent.yaml").write_text(textwrap.dedent(f"""\
            server: {server.url}
            auth:
              method: universal-auth
              clientIdFile: {work}/client-id
              clientSecretFile: {work}/client-secret
            tokenSinks:
              - path: {work}/token
            awsCredentials:
              - name: bench
                projectSlug: {project['slug']}
                environmentSlug: dev
                dynamicSecret: bench
                ttl: 1h
                leadTime: 5m
                endpoint:
                  listen: 127.0.0.1:{port}
                  authTokenFile: {work}/endpoint-token
            """))
        env = {**os.environ, "AWS_ENDPOINT_URL": moto.url, "AWS_ACCESS_KEY_ID": "unused", "AWS_SECRET_ACCESS_KEY": "unused"}
        log = open(work / "agent.log", "wb")
        agent = subprocess.Popen([KMS_BIN, "agent", "--config", str(work / "agent.yaml")], env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: (work / "endpoint-token").exists() and requests.get(base + "/healthz").status_code == 200, "a healthy agent")
        time.sleep(2)
        rss_start, cpu_start = rss_kib(agent.pid), cpu_seconds(agent.pid)
        time.sleep(IDLE_SECONDS)
        rss_idle, cpu_idle = rss_kib(agent.pid), cpu_seconds(agent.pid) - cpu_start
        session = requests.Session()
        token = {"Authorization": (work / "endpoint-token").read_text()}
        latencies(session, base + "/v1/credentials/bench", token, 100)  # warm-up
        rounds = {"creds": [], "health": []}
        for _ in range(3):
            rounds["creds"].append(latencies(session, base + "/v1/credentials/bench", token, SAMPLES // 3))
            rounds["health"].append(latencies(session, base + "/healthz", {}, SAMPLES // 3))
        rss_loaded = rss_kib(agent.pid)
    finally:
        if agent:
            agent.send_signal(signal.SIGTERM)
            agent.wait(timeout=60)
        server.stop()
        moto.stop()

    med = lambda kind, i: sorted(x[i] for x in rounds[kind])[1]
    cpu_per_hour = cpu_idle * 3600 / IDLE_SECONDS
    rows = ["", f"## kms agent at rest ({datetime.date.today()}, {platform.machine()}, {os.cpu_count()} cores, "
                f"`{Path(os.environ.get('KMS_BIN', KMS_BIN)).parent.name}` build)", "",
            f"`bench/agent_idle.py`: an agent with Universal Auth and one AWS credential (iam-user lease, 1 h), idle for {IDLE_SECONDS} s,",
            f"then {SAMPLES} sequential requests to its endpoint in 3 alternating rounds with the same listener's `/healthz` as the baseline.", "",
            "| | value |", "|---|---|",
            f"| idle RSS | {rss_idle / 1024:.1f} MiB (at the start of the idle period: {rss_start / 1024:.1f} MiB; after the load: {rss_loaded / 1024:.1f} MiB) |",
            f"| CPU while idle | {cpu_per_hour:.1f} CPU-seconds per hour ({cpu_idle:.2f} s in {IDLE_SECONDS} s) |",
            f"| `GET /v1/credentials/NAME` p50 / p99 | {med('creds', 0):.2f} ms / {med('creds', 1):.2f} ms |",
            f"| `GET /healthz` (baseline) p50 / p99 | {med('health', 0):.2f} ms / {med('health', 1):.2f} ms |",
            f"| credentials ÷ baseline, p99 | {med('creds', 1) / med('health', 1):.2f} |", ""]
    publish(rows)


if __name__ == "__main__":
    main()
