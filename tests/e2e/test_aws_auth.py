"""AWS Auth end to end: moto with signature checking on, the real kms binary, the official SDKs."""
import base64
import json
import uuid
import os
from datetime import datetime, timedelta, timezone

import boto3
import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from kms import Server
from moto_server import Moto

BODY = "Action=GetCallerIdentity&Version=2011-06-15"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    moto = Moto()
    user_key = moto.seed_user("app")
    moto.seed_user("other")
    role_arn = moto.seed_role("web", "arn:aws:iam::123456789012:user/app")
    moto.enforce()
    # Every refusal of this suite comes from 127.0.0.1 within a minute; keep all their audit entries.
    server = Server(data_dir=str(tmp_path_factory.mktemp("kms")), env={"AWS_ENDPOINT_URL_STS": moto.url, "KMS_AUDIT_FAILURES_PER_MINUTE": "1000"}).start()
    admin, org_id = server.bootstrap()
    yield {"moto": moto, "server": server, "admin": admin, "org": org_id, "user_key": user_key, "role_arn": role_arn}
    server.stop()
    moto.stop()


def identity_with_aws_auth(world, **config):
    s, admin = world["server"], world["admin"]
    identity = s.call("POST", "/api/v1/identities", admin, {"name": "workload", "organizationId": world["org"]}).json()["identity"]
    body = {"allowedPrincipalArns": "arn:aws:iam::123456789012:user/app,arn:aws:iam::123456789012:role/web", "allowedAccountIds": "123456789012"}
    body.update(config)
    r = s.call("POST", f"/api/v1/auth/aws-auth/identities/{identity['id']}", admin, body)
    assert r.status_code == 200, r.text
    return identity["id"]


def signed_headers(key, secret, token=None, extra=None, date=None, host="sts.us-east-1.amazonaws.com", body=BODY):
    request = AWSRequest(method="POST", url=f"https://{host}/", data=body)
    request.headers["Host"] = host
    request.headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    request.headers["Content-Length"] = str(len(body))
    for k, v in (extra or {}).items():
        request.headers[k] = v
    signer = SigV4Auth(Credentials(key, secret, token), "sts", "us-east-1")
    if date:
        # botocore reads the clock itself; give it a skewed one to sign in the past or future.
        class Skewed(datetime):
            @classmethod
            def utcnow(cls):
                return date.replace(tzinfo=None)

            @classmethod
            def now(cls, tz=None):
                return date if tz else date.replace(tzinfo=None)
        original = botocore.auth.datetime.datetime
        botocore.auth.datetime.datetime = Skewed
        try:
            signer.add_auth(request)
        finally:
            botocore.auth.datetime.datetime = original
    else:
        signer.add_auth(request)
    return {k: v for k, v in request.headers.items() if k.lower() != "content-length"}


def login(world, identity_id, headers, body=BODY, raw=False):
    s = world["server"]
    payload = {"identityId": identity_id, "iamHttpRequestMethod": "POST"}
    if raw:
        payload.update({"iamRequestBody": body, "iamRequestHeaders": json.dumps(headers)})
    else:
        payload.update({"iamRequestBody": base64.b64encode(body.encode()).decode(),
                        "iamRequestHeaders": base64.b64encode(json.dumps(headers).encode()).decode()})
    return s.call("POST", "/api/v1/auth/aws-auth/login", json=payload)


