#!/usr/bin/env python3
"""B6 and B7: the server at 1,000 and 1,000,000 rows each of access tokens, leases and audit
entries (filled with generate_series and COPY, then VACUUM ANALYZE), on Postgres, release build.

B6: token check, Universal Auth login, the lease list of one secret, the audit list's first page
and page 1,000 with a filter (keyset, and offset for comparison), and verifying an organization's
last 10,000 entries (and last 1,000: linear?). p50 at each size as the tables grow (the plot);
the ratio compares the largest size with a second server at the smallest, measured in alternating
rounds (medians), so a slow minute of this shared machine does not land on one side; goal ≤ 1.2.
B7: idle RSS, RSS under the B2 load (wrk, authenticated GET), start-up to ready with 1M rows.
Writes a plot (latency against table size) to docs/benchmarks-scale.png and appends to
docs/benchmarks.md.

  KMS_BIN=.build/release/kms KMS_TEST_POSTGRES_URL=... python3 bench/scale.py
"""
import datetime
import hashlib
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests/e2e"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kms import Server, fresh_database  # noqa: E402
from report import ROOT, psql, publish, rss_mib  # noqa: E402

SIZES = [int(x) for x in os.environ.get("BENCH_B6_SIZES", "1000,10000,100000,1000000").split(",")]
REQUESTS = int(os.environ.get("BENCH_B6_REQUESTS", "200"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
EVENT_TYPES = [f"filler-{i}" for i in range(10)]






def timed(fn, n, warmup=3):
    """p50 and p99 of `n` calls, after `warmup` untimed ones (the first reads of a table just
    grown come from disk, which is a cold cache, not the table's size)."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


class World:
    def __init__(self):
        self.db = fresh_database()
        self.dir = Path(tempfile.mkdtemp(prefix="kms-b6-"))
        self.server = Server(database_url=self.db, data_dir=str(self.dir), env={"KMS_LOG_LEVEL": "warning"}).start()
        s = self.server
        self.admin, self.org = s.bootstrap()
        self.project = s.call("POST", "/api/v1/projects", self.admin, {"projectName": "B6"}).json()["project"]
        identity = s.call("POST", "/api/v1/identities", self.admin, {"name": "b6", "organizationId": self.org}).json()["identity"]
        self.identity = identity["id"]
        s.call("POST", f"/api/v1/auth/token-auth/identities/{self.identity}", self.admin, {})
        self.token = s.call("POST", f"/api/v1/auth/token-auth/identities/{self.identity}/tokens", self.admin, {}).json()["accessToken"]
        ua = s.call("POST", f"/api/v1/auth/universal-auth/identities/{self.identity}", self.admin, {}).json()["identityUniversalAuth"]
        self.client_id = ua["clientId"]
        self.client_secret = s.call("POST", f"/api/v1/auth/universal-auth/identities/{self.identity}/client-secrets", self.admin, {}).json()["clientSecret"]
        self.scope = {"projectSlug": self.project["slug"], "environmentSlug": "dev", "path": "/"}
        # The secret's row is written directly: its provider would call AWS to validate.
        self.secret = "b6-secret"
        env = psql(self.db, f"SELECT id FROM environments WHERE project_id = '{self.project['id']}' AND slug = 'dev'")
        now = int(time.time() * 1000)
        psql(self.db, f"""INSERT INTO dynamic_secrets (id, org_id, project_id, environment_id, path, name, type, version, default_ttl, max_ttl,
                          inputs, sealed_inputs, created_at, updated_at) VALUES ('b6-secret-id', '{self.org}', '{self.project['id']}', '{env}', '/',
                          'b6-secret', 'aws-iam', 1, 3600, 86400, '{{}}', '', {now}, {now})""")
        self.rows = {"tokens": 0, "leases": 0, "audit": 0}
        self.session = requests.Session()

    def count(self):
        return {"tokens": int(psql(self.db, "SELECT count(*) FROM access_tokens")), "leases": int(psql(self.db, "SELECT count(*) FROM leases")),
                "audit": int(psql(self.db, "SELECT count(*) FROM audit_log"))}

    def grow(self, size):
        """Adds rows until each table holds `size`."""
        have = self.count()
        now = int(time.time() * 1000)
        if have["tokens"] < size:
            psql(self.db, f"""INSERT INTO access_tokens (id, token_hash, org_id, identity_id, auth_method, ttl, max_ttl, created_at, expires_at,
                              max_expires_at, num_uses_limit, trusted_ips) SELECT 'b6-t-' || i || '-{uuid.uuid4().hex[:6]}', md5(random()::text || i),
                              '{self.org}', '{self.identity}', 'token-auth', 3600, 3600, {now}, {now + 3600_000}, {now + 3600_000}, 0, '[]'
                              FROM generate_series(1, {size - have['tokens']}) AS i""")
        if have["leases"] < size:
            psql(self.db, f"""INSERT INTO leases (id, org_id, project_id, dynamic_secret_id, external_entity_id, status, version, created_at, updated_at,
                              expire_at, max_expire_at) SELECT 'b6-l-' || i || '-{uuid.uuid4().hex[:6]}', '{self.org}', '{self.project['id']}',
                              'b6-secret-id', 'user-' || i, 'expired', 2, {now} - i, {now}, {now}, {now}
                              FROM generate_series(1, {size - have['leases']}) AS i""")
        if have["audit"] < size:
            self.extend_chain(size - have["audit"])
        psql(self.db, "VACUUM ANALYZE")
        # The bulk load's dirty pages are written now, not by a checkpoint competing with the
        # measurements for this machine's two cores (argon2 in the login is CPU-bound).
        psql(self.db, "CHECKPOINT")

    def extend_chain(self, n):
        """Appends n entries to the organization's chain with real hashes (as kms computes them),
        so verifying the last ones checks a valid chain."""
        head = psql(self.db, f"SELECT seq, last_hash FROM audit_heads WHERE org_id = '{self.org}'").split("|")
        seq, prev = int(head[0]), head[1]
        created = int(time.time() * 1000)
        out = io.StringIO()
        actor = json.dumps({"type": "system"}, separators=(",", ":"))
        for i in range(n):
            seq += 1
            entry_id = str(uuid.uuid4())
            event = EVENT_TYPES[seq % len(EVENT_TYPES)]
            metadata = json.dumps({"n": str(seq)}, separators=(",", ":"))
            fields = [prev, entry_id, self.org, str(seq), event, actor, "", "", "", metadata, str(created)]
            digest = hashlib.sha256("\x1f".join(fields).encode()).hexdigest()
            out.write("\t".join([entry_id, self.org, str(seq), prev, digest, event, "system", "\\N", actor, "\\N", "\\N", "\\N", metadata, str(created)]) + "\n")
            prev = digest
        psql(self.db, "\\copy audit_log (id, org_id, seq, prev_hash, hash, event_type, actor_type, actor_id, actor_metadata, ip_address, user_agent, "
                      "project_id, event_metadata, created_at) FROM STDIN", stdin=out.getvalue())
        psql(self.db, f"UPDATE audit_heads SET seq = {seq}, last_hash = '{prev}' WHERE org_id = '{self.org}'")

    def get(self, path, token=None):
        r = self.session.get(self.server.url + path, headers={"Authorization": f"Bearer {token or self.admin}"}, timeout=120)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        return r.json()

    def measure(self):
        s = self.server
        org = self.org
        q = "&".join(f"{k}={v}" for k, v in self.scope.items())
        results = {
            "token check": timed(lambda: self.get("/api/v1/auth/token/self", self.token), REQUESTS),
            "Universal Auth login": timed(lambda: self.session.post(s.url + "/api/v1/auth/universal-auth/login",
                                                                    json={"clientId": self.client_id, "clientSecret": self.client_secret}).raise_for_status(), 40),
            "lease list of one secret": timed(lambda: self.get(f"/api/v1/dynamic-secrets/{self.secret}/leases?{q}"), 100),
            "audit first page, filtered": timed(lambda: self.get(f"/api/v1/organizations/{org}/audit-logs?eventType=filler-3&limit=50"), REQUESTS),
        }
        # Page 1,000 of the filtered list (or the deepest page there is), by keyset and by offset.
        per_type = int(psql(self.db, f"SELECT count(*) FROM audit_log WHERE org_id = '{org}' AND event_type = 'filler-3'"))
        page = min(1000, max(1, per_type // 50))
        before = psql(self.db, f"""SELECT seq FROM audit_log WHERE org_id = '{org}' AND event_type = 'filler-3' ORDER BY seq DESC
                                   OFFSET {(page - 1) * 50} LIMIT 1""") or "1"
        self.last_page = page
        results["audit deep page, filtered (keyset)"] = timed(lambda: self.get(f"/api/v1/organizations/{org}/audit-logs?eventType=filler-3&limit=50&before={int(before) + 1}"), REQUESTS)
        results["audit deep page, filtered (offset)"] = timed(lambda: self.get(f"/api/v1/organizations/{org}/audit-logs?eventType=filler-3&limit=50&offset={(page - 1) * 50}"), 40)
        for last in (1000, 10000):
            if self.count()["audit"] >= last:
                # 30 samples of the short verify: at 20 ms each, 10 were at the mercy of this VM's noise.
                results[f"verify last {last:,}"] = timed(lambda: self.get(f"/api/v1/organizations/{org}/audit-logs/verify?last={last}"), 30 if last == 1000 else 10)
        return results

    def b7(self):
        starts = []
        for _ in range(3):
            self.server.stop()
            t = time.monotonic()
            self.server.start()
            starts.append(time.monotonic() - t)
        time.sleep(2)
        pid = self.server.process.pid
        idle = rss_mib(pid)  # a fresh process, ready and at rest
        peak = idle
        if shutil.which("wrk"):
            proc = subprocess.Popen(["wrk", "-t2", "-c16", "-d10s", "-H", f"Authorization: Bearer {self.token}", self.server.url + "/api/v1/auth/token/self"],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            while proc.poll() is None:
                peak = max(peak, rss_mib(pid))
                time.sleep(0.2)
        return idle, peak, statistics.median(starts)


def plot(series, sizes, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 5))
    for name, values in series.items():
        ax.plot(sizes[:len(values)], values, marker="o", label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rows in each of access_tokens, leases, audit_log")
    ax.set_ylabel("p50 latency (ms)")
    ax.set_title("kms latency against table size (Postgres, release build)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def alternating(small_world, big_world):
    """Each measurement's p50 on both worlds, over ROUNDS rounds in alternating order; medians."""
    runs = {"small": [], "big": []}
    for n in range(ROUNDS):
        order = [("small", small_world), ("big", big_world)]
        for side, w in (order if n % 2 == 0 else order[::-1]):
            runs[side].append(w.measure())
    return {side: {name: statistics.median(r[name][0] for r in rs) for name in rs[0]} for side, rs in runs.items()}


def main():
    world = World()
    baseline = None
    table, pages = {}, {}
    try:
        for size in SIZES:
            print(f"B6: growing to {size:,} rows each ...", flush=True)
            world.grow(size)
            table[size] = world.measure()
            pages[size] = world.last_page
            print(f"B6: {size:,}: " + ", ".join(f"{k} {v[0]:.2f} ms" for k, v in table[size].items()), flush=True)
        print(f"B6: {ROUNDS} alternating rounds, {SIZES[-1]:,} rows against a second server at {SIZES[0]:,} ...", flush=True)
        baseline = World()
        baseline.grow(SIZES[0])
        medians = alternating(baseline, world)
        idle, peak, start = world.b7()
    finally:
        world.server.stop()
        if baseline:
            baseline.server.stop()
    small, big = SIZES[0], SIZES[-1]
    names = list(dict.fromkeys(k for s in SIZES for k in table[s]))
    series = {name: [table[s][name][0] for s in SIZES if name in table[s]] for name in names if "verify" not in name}
    # BENCH_WRITE=0 (a trial run) leaves the docs alone, the plot included.
    png = ROOT / "docs/benchmarks-scale.png" if os.environ.get("BENCH_WRITE", "1") == "1" else Path(tempfile.mkdtemp()) / "benchmarks-scale.png"
    plot(series, SIZES, png)
    rows = ["", f"## B6 and B7: a million rows ({datetime.date.today()}, {platform.machine()}, {os.cpu_count()} cores, "
                f"`{Path(os.environ.get('KMS_BIN', 'kms')).parent.name}` build, Postgres)", "",
            f"`bench/scale.py`: access tokens, leases (all of one secret) and audit entries (all of one organization, a valid chain) grown to",
            f"{', '.join(f'{s:,}' for s in SIZES)} rows each (generate_series and COPY, then VACUUM ANALYZE); sequential requests, p50 / p99 in ms.",
            "Goal: p50 at the largest size ÷ p50 at the smallest ≤ 1.2 (verify: linear in the entries checked). The columns by size are",
            f"measured as the tables grow (the plot); the ratio is of medians over {ROUNDS} alternating rounds between this server at",
            f"{big:,} rows and a second one at {small:,}, so neither side gets all of a slow minute of this shared machine.", "",
            "The deep page is page " + ", ".join(f"{pages[s]:,} at {s:,}" for s in SIZES) + " (the deepest there is, at most 1,000).", "",
            "| measurement | " + " | ".join(f"{s:,} rows" for s in SIZES) + f" | ratio {big:,} ÷ {small:,} |",
            "|---|" + "---|" * (len(SIZES) + 1)]
    for name in names:
        cells = []
        for s in SIZES:
            v = table[s].get(name)
            cells.append(f"{v[0]:.2f} / {v[1]:.2f}" if v else "–")
        ratio = f"{medians['big'][name] / medians['small'][name]:.2f}" if name in medians["big"] and name in medians["small"] else "–"
        rows.append(f"| {name} | " + " | ".join(cells) + f" | {ratio} |")
    blank = " |" * len(SIZES)
    rows.append(f"| deepest keyset page at {big:,} ÷ first page at {small:,} |{blank} "
                f"{medians['big']['audit deep page, filtered (keyset)'] / medians['small']['audit first page, filtered']:.2f} |")
    if "verify last 1,000" in medians["big"] and "verify last 10,000" in medians["big"]:
        rows.append(f"| verify last 10,000 ÷ last 1,000 at {big:,} (linear: 10) |{blank} "
                    f"{medians['big']['verify last 10,000'] / medians['big']['verify last 1,000']:.1f} |")
    print(f"B6 plot: {png}")
    rows += ["", "![latency against table size](benchmarks-scale.png)", "",
             "| B7 | value | goal |", "|---|---|---|",
             f"| idle RSS ({big:,} rows each, a fresh process at rest) | {idle:.0f} MiB | ≤ 40 MB |",
             f"| RSS under the B2 load (wrk, 16 connections, authenticated GET) | {peak:.0f} MiB | ≤ 150 MB |",
             f"| start-up to ready with {big:,} rows each (median of 3) | {start:.2f} s | ≤ 0.5 s |", ""]
    publish(rows)


if __name__ == "__main__":
    main()
