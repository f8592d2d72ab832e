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
