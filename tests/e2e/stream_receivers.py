"""Receivers for audit log streams in the end-to-end suite: a webhook receiver that checks each
batch's signature and keeps every batch as a file, and a real rsyslogd (Debian's package) that
writes each message to a file. Both can be stopped and started again on the same port."""
import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from kms import free_port


class WebhookReceiver:
    def __init__(self, secret: str, directory: Path):
        self.secret = secret.encode()
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.lock = threading.Lock()
        self.batches = 0
        self.bad_signatures = 0
        self.sequences = []
        self.bodies = []
        self.server = None
        self.start()

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(receiver.secret, body, hashlib.sha256).hexdigest()
                with receiver.lock:
                    if not hmac.compare_digest(expected, self.headers.get("X-KMS-Signature", "")):
                        receiver.bad_signatures += 1
                        self.send_response(401)
                        self.end_headers()
                        return
                    receiver.batches += 1
                    document = json.loads(body)
                    receiver.bodies.append(document)
                    receiver.sequences += [e["chain"]["sequence"] for e in document.get("events", [])]
                    (receiver.dir / f"batch-{receiver.batches:06d}.json").write_bytes(body)
                self.send_response(204)
                self.end_headers()

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Rsyslog:
    """rsyslogd with one TCP input (octet-counted framing) on loopback, writing each message's
    text (the event's JSON) as a line of `received.jsonl`."""

    def __init__(self):
        binary = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
        if not os.path.exists(binary):
            raise RuntimeError("rsyslogd is not installed: run `make test-deps` (Debian's rsyslog)")
        self.binary = binary
        self.dir = Path(tempfile.mkdtemp(prefix="rsyslog-"))
        self.port = free_port()
        self.output = self.dir / "received.jsonl"
        (self.dir / "rsyslog.conf").write_text(f"""
global(workDirectory="{self.dir}" maxMessageSize="256k")
module(load="imtcp")
template(name="msgonly" type="string" string="%msg%\\n")
ruleset(name="kms") {{ action(type="omfile" file="{self.output}" template="msgonly") }}
input(type="imtcp" port="{self.port}" address="127.0.0.1" ruleset="kms")
""")
        self.process = None
        self.start()

    def start(self):
        self.log = open(self.dir / "rsyslogd.log", "ab")
        self.process = subprocess.Popen([self.binary, "-n", "-f", str(self.dir / "rsyslog.conf"), "-i", str(self.dir / "rsyslogd.pid")],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("rsyslogd exited: " + (self.dir / "rsyslogd.log").read_text(errors="replace")[-2000:])
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("rsyslogd did not start listening")
                time.sleep(0.1)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()
