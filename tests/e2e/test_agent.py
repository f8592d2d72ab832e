"""`kms agent` end to end against the real binary and moto with signature checking on: AWS Auth
login with a token that is renewed and replaced past its max TTL while the sink always holds a
valid token; a boto3 client in another process, configured only through the container-credentials
endpoint, calls STS and IAM every 100 ms across several lease lifetimes with no failure (iam-user
and temporary credentials); credential_process; templates; 401/404; file modes."""
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from kms import KMS_BIN, free_port, wait_until
from test_dynamic_secrets import create_secret, world  # noqa: F401


def agent_identity(world, ttl=4, max_ttl=10):
    """An identity with AWS Auth for the moto user `kms-keys` and the member role in the project."""
    s, admin, project = world["server"], world["admin"], world["project"]
    org = s.call("GET", "/api/v1/auth/token/self", admin).json()["orgId"]
    identity = s.call("POST", "/api/v1/identities", admin, {"name": f"agent-{ttl}", "organizationId": org}).json()
    identity_id = identity["identity"]["id"]
    r = s.call("POST", f"/api/v1/auth/aws-auth/identities/{identity_id}", admin, {
        "allowedPrincipalArns": "arn:aws:iam::123456789012:user/kms-keys", "allowedAccountIds": "123456789012",
        "accessTokenTTL": ttl, "accessTokenMaxTTL": max_ttl})
    assert r.status_code == 200, r.text
    assert s.call("POST", f"/api/v1/projects/{project['id']}/identity-memberships/{identity_id}", admin, {"role": "member"}).status_code == 200
    return identity_id


