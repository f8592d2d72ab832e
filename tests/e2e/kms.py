"""Helpers for the end-to-end suite: start the real `kms` binary and talk to it over HTTP."""
import os
import socket
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import requests

KMS_BIN = os.environ.get("KMS_BIN", str(Path(__file__).resolve().parents[2] / ".build/debug/kms"))
ROOT_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  # base64 of bytes 0..31; tests only


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_url() -> str:
    url = os.environ.get("KMS_TEST_POSTGRES_URL")
    if not url:
        raise RuntimeError("KMS_TEST_POSTGRES_URL is not set: run through `make test`, which starts PostgreSQL")
    return url


def fresh_database() -> str:
    """Creates an empty database on the test server and returns its URL."""
    base = postgres_url()
    name = "kms_e2e_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", base, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return base.rsplit("/", 1)[0] + "/" + name


class Server:
    """One `kms serve` process with its own log file."""

    def __init__(self, database_url=None, data_dir=None, env=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="kms-e2e-")
        self.log_path = Path(self.data_dir) / f"server-{self.port}.log"
        # The suites log in far faster than any client should; the limits have tests of their own.
        self.env = {**os.environ, "KMS_PORT": str(self.port), "KMS_DATA_DIR": self.data_dir, "KMS_LOG_LEVEL": "debug",
                    "KMS_LOGIN_RATE_PER_CLIENT": "100000", "KMS_LOGIN_BURST_PER_CLIENT": "100000",
                    # Audit stream receivers in the suites run on loopback, and are polled often.
                    "KMS_AUDIT_STREAM_ALLOWED_HOSTS": "127.0.0.1", "KMS_AUDIT_STREAM_POLL_SECONDS": "0.2"}
        if database_url:
            self.env["KMS_DATABASE_URL"] = database_url
            self.env["KMS_ENCRYPTION_KEY"] = ROOT_KEY
        self.env.update(env or {})
        self.process = None

    def start(self, timeout=30):
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen([KMS_BIN, "serve"], env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"kms exited with {self.process.returncode}: {self.logs()[-2000:]}")
            try:
                if requests.get(self.url + "/api/status", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("kms did not become ready: " + self.logs()[-2000:])

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                # Say where it is stuck before killing it: its sockets, every thread's stack, the log's end.
                stacks = subprocess.run(["gdb", "-p", str(self.process.pid), "-batch", "-ex", "thread apply all bt 25"],
                                        capture_output=True, text=True, timeout=60).stdout if shutil.which("gdb") else "(no gdb)"
                sockets = "\n".join(line for line in subprocess.run(["ss", "-tanp"], capture_output=True, text=True).stdout.splitlines()
                                     if f"pid={self.process.pid}," in line)
                self.process.kill()
                raise RuntimeError(f"kms did not exit within 15 s of SIGTERM\n--- log ---\n{self.logs()[-4000:]}\n"
                                   f"--- sockets ---\n{sockets}\n--- threads ---\n{stacks[-30000:]}")
        if self.process:
            self.log.close()

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def call(self, method, path, token=None, json=None, timeout=10, **kw):
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, self.url + path, json=json, headers=headers, timeout=timeout, **kw)

    def bootstrap(self, email="admin@example.com", password="correct horse battery", organization="Acme"):
        r = self.call("POST", "/api/v1/admin/bootstrap", json={"email": email, "password": password, "organization": organization})
        assert r.status_code == 200, r.text
        body = r.json()
        return body["identity"]["credentials"]["token"], body["organization"]["id"]

    def limited_token(self, admin_token, org_id, uses=0, ttl=3600, trusted=None):
        """An identity with Token Auth and one minted token."""
        identity = self.call("POST", "/api/v1/identities", admin_token, {"name": "worker", "organizationId": org_id}).json()["identity"]
        settings = {"accessTokenTTL": ttl, "accessTokenMaxTTL": ttl, "accessTokenNumUsesLimit": uses}
        if trusted:
            settings["accessTokenTrustedIps"] = [{"ipAddress": t} for t in trusted]
        r = self.call("POST", f"/api/v1/auth/token-auth/identities/{identity['id']}", admin_token, settings)
        assert r.status_code == 200, r.text
        r = self.call("POST", f"/api/v1/auth/token-auth/identities/{identity['id']}/tokens", admin_token, {})
        assert r.status_code == 200, r.text
        return r.json()["accessToken"], identity["id"]


def wait_until(predicate, what, timeout=60):
    """Polls `predicate` until it holds; fails naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except OSError:  # a server not listening yet (requests' ConnectionError is one)
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)
