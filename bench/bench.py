#!/usr/bin/env python3
"""Benchmarks: every figure is a ratio against a baseline measured in the same run, on the same
server and the same Postgres, at the same concurrency. Writes docs/benchmarks.md.

  authenticated throughput / unauthenticated /api/status throughput   (goal >= 0.8)
  num-uses-limited token throughput / pgbench single-row UPDATE tps     (goal >= 0.5)
  idle and loaded RSS, start-up time to ready.
"""
import datetime
import platform
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests/e2e"))
from kms import Server, fresh_database, postgres_url  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import rss_mib  # noqa: E402

CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))
DURATION = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
ROOT = Path(__file__).resolve().parents[1]


def wrk(url, token=None):
    cmd = ["wrk", "-t", "2", "-c", str(CONCURRENCY), "-d", f"{DURATION}s", "--latency", url]
    if token:
        cmd[1:1] = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    return rps, int(non2xx.group(1)) if non2xx else 0, p99.group(1) if p99 else "?"


def pgbench(db_url):
    subprocess.run(["psql", db_url, "-q", "-c", "CREATE TABLE IF NOT EXISTS bench_counter (id INT PRIMARY KEY, n BIGINT); "
                    "INSERT INTO bench_counter VALUES (1, 0) ON CONFLICT DO NOTHING"], check=True, capture_output=True)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write("UPDATE bench_counter SET n = n + 1 WHERE id = 1;\n")
    out = subprocess.run(["pgbench", "-n", "-c", str(CONCURRENCY), "-j", "2", "-T", str(DURATION), "-f", f.name, db_url],
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))




def startup_seconds(db_url, runs=3):
    times = []
    for _ in range(runs):
        server = Server(database_url=db_url)
        started = time.monotonic()
        server.start()
        times.append(time.monotonic() - started)
        server.stop()
    return statistics.median(times)


def main():
    db_url = fresh_database()
    server = Server(database_url=db_url, env={"KMS_LOG_LEVEL": "warning"}).start()
    try:
        admin, org_id = server.bootstrap()
        unlimited, _ = server.limited_token(admin, org_id, uses=0)
        limited, _ = server.limited_token(admin, org_id, uses=1_000_000_000)
        idle = rss_mib(server.process.pid)
        wrk(server.url + "/api/status")  # warm-up
        runs = {"status": [], "auth": [], "limited": [], "pgbench": []}
        measure = {"status": lambda: wrk(server.url + "/api/status"), "auth": lambda: wrk(server.url + "/api/v1/auth/token/self", unlimited),
                   "limited": lambda: wrk(server.url + "/api/v1/auth/token/self", limited), "pgbench": lambda: (pgbench(db_url), 0, "")}
        order = list(measure)
        for n in range(ROUNDS):  # each round in the other order: no side always runs first
            for name in (order if n % 2 == 0 else order[::-1]):
                runs[name].append(measure[name]())
        loaded = rss_mib(server.process.pid)
    finally:
        server.stop()
    startup = startup_seconds(db_url)

    def median(name):
        rps = statistics.median(r[0] for r in runs[name])
        errors = sum(r[1] for r in runs[name])
        p99 = sorted(runs[name], key=lambda r: r[0])[len(runs[name]) // 2][2]
        return rps, errors, p99
    status_rps, _, status_p99 = median("status")
    auth_rps, auth_errors, auth_p99 = median("auth")
    limited_rps, limited_errors, limited_p99 = median("limited")
    update_tps = median("pgbench")[0]

    rows = [
        ("Unauthenticated `GET /api/status` (baseline 1)", f"{status_rps:,.0f} req/s", f"p99 {status_p99}"),
        ("Authenticated `GET /api/v1/auth/token/self`", f"{auth_rps:,.0f} req/s", f"p99 {auth_p99}, non-2xx {auth_errors}"),
        ("Same with a num-uses-limited token", f"{limited_rps:,.0f} req/s", f"p99 {limited_p99}, non-2xx {limited_errors}"),
        ("pgbench single-row UPDATE (baseline 2)", f"{update_tps:,.0f} tps", ""),
    ]
    ratio_auth = auth_rps / status_rps
    ratio_limited = limited_rps / update_tps
    report = f"""# Benchmarks

Measured by `make bench` (`bench/bench.py`) on {datetime.date.today().isoformat()}: release build of `kms`
on Postgres 15 (fsync off, same machine), {os.cpu_count()} cores ({platform.machine()}), wrk with {CONCURRENCY} connections for {DURATION} s
per run, {ROUNDS} rounds alternating their order, medians (the p99 is that of the median run); pgbench at
the same concurrency against the same Postgres. Figures vary between machines; the ratios are
what the goals are about, since both sides run in the same conditions in the same run.

| measurement | result | notes |
|---|---|---|
""" + "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows) + f"""

| ratio | value | goal |
|---|---|---|
| B2: authenticated / unauthenticated | {ratio_auth:.2f} | >= 0.9 |
| B3: num-uses-limited token / pgbench single-row UPDATE | {ratio_limited:.2f} | >= 0.5 |

| resource | value |
|---|---|
| RSS idle (after bootstrap) | {idle:.0f} MiB |
| RSS under load | {loaded:.0f} MiB |
| start-up to ready (median of 3, migrations already applied) | {startup:.2f} s |

Every figure below is from this run of `make bench`; the profiles and what each change bought
are in "Where the time goes" at the end.
"""
    if os.environ.get("BENCH_WRITE", "1") == "1":  # a trial run leaves the document alone
        (ROOT / "docs/benchmarks.md").write_text(report)
    print(report)
    if auth_errors or limited_errors:
        print("unexpected non-2xx answers during the run", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