@pytest.mark.parametrize("sdk", ["infisical", "hanzo"])
@pytest.mark.parametrize("credentials", ["iam-user", "assume-role"])
def test_official_sdks_log_in(world, sdk, credentials, monkeypatch):
    identity_id = identity_with_aws_auth(world)
    key, secret = world["user_key"]
    token = None
    expected_arn = "arn:aws:iam::123456789012:user/app"
    if credentials == "assume-role":
        assumed = world["moto"].client("sts", key, secret).assume_role(RoleArn=world["role_arn"], RoleSessionName="sdk")["Credentials"]
        key, secret, token = assumed["AccessKeyId"], assumed["SecretAccessKey"], assumed["SessionToken"]
        expected_arn = "arn:aws:sts::123456789012:assumed-role/web/sdk"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    if token:
        monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    else:
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    if sdk == "infisical":
        from infisical_sdk import InfisicalSDKClient as Client
    else:
        from hanzo_kms import KMSClient as Client
    client = Client(host=world["server"].url)
    result = client.auth.aws_auth.login(identity_id=identity_id)
    assert result.tokenType == "Bearer"
    assert result.expiresIn == 2592000
    token = result.accessToken
    s = world["server"]
    me = s.call("GET", "/api/v1/auth/token/self", token).json()
    assert me["identityId"] == identity_id and me["authMethod"] == "aws-auth"
    assert s.call("POST", "/api/v1/auth/token/renew", json={"accessToken": token}).status_code == 200
    assert s.call("POST", "/api/v1/auth/token/revoke", json={"accessToken": token}).status_code == 200
    assert s.call("GET", "/api/v1/auth/token/self", token).status_code == 401
    audit = s.call("GET", f"/api/v1/organizations/{world['org']}/audit-logs?eventType=aws-auth-login", world["admin"]).json()["auditLogs"]
    assert any(e["eventMetadata"].get("callerArn") == expected_arn for e in audit)


def test_assume_role_credentials_log_in_as_the_role(world):
    identity_id = identity_with_aws_auth(world)
    key, secret = world["user_key"]
    sts = world["moto"].client("sts", key, secret)
    creds = sts.assume_role(RoleArn=world["role_arn"], RoleSessionName="ci-run")["Credentials"]
    headers = signed_headers(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    r = login(world, identity_id, headers)
    assert r.status_code == 200, r.text
    raw = login(world, identity_id, signed_headers(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]), raw=True)
    assert raw.status_code == 200, raw.text


def test_edge_form(world):
    identity_id = identity_with_aws_auth(world)
    key, secret = world["user_key"]
    r = world["server"].call("POST", "/edge/v1/auth", json={"clientId": identity_id, "client": {"aws": {"stsGetCallerIdentity": {
        "headers": signed_headers(key, secret), "region": "us-east-1"}}}})
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"accessToken", "tokenType", "expiresIn"}


def expect(r, status, fragment=""):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["statusCode"] == status and fragment in body["message"], body


def test_refusals(world):
    identity_id = identity_with_aws_auth(world)
    key, secret = world["user_key"]
    ok = signed_headers(key, secret)
    expect(login(world, identity_id, signed_headers(key, "wrong-secret")), 401, "STS refused")
    expect(login(world, identity_id, signed_headers("AKIAUNKNOWN000000000", secret)), 401, "STS refused")
    now = datetime.now(timezone.utc)
    expect(login(world, identity_id, signed_headers(key, secret, date=now - timedelta(minutes=10))), 401, "outside the allowed window")
    expect(login(world, identity_id, signed_headers(key, secret, date=now + timedelta(minutes=10))), 401, "outside the allowed window")
    for body in ["Action=GetCallerIdentity&Version=2011-06-15&Action=AssumeRole", "Action=GetCallerIdentity&Version=2011-06-15&RoleArn=x",
                 "Version=2011-06-15", "Action=ListUsers&Version=2010-05-08"]:
        expect(login(world, identity_id, signed_headers(key, secret, body=body), body=body), 400, "body")
    expect(login(world, identity_id, signed_headers(key, secret, host="evil.example.com")), 400)
    expect(login(world, identity_id, signed_headers(key, secret, extra={"X-Amz-Target": "x"})), 400, "not allowed")
    r = world["server"].call("POST", "/api/v1/auth/aws-auth/login", json={"identityId": identity_id, "iamHttpRequestMethod": "POST",
        "iamRequestBody": base64.b64encode(BODY.encode()).decode(), "iamRequestHeaders": base64.b64encode(json.dumps(ok).encode()).decode(),
        "iamRequestUrl": base64.b64encode(b"https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity").decode()})
    expect(r, 400, "iamRequestUrl")
    expect(world["server"].call("POST", "/api/v1/auth/aws-auth/login", json={"identityId": identity_id}), 422)


