#!/usr/bin/env python3
"""Demo helper for the local AWS emulator (moto): seed it, switch signature checking on, check credentials,
and play AWS's console federation endpoint, which moto lacks."""
import json
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import requests

ACCOUNT = "123456789012"


def client(url, service, key="AKIAIOSFODNN7EXAMPLE", secret="seed", token=None):
    return boto3.client(service, region_name="us-east-1", endpoint_url=url, aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token)


def allow_all(iam, **target):
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    if "UserName" in target:
        iam.put_user_policy(PolicyName="all", PolicyDocument=doc, **target)
    else:
        iam.put_role_policy(PolicyName="all", PolicyDocument=doc, **target)


def seed(url, project_id):
    iam = client(url, "iam")
    keys = {}
    for user in ["workload", "kms-server"]:
        iam.create_user(UserName=user)
        allow_all(iam, UserName=user)
        k = iam.create_access_key(UserName=user)["AccessKey"]
        keys[user] = [k["AccessKeyId"], k["SecretAccessKey"]]
    trust = lambda principal, external=None: json.dumps({"Version": "2012-10-17", "Statement": [dict(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": principal}},
        **({"Condition": {"StringEquals": {"sts:ExternalId": external}}} if external else {}))]})
    server = f"arn:aws:iam::{ACCOUNT}:user/kms-server"
    for role, principal, external in [("kms-dynamic", server, project_id), ("kms-pam", server, project_id),
                                      ("ReadOnly", [f"arn:aws:iam::{ACCOUNT}:role/kms-pam", f"arn:aws:sts::{ACCOUNT}:assumed-role/kms-pam/kms-pam"], None)]:
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust(principal, external))
        allow_all(iam, RoleName=role)
    iam.create_group(GroupName="deployers")
    requests.post(url + "/moto-api/reset-auth", data="0", timeout=5).raise_for_status()
    print(json.dumps(keys))


def whoami(url, key, secret, token=None):
    print(client(url, "sts", key, secret, token or None).get_caller_identity()["Arn"])


def federation(url, port):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            session = json.loads(q["Session"][0])
            arn = client(url, "sts", session["sessionId"], session["sessionKey"], session["sessionToken"]).get_caller_identity()["Arn"]
            body = json.dumps({"SigninToken": "demo-token-for-" + arn.split("/")[-1]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass
    ThreadingHTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()


if __name__ == "__main__":
    {"seed": seed, "whoami": whoami, "federation": federation}[sys.argv[1]](*sys.argv[2:])
