"""Universal Auth end to end against the real binary: the official infisicalsdk logs in
unchanged; every kind of bad client secret is refused with the same answer; lockout holds
across replicas."""
import time

import pytest
import requests
from infisical_sdk import InfisicalSDKClient

from kms import Server, fresh_database


@pytest.fixture(scope="module")
def kms(tmp_path_factory):
    server = Server(data_dir=str(tmp_path_factory.mktemp("kms")), env={"KMS_AUDIT_FAILURES_PER_MINUTE": "1000"}).start()
    admin, org = server.bootstrap()
    yield {"server": server, "admin": admin, "org": org}
    server.stop()


def identity(kms, name="ua", **config):
    s, admin = kms["server"], kms["admin"]
    identity_id = s.call("POST", "/api/v1/identities", admin, {"name": name, "organizationId": kms["org"]}).json()["identity"]["id"]
    r = s.call("POST", f"/api/v1/auth/universal-auth/identities/{identity_id}", admin, config)
    assert r.status_code == 200, r.text
    return identity_id, r.json()["identityUniversalAuth"]["clientId"]


def client_secret(kms, identity_id, **body):
    r = kms["server"].call("POST", f"/api/v1/auth/universal-auth/identities/{identity_id}/client-secrets", kms["admin"], body)
    assert r.status_code == 200, r.text
    return r.json()["clientSecret"], r.json()["clientSecretData"]


def login(server, client_id, secret):
    return server.call("POST", "/api/v1/auth/universal-auth/login", json={"clientId": client_id, "clientSecret": secret})


def test_the_official_sdk_logs_in(kms):
    s = kms["server"]
    identity_id, client_id = identity(kms, accessTokenTTL=600, accessTokenMaxTTL=1200)
    secret, data = client_secret(kms, identity_id, description="ci runner")
    assert data["clientSecretPrefix"] == secret[:4] and data["description"] == "ci runner"
    client = InfisicalSDKClient(host=s.url)
    result = client.auth.universal_auth.login(client_id=client_id, client_secret=secret)
    assert result.tokenType == "Bearer" and result.expiresIn == 600 and result.accessTokenMaxTTL == 1200
    me = s.call("GET", "/api/v1/auth/token/self", result.accessToken).json()
    assert me["identityId"] == identity_id and me["authMethod"] == "universal-auth"
    listed = s.call("GET", f"/api/v1/auth/universal-auth/identities/{identity_id}/client-secrets", kms["admin"]).json()["clientSecretData"]
    assert [d["clientSecretNumUses"] for d in listed] == [1]
    assert secret not in s.logs() and secret not in requests.get(s.url + "/metrics").text
    # Revoking the method ends its tokens.
    assert s.call("DELETE", f"/api/v1/auth/universal-auth/identities/{identity_id}", kms["admin"]).status_code == 200
    assert s.call("GET", "/api/v1/auth/token/self", result.accessToken).status_code == 401


def test_every_bad_client_secret_gets_the_same_answer(kms):
    s = kms["server"]
    identity_id, client_id = identity(kms, lockoutEnabled=False)
    expiring, _ = client_secret(kms, identity_id, ttl=1)
    revoked, revoked_data = client_secret(kms, identity_id)
    once, _ = client_secret(kms, identity_id, numUsesLimit=1)
    other_id, _ = identity(kms, name="other")
    others, _ = client_secret(kms, other_id)
    assert s.call("POST", f"/api/v1/auth/universal-auth/identities/{identity_id}/client-secrets/{revoked_data['id']}/revoke", kms["admin"]).json()["clientSecretData"]["isClientSecretRevoked"]
    assert login(s, client_id, once).status_code == 200
    time.sleep(1.2)  # past the expiring secret's one-second TTL
    answers = {
        "wrong": login(s, client_id, "f" * 64),
        "expired": login(s, client_id, expiring),
        "revoked": login(s, client_id, revoked),
        "used up": login(s, client_id, once),
        "another identity's": login(s, client_id, others),
        "unknown client id": login(s, "no-such-client", others),
    }
    assert {k: r.status_code for k, r in answers.items()} == {k: 401 for k in answers}
    assert len({r.json()["message"] for r in answers.values()}) == 1
    audit = s.call("GET", f"/api/v1/organizations/{kms['org']}/audit-logs?eventType=universal-auth-login-failed&limit=100", kms["admin"]).json()["auditLogs"]
    reasons = " | ".join(e["eventMetadata"]["reason"] for e in audit if e["eventMetadata"].get("identityId") == identity_id)
    for word in ["expired", "use limit", "wrong, revoked or another identity's"]:
        assert word in reasons, reasons


