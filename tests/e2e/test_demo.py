"""`make demo` runs start to finish and shows every step working."""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_start_to_finish():
    result = subprocess.run(["bash", "scripts/demo.sh"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    assert "admin token: kms_at_" in out
    assert "workload token: kms_at_" in out
    assert "the leased key works: arn:aws:iam::123456789012:user/kms/" in out
    assert "revoked" in out
    assert "the session works: arn:aws:sts::123456789012:assumed-role/kms-dynamic/" in out
    assert "Action=login" in out and "SigninToken=demo-token-for-alice%40example.com" in out
    assert "audit chain intact" in out
    leaked = [line for line in out.splitlines() if "AWS_SECRET_ACCESS_KEY=" in line and "****" not in line]
    assert not leaked, "the demo prints secret keys only masked"
    # Everything it started is stopped: no moto or kms left from the demo.
    left = subprocess.run(["pgrep", "-f", "kms-demo"], capture_output=True, text=True).stdout.strip()
    assert left == ""