def start_agent(world, tmp_path, identity_id, entries, extra=""):
    key, secret = world["access_key"]
    config = tmp_path / "agent.yaml"
    config.write_text(textwrap.dedent(f"""\
        server: {world['server'].url}
        auth:
          method: aws
          identityId: "{identity_id}"
        tokenSinks:
          - path: {tmp_path}/token
        renewAt: 0.5
        controlSocket: {tmp_path}/agent.sock
        """) + entries + extra)
    env = {**os.environ, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_ENDPOINT_URL": world["moto"].url, "AWS_REGION": "us-east-1"}
    log = open(tmp_path / "agent.log", "wb")
    process = subprocess.Popen([KMS_BIN, "agent", "--config", str(config)], env=env, stdout=log, stderr=subprocess.STDOUT)
    return process, log


def entry(name, secret, port, tmp_path, ttl="20s", lead="8s"):
    return textwrap.dedent(f"""\
          - name: {name}
            projectSlug: {{slug}}
            environmentSlug: dev
            path: /
            dynamicSecret: {secret}
            ttl: {ttl}
            leadTime: {lead}
            verify: true
            endpoint:
              listen: 127.0.0.1:{port}
              authTokenFile: {tmp_path}/{name}-endpoint-token
            credentialsFile: {tmp_path}/{name}-credentials
        """)


BOTO_LOOP = """
import boto3, json, sys, time
deadline = time.time() + float(sys.argv[1])
ok = failed = 0
keys = set()
errors = []
session = boto3.session.Session(region_name="us-east-1")
while time.time() < deadline:
    try:
        sts = session.client("sts", endpoint_url=sys.argv[2])
        keys.add(session.get_credentials().get_frozen_credentials().access_key)
        sts.get_caller_identity()
        session.client("iam", endpoint_url=sys.argv[2]).list_roles(MaxItems=1)
        ok += 1
    except Exception as e:
        failed += 1
        errors.append(str(e)[:200])
    time.sleep(0.1)
print(json.dumps({"ok": ok, "failed": failed, "keys": sorted(keys), "errors": errors[:5]}))
"""


CACHING_LOOP = """
import boto3, datetime, json, sys, time, urllib.request
deadline = time.time() + float(sys.argv[1])
url, token = sys.argv[3], open(sys.argv[4]).read()
ok = failed = 0
keys, secrets, errors = set(), set(), []
creds, until = None, 0
while time.time() < deadline:
    # Like an SDK that caches until the advertised Expiration (Go v2's default).
    if creds is None or time.time() >= until:
        body = json.load(urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": token})))
        creds = body
        until = datetime.datetime.fromisoformat(body["Expiration"].replace("Z", "+00:00")).timestamp()
        keys.add(body["AccessKeyId"]); secrets.add(body["SecretAccessKey"])
    try:
        boto3.client("sts", region_name="us-east-1", endpoint_url=sys.argv[2], aws_access_key_id=creds["AccessKeyId"],
                     aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["Token"]).get_caller_identity()
        ok += 1
    except Exception as e:
        failed += 1
        errors.append(str(e)[:200])
    time.sleep(0.1)
print(json.dumps({"ok": ok, "failed": failed, "keys": sorted(keys), "secrets": sorted(secrets), "errors": errors[:5]}))
"""


def test_agent_keeps_a_token_and_aws_credentials_fresh(world, tmp_path):  # noqa: F811
    s, project = world["server"], world["project"]
    key, secret = world["access_key"]
    create_secret(world, "agent-users", {"method": "access-key", "accessKey": key, "secretAccessKey": secret, "credentialType": "iam-user",
                                         "policyDocument": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})},
                  default_ttl="20s", max_ttl="1h")
    create_secret(world, "agent-sts", {"method": "assume-role", "roleArn": world["role_arn"], "credentialType": "temporary-credentials"},
                  default_ttl="20s", max_ttl="1h")
    identity_id = agent_identity(world)
    users_port, sts_port = free_port(), free_port()
    template = tmp_path / "app.env.mustache"
    template.write_text("TOKEN_PRESENT={{#token}}yes{{/token}}\nKEY={{aws.users.AccessKeyId}}\n")
    counter = tmp_path / "reloads"
    entries = "awsCredentials:\n" + (entry("users", "agent-users", users_port, tmp_path) + entry("sts", "agent-sts", sts_port, tmp_path)).replace("{slug}", project["slug"])
    extra = textwrap.dedent(f"""\
        templates:
          - source: {template}
            destination: {tmp_path}/app.env
            command: "echo reload >> {counter}"
        """)
    process, log = start_agent(world, tmp_path, identity_id, entries, extra)
    try:
        wait_until(lambda: (tmp_path / "token").exists() and (tmp_path / "users-endpoint-token").exists()
                   and (tmp_path / "users-credentials").exists() and (tmp_path / "sts-credentials").exists(), "the agent's first files", timeout=60)
        for path in ("token", "users-endpoint-token", "sts-endpoint-token", "users-credentials", "sts-credentials", "app.env", "agent.sock"):
            assert stat.S_IMODE((tmp_path / path).stat().st_mode) == 0o600, path
        # The token sink always holds a valid token while it is renewed and replaced (TTL 4 s, max 10 s).
        checks, bad, seen = 0, [], set()
        stop = threading.Event()

        def watch_token():
            nonlocal checks
            while not stop.is_set():
                token = (tmp_path / "token").read_text()
                seen.add(token)
                r = s.call("GET", "/api/v1/auth/token/self", token)
                checks += 1
                if r.status_code != 200:
                    bad.append(r.status_code)
                time.sleep(0.25)

        watcher = threading.Thread(target=watch_token, daemon=True)
        watcher.start()
        # Two boto3 clients in other processes, configured only through the endpoint.
        runs = {}
        for name, port in (("users", users_port), ("sts", sts_port)):
            env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
            env.update({"AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://127.0.0.1:{port}/v1/credentials/{name}",
                        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(tmp_path / f"{name}-endpoint-token"), "AWS_EC2_METADATA_DISABLED": "true"})
            runs[name] = subprocess.Popen([sys.executable, "-c", BOTO_LOOP, "45", world["moto"].url], env=env, stdout=subprocess.PIPE, text=True)
        clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        runs["cached"] = subprocess.Popen([sys.executable, "-c", CACHING_LOOP, "45", world["moto"].url, f"http://127.0.0.1:{users_port}/v1/credentials/users",
                                           str(tmp_path / "users-endpoint-token")], env=clean, stdout=subprocess.PIPE, text=True)
        results = {name: json.loads(run.communicate(timeout=120)[0]) for name, run in runs.items()}
        cached = results.pop("cached")
        assert cached["failed"] == 0 and len(cached["keys"]) >= 3, ("a client caching until Expiration never holds a revoked key",
                                                                    {k: v for k, v in cached.items() if k != "secrets"})
        stop.set()
        watcher.join()
        for name, result in results.items():
            assert result["failed"] == 0 and result["ok"] > 100, (name, result)
            assert len(result["keys"]) >= 3, (name, "at least three lease lifetimes", result["keys"])
        assert checks > 20 and bad == [], f"the sink held an invalid token {len(bad)} times in {checks} checks"
        assert len(seen) >= 2, "the token was replaced by a new login past its max TTL"
        # credential_process over the control socket.
        cp = subprocess.run([KMS_BIN, "agent", "credential-process", "--socket", str(tmp_path / "agent.sock"), "--name", "users"],
                            capture_output=True, text=True, timeout=30)
        assert cp.returncode == 0, cp.stderr
        creds = json.loads(cp.stdout)
        assert creds["Version"] == 1
        arn = world["moto"].client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds.get("SessionToken")).get_caller_identity()["Arn"]
        assert arn.startswith("arn:aws:iam::123456789012:user/"), "credential_process hands out a working iam-user key"
        profile = tmp_path / "aws-config"
        profile.write_text(f"[profile kms]\ncredential_process = {KMS_BIN} agent credential-process --socket {tmp_path}/agent.sock --name sts\n")
        probe = subprocess.run([sys.executable, "-c", "import boto3,sys; print(boto3.session.Session(profile_name='kms', region_name='us-east-1')"
                                ".client('sts', endpoint_url=sys.argv[1]).get_caller_identity()['Arn'])", world["moto"].url],
                               env={**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, "AWS_CONFIG_FILE": str(profile)},
                               capture_output=True, text=True, timeout=60)
        assert probe.returncode == 0 and "assumed-role/kms-dynamic" in probe.stdout, probe.stderr
        missing = subprocess.run([KMS_BIN, "agent", "credential-process", "--socket", str(tmp_path / "agent.sock"), "--name", "nope"],
                                 capture_output=True, text=True, timeout=30)
        assert missing.returncode == 1 and "nope" in missing.stderr
        # The endpoint: wrong token 401, unknown name 404; health and metrics.
        import requests
        base = f"http://127.0.0.1:{users_port}"
        assert requests.get(base + "/v1/credentials/users", headers={"Authorization": "wrong"}).status_code == 401
        assert requests.get(base + "/v1/credentials/nope", headers={"Authorization": "x"}).status_code == 404
        assert requests.get(base + "/healthz").status_code == 200
        assert requests.get(base + "/healthz", headers={"Host": "evil.example:80"}).status_code == 403, "DNS rebinding finds nothing"
        metrics = requests.get(base + "/metrics").text
        assert "kms_agent_leases_made_total" in metrics and "kms_agent_renewals_total" in metrics and "kms_agent_logins_total" in metrics
        # Templates re-render (and run their command) on change only.
        reloads = len(counter.read_text().splitlines())
        assert 3 <= reloads <= len(results["users"]["keys"]) + 2, reloads
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        log.close()
    logs = (tmp_path / "agent.log").read_text()
    assert "leases revoked on exit" in logs, logs[-2000:]
    for secret_value in [key, secret, *seen, *cached["secrets"], (tmp_path / "users-endpoint-token").read_text()]:
        assert secret_value not in logs, "no secret in the agent's log"
    # Every iam-user key the agent replaced, and the last one, is gone from moto.
    iam = world["moto"].client("iam", *world["server_key"])
    users = [u["UserName"] for u in iam.list_users()["Users"]]
    leftover = [u for u in users if iam.list_access_keys(UserName=u)["AccessKeyMetadata"]
                and any(k["AccessKeyId"] in results["users"]["keys"] for k in iam.list_access_keys(UserName=u)["AccessKeyMetadata"])]
    assert leftover == [], leftover


