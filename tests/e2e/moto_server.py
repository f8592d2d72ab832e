"""A moto server of the test's own on a free port, with signature checking switched on after seeding."""
import json
import os
import subprocess
import tempfile
import time

import boto3
import requests

from kms import free_port


class Moto:
    def __init__(self, recording=False):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["MOTO_ENABLE_RECORDING"] = "true" if recording else "false"
        env["MOTO_RECORDER_FILEPATH"] = tempfile.mktemp(prefix="moto-recording-")
        self.process = subprocess.Popen(["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/moto-api/data.json", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("moto did not start")

    def recorded_bodies(self):
        """The bodies of every request moto recorded (with `recording=True`), decoded."""
        import base64
        bodies = []
        for line in requests.get(self.url + "/moto-api/recorder/download-recording", timeout=10).text.splitlines():
            entry = json.loads(line)
            body = entry.get("body") or ""
            if entry.get("body_encoded"):
                body = base64.b64decode(body).decode(errors="replace")
            bodies.append(body)
        return bodies

    def client(self, service, key="AKIAIOSFODNN7EXAMPLE", secret="seed", token=None):
        return boto3.client(service, region_name="us-east-1", endpoint_url=self.url, aws_access_key_id=key,
                            aws_secret_access_key=secret, aws_session_token=token)

    def seed_user(self, name, policy_actions=("*",)):
        iam = self.client("iam")
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(policy_actions), "Resource": "*"}]}))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]

    def seed_role(self, name, trusted_arn):
        iam = self.client("iam")
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": trusted_arn}, "Action": "sts:AssumeRole"}]}
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        return arn

    def enforce(self):
        requests.post(self.url + "/moto-api/reset-auth", data="0", timeout=5).raise_for_status()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