def test_principal_and_account_rules(world):
    key, secret = world["user_key"]
    only_role = identity_with_aws_auth(world, allowedPrincipalArns="arn:aws:iam::123456789012:role/web")
    expect(login(world, only_role, signed_headers(key, secret)), 403, "allowedPrincipalArns")
    wrong_account = identity_with_aws_auth(world, allowedAccountIds="111111111111")
    expect(login(world, wrong_account, signed_headers(key, secret)), 403, "allowedAccountIds")
    wildcard = identity_with_aws_auth(world, allowedPrincipalArns="arn:aws:iam::123456789012:user/a*")
    assert login(world, wildcard, signed_headers(key, secret)).status_code == 200
    s, admin = world["server"], world["admin"]
    bad = s.call("POST", "/api/v1/identities", admin, {"name": "x", "organizationId": world["org"]}).json()["identity"]["id"]
    expect(s.call("POST", f"/api/v1/auth/aws-auth/identities/{bad}", admin, {"allowedAccountIds": "12345"}), 400, "12-digit")
    expect(s.call("POST", f"/api/v1/auth/aws-auth/identities/{bad}", admin, {"allowedPrincipalArns": "arn:aws:s3:::bucket"}), 400, "allowedPrincipalArns")
    # A role path cannot be checked against an assumed role (STS drops it): refused, never widened.
    expect(s.call("POST", f"/api/v1/auth/aws-auth/identities/{bad}", admin, {"allowedPrincipalArns": "arn:aws:iam::123456789012:role/admins/*"}), 400, "path")
    # No binding at all would admit every AWS principal in the world.
    expect(s.call("POST", f"/api/v1/auth/aws-auth/identities/{bad}", admin, {"allowedPrincipalArns": "", "allowedAccountIds": ""}), 400, "allowedAccountIds")


def test_answers_are_no_oracle_of_which_identities_exist(world):
    """A verified caller gets the same answer from an identity that does not admit it, one without
    AWS Auth, and one that does not exist; only the owning organization's audit log says why."""
    key, secret = world["user_key"]
    s, admin = world["server"], world["admin"]
    refusing = identity_with_aws_auth(world, allowedPrincipalArns="arn:aws:iam::123456789012:role/web")
    without = s.call("POST", "/api/v1/identities", admin, {"name": "no-aws", "organizationId": world["org"]}).json()["identity"]["id"]
    answers = [login(world, i, signed_headers(key, secret)) for i in (refusing, without, str(uuid.uuid4()))]
    assert {r.status_code for r in answers} == {403}
    assert len({r.json()["message"] for r in answers}) == 1, [r.json()["message"] for r in answers]
    audit = s.call("GET", f"/api/v1/organizations/{world['org']}/audit-logs?eventType=aws-auth-login-failed&limit=1000", admin).json()["auditLogs"]
    assert any(e["eventMetadata"].get("identityId") == refusing and "allowedPrincipalArns" in e["eventMetadata"].get("reason", "") for e in audit)


def test_server_id_header(world):
    """A missing, unsigned or wrong server ID is refused with the common answer (no oracle of which
    identities require one); the owning organization's audit log says which it was."""
    key, secret = world["user_key"]
    identity_id = identity_with_aws_auth(world, iamServerIdHeaderValue="kms.example.com")
    refused = "not in this identity's allowedPrincipalArns"
    expect(login(world, identity_id, signed_headers(key, secret)), 403, refused)
    headers = signed_headers(key, secret)
    headers["X-KMS-AWS-IAM-Server-ID"] = "kms.example.com"  # present but not signed
    expect(login(world, identity_id, headers), 403, refused)
    good = signed_headers(key, secret, extra={"X-KMS-AWS-IAM-Server-ID": "kms.example.com"})
    assert login(world, identity_id, good).status_code == 200
    wrong = signed_headers(key, secret, extra={"X-KMS-AWS-IAM-Server-ID": "other.example.com"})
    expect(login(world, identity_id, wrong), 403, refused)
    audit = world["server"].call("GET", f"/api/v1/organizations/{world['org']}/audit-logs?eventType=aws-auth-login-failed&limit=1000", world["admin"]).json()["auditLogs"]
    reasons = [e["eventMetadata"].get("reason", "") for e in audit if e["eventMetadata"].get("identityId") == identity_id]
    assert any("required" in r for r in reasons) and any("signed" in r for r in reasons) and any("does not match" in r for r in reasons), reasons


