#!/usr/bin/env bash
# Starts a private PostgreSQL, runs the requested suites (default: swift and e2e) against it,
# and stops it again whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/pg-start.sh)"
trap 'scripts/pg-stop.sh' EXIT
suites=("$@"); [ ${#suites[@]} -gt 0 ] || suites=(swift e2e browser)
for suite in "${suites[@]}"; do
  case "$suite" in
    swift) swift test ;;
    e2e) KMS_BIN="$PWD/.build/debug/kms" python3 -m pytest -q tests/e2e ;;
    # The web console in Debian's Chromium; screenshots go to .build/test-output/browser.
    browser) KMS_BIN="$PWD/.build/debug/kms" python3 -m pytest -q tests/browser ;;
    # bench.py writes docs/benchmarks.md anew; the others append their sections.
    bench) for b in bench.py login_flood.py audit_stream_hang.py agent_idle.py aws_auth_login.py lease_cycle.py reaper_backlog.py scale.py; do
             started=$(date +%s)
             echo "== bench/$b"
             KMS_BIN="$PWD/.build/release/kms" python3 "bench/$b"
             echo "== bench/$b took $(( $(date +%s) - started )) s"
           done
           cat bench/analysis.md >> docs/benchmarks.md ;;
    *) echo "unknown suite $suite" >&2; exit 2 ;;
  esac
done
