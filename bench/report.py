"""Shared by the benchmark scripts: print a section and append it to docs/benchmarks.md
(unless BENCH_WRITE=0)."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def publish(rows):
    text = "\n".join(rows)
    print(text)
    if os.environ.get("BENCH_WRITE", "1") == "1":
        with open(ROOT / "docs/benchmarks.md", "a") as f:
            f.write(text)


def rss_mib(pid):
    """A process's resident memory in MiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def psql(url, sql, stdin=None):
    """Runs one statement (or `\\copy` with `stdin`) and returns its unaligned output."""
    import subprocess
    return subprocess.run(["psql", url, "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql], input=stdin, check=True, capture_output=True, text=True).stdout.strip()
