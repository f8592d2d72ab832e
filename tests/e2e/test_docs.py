"""Docs cannot rot: JSON in docs parses, Python parses, and every `kms` command shown uses real
subcommands and options of the built binary (the same commands run in the demo and e2e suites)."""
import json
import re
import shlex
import subprocess
from pathlib import Path

from kms import KMS_BIN

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]


def blocks(lang):
    for doc in DOCS:
        for match in re.finditer(rf"```{lang}\n(.*?)```", doc.read_text(), re.S):
            yield doc.name, match.group(1)


def test_json_blocks_parse():
    found = 0
    for name, text in blocks("json"):
        json.loads(text)
        found += 1
    assert found >= 3


def test_python_blocks_compile():
    for name, text in blocks("python"):
        compile(text, name, "exec")


def kms_commands():
    for name, text in blocks("sh"):
        joined = text.replace("\\\n", " ")
        for line in joined.splitlines():
            line = re.sub(r"^eval \"\$\(|\)\"$", "", line.split("  #")[0].strip())
            line = re.sub(r"^[A-Z_]+=\S+ ", "", line)
            if line.startswith("kms "):
                yield name, line


def test_every_kms_command_in_the_docs_exists():
    seen = 0
    for name, line in kms_commands():
        words = shlex.split(line)[1:]
        path = []
        for w in words:
            if w.startswith("-") or w.isupper() or "_" in w or "@" in w or "/" in w or w[0].isdigit():
                break
            path.append(w)
        help_text = subprocess.run([KMS_BIN, *path, "--help"], capture_output=True, text=True).stdout
        assert "USAGE" in help_text.upper(), f"{name}: `{line}`: no such command"
        for option in [w.split("=")[0] for w in words if w.startswith("--")]:
            assert option in help_text, f"{name}: `{line}`: {option} is not an option of `kms {' '.join(path)}`"
        seen += 1
    assert seen >= 15