def test_client_secret_trusted_ips(kms):
    s = kms["server"]
    identity_id, client_id = identity(kms, clientSecretTrustedIps=[{"ipAddress": "10.0.0.0/8"}])
    secret, _ = client_secret(kms, identity_id)
    assert login(s, client_id, secret).status_code == 401, "127.0.0.1 is outside 10.0.0.0/8"
    r = s.call("PATCH", f"/api/v1/auth/universal-auth/identities/{identity_id}", kms["admin"], {"clientSecretTrustedIps": [{"ipAddress": "127.0.0.1/32"}]})
    assert r.json()["identityUniversalAuth"]["clientSecretTrustedIps"] == [{"ipAddress": "127.0.0.1"}]
    assert login(s, client_id, secret).status_code == 200


def test_lockout_holds_across_replicas(tmp_path):
    url = fresh_database()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = Server(database_url=url, data_dir=str(tmp_path / "a")).start()
    second = Server(database_url=url, data_dir=str(tmp_path / "b")).start()
    try:
        admin, org = first.bootstrap()
        kms = {"server": first, "admin": admin, "org": org}
        identity_id, client_id = identity(kms, lockoutThreshold=5, lockoutDurationSeconds=2)
        secret, _ = client_secret(kms, identity_id)
        for _ in range(5):
            assert login(first, client_id, "f" * 64).status_code == 401
        locked = login(second, client_id, secret)
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1, locked.text
        assert login(first, client_id, secret).status_code == 429, "even the right secret waits out the lock"
        time.sleep(int(locked.headers["Retry-After"]) + 0.2)
        assert login(second, client_id, secret).status_code == 200, "a good login works once the lock ends"
        audit = first.call("GET", f"/api/v1/organizations/{org}/audit-logs?eventType=universal-auth-login-locked", admin).json()["auditLogs"]
        assert len(audit) == 1
    finally:
        second.stop()
        first.stop()


def test_kms_login_universal(kms, tmp_path):
    """The method's CLI comes from its plugin: `kms login universal` prints a working token."""
    import os
    import stat
    import subprocess

    from kms import KMS_BIN

    s = kms["server"]
    identity_id, client_id = identity(kms, name="cli")
    secret, _ = client_secret(kms, identity_id)
    env = {**os.environ, "KMS_SERVER_URL": s.url, "KMS_CLIENT_SECRET": secret}
    printed = subprocess.run([KMS_BIN, "login", "universal", "--client-id", client_id], env=env, capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0, printed.stderr
    assert s.call("GET", "/api/v1/auth/token/self", printed.stdout.strip()).json()["authMethod"] == "universal-auth"
    out = tmp_path / "token"
    written = subprocess.run([KMS_BIN, "login", "universal", "--client-id", client_id, "--output", str(out)], env=env, capture_output=True, text=True, timeout=60)
    assert written.returncode == 0 and written.stdout == "" and stat.S_IMODE(out.stat().st_mode) == 0o600
    refused = subprocess.run([KMS_BIN, "login", "universal", "--client-id", client_id], env={**env, "KMS_CLIENT_SECRET": "f" * 64},
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "401" in refused.stderr