def test_revoke_invalidates_issued_tokens(world):
    key, secret = world["user_key"]
    identity_id = identity_with_aws_auth(world)
    token = login(world, identity_id, signed_headers(key, secret)).json()["accessToken"]
    s, admin = world["server"], world["admin"]
    assert s.call("GET", "/api/v1/auth/token/self", token).status_code == 200
    assert s.call("GET", f"/api/v1/auth/aws-auth/identities/{identity_id}", admin).status_code == 200
    assert s.call("DELETE", f"/api/v1/auth/aws-auth/identities/{identity_id}", admin).status_code == 200
    assert s.call("GET", "/api/v1/auth/token/self", token).status_code == 401
    assert s.call("GET", f"/api/v1/auth/aws-auth/identities/{identity_id}", admin).status_code == 404


def test_kms_login_aws_cli(world, tmp_path):
    import stat
    import subprocess
    from kms import KMS_BIN
    identity_id = identity_with_aws_auth(world, iamServerIdHeaderValue="kms.test")
    key, secret = world["user_key"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true", "HOME": str(tmp_path)})
    base = [KMS_BIN, "login", "aws", "--identity-id", identity_id, "--server", world["server"].url]
    printed = subprocess.run(base + ["--server-id", "kms.test"], env=env, capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0, printed.stderr
    token = printed.stdout.strip()
    assert world["server"].call("GET", "/api/v1/auth/token/self", token).json()["authMethod"] == "aws-auth"
    as_json = subprocess.run(base + ["--server-id", "kms.test", "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert json.loads(as_json.stdout)["tokenType"] == "Bearer"
    out = tmp_path / "token"
    to_file = subprocess.run(base + ["--server-id", "kms.test", "--output", str(out)], env=env, capture_output=True, text=True, timeout=60)
    assert to_file.returncode == 0 and to_file.stdout == ""
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and out.read_text().startswith("kms_at_")
    refused = subprocess.run(base, env=env, capture_output=True, text=True, timeout=60)
    # Refused with the common answer, which names no identity's settings.
    assert refused.returncode != 0 and "403" in refused.stderr and "refused" in refused.stderr
    no_creds = subprocess.run(base, env={k: v for k, v in env.items() if not k.startswith("AWS_ACCESS") and not k.startswith("AWS_SECRET")} | {"AWS_EC2_METADATA_DISABLED": "true"},
                              capture_output=True, text=True, timeout=60)
    assert no_creds.returncode != 0 and "credentials" in no_creds.stderr.lower()


def test_a_setting_only_in_the_config_file_reaches_the_plugin(world, tmp_path):
    """KMS_AWS_AUTH_MAX_SKEW set only in KMS_CONFIG_FILE narrows AWS Auth's window: a login signed
    60 s ago passes the default 300 s window but not the file's 30 s."""
    key, secret = world["user_key"]
    config = tmp_path / "kms.conf"
    config.write_text("# AWS Auth accepts signatures at most 30 s old\nKMS_AWS_AUTH_MAX_SKEW = 30\n")
    (tmp_path / "data").mkdir()
    env = {"AWS_ENDPOINT_URL_STS": world["moto"].url, "KMS_CONFIG_FILE": str(config)}
    narrow = Server(data_dir=str(tmp_path / "data"), env=env).start()
    try:
        assert "KMS_AWS_AUTH_MAX_SKEW" not in narrow.env, "the setting is in the file only"
        admin, org = narrow.bootstrap()
        there = {"server": narrow, "admin": admin, "org": org}
        identity = identity_with_aws_auth(there)
        old = signed_headers(key, secret, date=datetime.now(timezone.utc) - timedelta(seconds=60))
        expect(login(there, identity, old), 401, "outside the allowed window")
        assert login(there, identity, signed_headers(key, secret)).status_code == 200
        # The same 60-s-old signature passes the default window of the suite's server.
        assert login(world, identity_with_aws_auth(world), old).status_code == 200
    finally:
        narrow.stop()
