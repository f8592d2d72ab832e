"""Runs the curl commands and uses the policy JSON of README.md and docs/ against a live kms and moto
(signature checking on), so the documented examples keep working."""
import json
import os
import re
import subprocess
import time
from pathlib import Path

import requests

from kms import KMS_BIN, Server, free_port
from moto_server import Moto

ROOT = Path(__file__).resolve().parents[2]


def doc(name):
    return (ROOT / name).read_text()


def shell_block_containing(text, needle):
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            if needle in line:
                return line.split("  #")[0].strip()
    raise AssertionError(f"no shell line with {needle!r}")


def json_blocks(text):
    return [json.loads(b) for b in re.findall(r"```json\n(.*?)```", text, re.S)]


def run(line, env, replace=()):
    for old, new in replace:
        line = line.replace(old, new)
    path = os.path.dirname(KMS_BIN) + os.pathsep + os.environ.get("PATH", "")
    r = subprocess.run(["bash", "-c", line], env={**os.environ, **env, "PATH": path}, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, (line, r.stderr)
    return r.stdout


def ok_json(text):
    body = json.loads(text)
    assert "statusCode" not in body or body["statusCode"] < 400, body
    return body


def test_documented_examples_work(tmp_path):
    moto = Moto()
    fed_port = free_port()
    fed = subprocess.Popen(["python3", str(ROOT / "scripts/demo_aws.py"), "federation", moto.url, str(fed_port)])
    try:
        iam = moto.client("iam")
        iam.create_user(UserName="kms-server")
        iam.put_user_policy(UserName="kms-server", PolicyName="assume", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="kms-server")["AccessKey"]
        server = Server(data_dir=str(tmp_path), env={
            "AWS_ENDPOINT_URL": moto.url, "KMS_AWS_FEDERATION_ENDPOINT": f"http://127.0.0.1:{fed_port}/federation",
            "KMS_DYNAMIC_SECRET_AWS_ACCESS_KEY_ID": key["AccessKeyId"], "KMS_DYNAMIC_SECRET_AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            "KMS_PAM_AWS_ACCESS_KEY_ID": key["AccessKeyId"], "KMS_PAM_AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            "KMS_AWS_AMBIENT_ORGS": "acme"}).start()
        try:
            readme = doc("README.md")
            host = ("localhost:8080", server.url)
            boot = ok_json(run(shell_block_containing(readme, "/api/v1/admin/bootstrap"), {}, [host]))
            token = boot["identity"]["credentials"]["token"]
            env = {"TOKEN": token, "KMS_TOKEN": token, "KMS_SERVER_URL": server.url}
            project = ok_json(run(shell_block_containing(readme, "/api/v1/projects"), env, [host]))["project"]
            assert project["slug"] == "web-app"
            org = boot["organization"]["id"]
            for source, needle in [("README.md", "/api/v1/auth/aws-auth/identities/"), ("docs/aws-auth.md", "/api/v1/auth/aws-auth/identities/")]:
                identity = server.call("POST", "/api/v1/identities", token, {"name": "doc", "organizationId": org}).json()["identity"]["id"]
                attached = ok_json(run(shell_block_containing(doc(source), needle), {**env, "IDENTITY_ID": identity}, [host]))
                assert attached["identityAwsAuth"]["identityId"] == identity

            # Dynamic secrets: the documented trust and permission policies, then the documented CLI and curl.
            server_arn = "arn:aws:iam::123456789012:user/kms-server"
            trust, permissions = json_blocks(doc("docs/dynamic-secrets-aws-iam.md"))[:2]
            trust_text = json.dumps(trust).replace("arn:aws:iam::111111111111:role/kms-server", server_arn).replace("<project id>", project["id"])
            iam.create_role(RoleName="kms-dynamic", AssumeRolePolicyDocument=trust_text)
            # moto evaluates actions but not Resource patterns (it checks against "*"), so the documented
            # path restriction is widened here; the documented action list must still be complete.
            for statement in permissions["Statement"]:
                statement["Resource"] = "*"
            iam.put_role_policy(RoleName="kms-dynamic", PolicyName="doc", PolicyDocument=json.dumps(permissions))
            moto.enforce()
            dyn = doc("docs/dynamic-secrets-aws-iam.md")
            run(shell_block_containing(dyn, "kms dynamic-secrets create"), env)
            lease = ok_json(run(shell_block_containing(dyn, "/api/v1/dynamic-secrets/leases"), env))
            assert lease["data"]["USERNAME"].startswith("kms-")
            # Revoking needs the documented List*/Delete* actions too.
            revoked = server.call("DELETE", f"/api/v1/dynamic-secrets/leases/{lease['lease']['id']}", token,
                                  {"projectSlug": "web-app", "environmentSlug": "dev", "path": "/"})
            assert revoked.status_code == 200 and revoked.json()["lease"]["status"] == "revoked", revoked.text
            exported = run(shell_block_containing(dyn, "kms leases create").replace('eval "$(', "").rstrip(')"'), env)
            assert "export AWS_ACCESS_KEY_ID=" in exported

            # PAM: the documented resource trust policy, then the documented commands and curl.
            requests.post(moto.url + "/moto-api/reset-auth", data="1000", timeout=5)  # seed with checks off again
            pam_trust = json_blocks(doc("docs/pam-aws-console.md"))[0]
            iam.create_role(RoleName="kms-pam", AssumeRolePolicyDocument=json.dumps(pam_trust).replace(
                "arn:aws:iam::111111111111:role/kms-server", server_arn).replace("<project id>", project["id"]))
            iam.put_role_policy(RoleName="kms-pam", PolicyName="chain", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
            iam.create_role(RoleName="ReadOnly", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": ["arn:aws:iam::123456789012:role/kms-pam",
                                                                                    "arn:aws:sts::123456789012:assumed-role/kms-pam/kms-pam"]}}]}))
            moto.enforce()
            pam = doc("docs/pam-aws-console.md")
            ids = {"PROJECT_ID": project["id"]}
            resource = json.loads(run(shell_block_containing(pam, "kms pam resources create") + " --json", env, ids.items()))["resource"]["id"]
            ids["RESOURCE_ID"] = resource
            account = json.loads(run(shell_block_containing(pam, "kms pam accounts create") + " --json", env, ids.items()))["account"]["id"]
            ids["ACCOUNT_ID"] = account
            server.call("POST", f"/api/v1/organizations/{org}/users", token, {"email": "alice@example.com", "password": "another long password", "role": "member"})
            server.call("POST", f"/api/v1/projects/{project['id']}/memberships", token, {"email": "alice@example.com", "role": "member"})
            user = run(shell_block_containing(pam, "kms login user"), {**env, "KMS_PASSWORD": "another long password"}).strip()
            url = run(shell_block_containing(pam, '--reason "INC-42"'), {**env, "KMS_TOKEN": user}, ids.items()).strip()
            assert "Action=login" in url
            access = ok_json(run(shell_block_containing(pam, "/api/v1/pam/accounts/access"), {**env, "USER_TOKEN": user}, ids.items()))
            assert access["consoleUrl"].startswith(f"http://127.0.0.1:{fed_port}/federation?Action=login")
            assert "alice@example.com" in run(shell_block_containing(pam, "kms pam sessions"), env, ids.items())
        finally:
            server.stop()
    finally:
        fed.terminate()
        moto.stop()