def test_agent_once_writes_everything_and_exits(world, tmp_path):  # noqa: F811
    identity_id = agent_identity(world, ttl=600, max_ttl=1200)
    key, secret = world["access_key"]
    create_secret(world, "agent-once", {"method": "assume-role", "roleArn": world["role_arn"], "credentialType": "temporary-credentials"},
                  default_ttl="1h", max_ttl="2h")
    config = tmp_path / "once.yaml"
    config.write_text(textwrap.dedent(f"""\
        server: ${{KMS_TEST_SERVER}}
        auth:
          method: aws
          identityId: "{identity_id}"
        tokenSinks:
          - path: {tmp_path}/token
        awsCredentials:
          - name: once
            projectSlug: {world['project']['slug']}
            environmentSlug: dev
            dynamicSecret: agent-once
            credentialsFile: {tmp_path}/creds
        """))
    env = {**os.environ, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_ENDPOINT_URL": world["moto"].url,
           "AWS_REGION": "us-east-1", "KMS_TEST_SERVER": world["server"].url}
    done = subprocess.run([KMS_BIN, "agent", "--config", str(config), "--once"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert world["server"].call("GET", "/api/v1/auth/token/self", (tmp_path / "token").read_text()).status_code == 200
    assert "aws_session_token" in (tmp_path / "creds").read_text()
    unset = subprocess.run([KMS_BIN, "agent", "--config", str(config), "--once"], env={k: v for k, v in env.items() if k != "KMS_TEST_SERVER"},
                           capture_output=True, text=True, timeout=60)
    assert unset.returncode != 0 and "KMS_TEST_SERVER" in unset.stderr


def test_the_agent_rides_out_a_server_outage(world, tmp_path):  # noqa: F811
    """While kms is down the agent keeps serving still-valid credentials, /healthz turns 503, and
    everything recovers when kms is back."""
    import requests
    s, project = world["server"], world["project"]
    key, secret = world["access_key"]
    create_secret(world, "agent-outage", {"method": "assume-role", "roleArn": world["role_arn"], "credentialType": "temporary-credentials"},
                  default_ttl="40s", max_ttl="1h")
    identity_id = agent_identity(world, ttl=6, max_ttl=600)
    port = free_port()
    entries = "awsCredentials:\n" + entry("outage", "agent-outage", port, tmp_path, ttl="40s", lead="10s").replace("{slug}", project["slug"])
    process, log = start_agent(world, tmp_path, identity_id, entries)
    base = f"http://127.0.0.1:{port}"
    token = lambda: (tmp_path / "outage-endpoint-token").read_text()
    try:
        wait_until(lambda: (tmp_path / "outage-endpoint-token").exists() and requests.get(base + "/healthz").status_code == 200, "a healthy agent")
        s.stop()
        try:
            # The token expires within seconds; credentials are still served while they last.
            wait_until(lambda: requests.get(base + "/healthz").status_code == 503, "/healthz to report the outage", timeout=30)
            served = requests.get(base + "/v1/credentials/outage", headers={"Authorization": token()})
            assert served.status_code == 200, served.text
        finally:
            s.start()
        wait_until(lambda: requests.get(base + "/healthz").status_code == 200, "recovery after the outage", timeout=90)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        log.close()


def test_agent_with_universal_auth_reads_the_secret_once(world, tmp_path):  # noqa: F811
    """`auth.method: universal-auth` from the Universal Auth plugin, with removeSecretAfterRead."""
    s, admin = world["server"], world["admin"]
    org = s.call("GET", "/api/v1/auth/token/self", admin).json()["orgId"]
    identity = s.call("POST", "/api/v1/identities", admin, {"name": "agent-ua", "organizationId": org}).json()["identity"]["id"]
    client_id = s.call("POST", f"/api/v1/auth/universal-auth/identities/{identity}", admin, {}).json()["identityUniversalAuth"]["clientId"]
    secret = s.call("POST", f"/api/v1/auth/universal-auth/identities/{identity}/client-secrets", admin, {}).json()["clientSecret"]
    (tmp_path / "id").write_text(client_id)
    (tmp_path / "secret").write_text(secret)
    config = tmp_path / "ua.yaml"
    config.write_text(textwrap.dedent(f"""\
        server: {s.url}
        auth:
          method: universal-auth
          clientIdFile: {tmp_path}/id
          clientSecretFile: {tmp_path}/secret
          removeSecretAfterRead: true
        tokenSinks:
          - path: {tmp_path}/token
        """))
    done = subprocess.run([KMS_BIN, "agent", "--config", str(config), "--once"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    me = s.call("GET", "/api/v1/auth/token/self", (tmp_path / "token").read_text()).json()
    assert me["identityId"] == identity and me["authMethod"] == "universal-auth"
    assert not (tmp_path / "secret").exists(), "the secret file is removed after it was read"
    assert secret not in done.stdout + done.stderr
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(config.read_text().replace("universal-auth", "no-such-method", 1))
    refused = subprocess.run([KMS_BIN, "agent", "--config", str(wrong), "--once"], capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "auth.method must be one of" in refused.stderr and "oidc" in refused.stderr
