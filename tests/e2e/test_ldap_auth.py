"""LDAP Auth end to end against the real binary and a real slapd that the test starts and seeds:
the official infisicalsdk logs in unchanged over ldaps:// and StartTLS; wrong and empty passwords,
users outside the allowed groups or fields and filter injection are refused, each audited; the
service password is sealed and never shown."""
import os
import subprocess

import pytest
from infisical_sdk import InfisicalSDKClient

from kms import KMS_BIN, Server
from ldap_server import BASE, DEPLOYERS, PASSWORDS, SERVICE_DN, SERVICE_PW, LDAPServer


@pytest.fixture(scope="module")
def directory():
    server = LDAPServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def kms(tmp_path_factory):
    server = Server(data_dir=str(tmp_path_factory.mktemp("kms")),
                    env={"KMS_AUDIT_FAILURES_PER_MINUTE": "1000", "KMS_LDAP_ALLOWED_HOSTS": "127.0.0.1"}).start()
    admin, org = server.bootstrap()
    yield {"server": server, "admin": admin, "org": org}
    server.stop()


def identity(kms, directory, name="ldap", **changes):
    s, admin = kms["server"], kms["admin"]
    identity_id = s.call("POST", "/api/v1/identities", admin, {"name": name, "organizationId": kms["org"]}).json()["identity"]["id"]
    config = {"url": directory.ldaps_url, "bindDN": SERVICE_DN, "bindPass": SERVICE_PW, "searchBase": f"ou=people,{BASE}",
              "ldapCaCertificate": directory.ca_pem, "allowedGroupDNs": [DEPLOYERS], "accessTokenTTL": 900, "lockoutEnabled": False}
    config.update(changes)
    r = s.call("POST", f"/api/v1/auth/ldap-auth/identities/{identity_id}", admin, config)
    assert r.status_code == 200, r.text
    assert "bindPass" not in r.json()["identityLdapAuth"] and SERVICE_PW not in r.text
    return identity_id


def login(kms, identity_id, username, password):
    return kms["server"].call("POST", "/api/v1/auth/ldap-auth/login", json={"identityId": identity_id, "username": username, "password": password})


def test_the_official_sdk_logs_in_over_ldaps_and_starttls(kms, directory):
    s = kms["server"]
    client = InfisicalSDKClient(host=s.url)
    for url in (directory.ldaps_url, directory.starttls_url):
        identity_id = identity(kms, directory, url=url)
        result = client.auth.ldap_auth.login(identity_id=identity_id, username="alice", password=PASSWORDS["alice"])
        assert result.tokenType == "Bearer" and result.expiresIn == 900
        me = s.call("GET", "/api/v1/auth/token/self", result.accessToken).json()
        assert me["identityId"] == identity_id and me["authMethod"] == "ldap-auth"
    got = s.call("GET", f"/api/v1/auth/ldap-auth/identities/{identity_id}", kms["admin"])
    assert got.json()["identityLdapAuth"]["searchFilter"] == "(uid={{username}})" and SERVICE_PW not in got.text
    audit = s.call("GET", f"/api/v1/organizations/{kms['org']}/audit-logs?eventType=ldap-auth-login", kms["admin"]).json()["auditLogs"]
    assert audit[0]["eventMetadata"]["userDN"] == f"uid=alice,ou=people,{BASE}"
    assert PASSWORDS["alice"] not in s.logs() and SERVICE_PW not in s.logs()


def test_each_bad_login_is_refused_and_audited(kms, directory):
    s = kms["server"]
    identity_id = identity(kms, directory, name="refusals")
    alice = PASSWORDS["alice"]
    cases = {
        "wrong password": ("alice", "not-alices-password"),
        "empty password": ("alice", ""),
        "in none of the allowed groups": ("bob", PASSWORDS["bob"]),
        "no entry matches": ("mallory", "whatever"),
        # Filter injection: the user name is only ever a value, so these match no entry.
        "no entry matches '*)(uid=*'": ("*)(uid=*", alice),
        "no entry matches '*'": ("*", alice),
        "no entry matches 'alice)(|(uid=*'": ("alice)(|(uid=*", alice),
    }
    answers = {reason: login(kms, identity_id, *credentials) for reason, credentials in cases.items()}
    assert {k: r.status_code for k, r in answers.items()} == {k: 401 for k in cases}, {k: r.text for k, r in answers.items()}
    assert len({r.json()["message"] for r in answers.values()}) == 1, "the answer says nothing about which check failed"
    audit = s.call("GET", f"/api/v1/organizations/{kms['org']}/audit-logs?eventType=ldap-auth-login-failed&limit=100", kms["admin"]).json()["auditLogs"]
    reasons = [e["eventMetadata"]["reason"] for e in audit if e["eventMetadata"].get("identityId") == identity_id]
    for expected in cases:
        assert any(expected in r for r in reasons), (expected, reasons)
    assert login(kms, identity_id, "carol", PASSWORDS["carol"]).status_code == 200, "another member of the group gets in"


def test_allowed_fields_and_an_unescaped_filter_cannot_be_widened(kms, directory):
    identity_id = identity(kms, directory, name="fields", allowedGroupDNs=[], allowedFields=[{"key": "departmentNumber", "value": "platform, infra"}],
                           searchFilter="(&(objectClass=inetOrgPerson)(uid={{username}}))")
    assert login(kms, identity_id, "alice", PASSWORDS["alice"]).status_code == 200
    assert login(kms, identity_id, "bob", PASSWORDS["bob"]).status_code == 401, "bob's department is not allowed"
    assert login(kms, identity_id, "*", PASSWORDS["alice"]).status_code == 401


def test_config_errors_are_clear(kms, directory):
    s, admin = kms["server"], kms["admin"]
    identity_id = s.call("POST", "/api/v1/identities", admin, {"name": "bad", "organizationId": kms["org"]}).json()["identity"]["id"]
    base = {"url": directory.ldaps_url, "bindDN": SERVICE_DN, "bindPass": SERVICE_PW, "searchBase": BASE}
    for change, word in [({"url": "http://127.0.0.1"}, "ldaps://"), ({"url": "ldaps://169.254.169.254"}, "internal address"),
                         ({"bindPass": ""}, "bindPass"), ({"searchFilter": "(uid=alice)"}, "{{username}}"),
                         ({"searchFilter": "(uid={{username}}"}, "searchFilter"), ({"ldapCaCertificate": "nope"}, "ldapCaCertificate")]:
        r = s.call("POST", f"/api/v1/auth/ldap-auth/identities/{identity_id}", admin, {**base, **change})
        assert r.status_code == 400 and word in r.json()["message"], (change, r.text)
    # A wrong service password is the operator's problem, not the user's: a 502 that says so.
    # The caller learns nothing about the directory; the organization's audit log has the reason.
    wrong = identity(kms, directory, name="wrong-service", bindPass="not-the-service-password")
    r = login(kms, wrong, "alice", PASSWORDS["alice"])
    assert r.status_code == 502 and directory.ldaps_url not in r.text, r.text
    assert any("refused the service account" in reason and "Invalid credentials" in reason for reason in failure_reasons(kms, wrong))
    # Without the directory's CA its certificate does not verify.
    untrusted = identity(kms, directory, name="no-ca", ldapCaCertificate="")
    r = login(kms, untrusted, "alice", PASSWORDS["alice"])
    assert r.status_code == 502, r.text
    assert any("Can't contact LDAP server" in reason for reason in failure_reasons(kms, untrusted)), failure_reasons(kms, untrusted)


def failure_reasons(kms, identity_id):
    audit = kms["server"].call("GET", f"/api/v1/organizations/{kms['org']}/audit-logs?eventType=ldap-auth-login-failed&limit=100", kms["admin"]).json()["auditLogs"]
    return [e["eventMetadata"]["reason"] for e in audit if e["eventMetadata"].get("identityId") == identity_id]


def test_kms_login_ldap(kms, directory):
    s = kms["server"]
    identity_id = identity(kms, directory, name="cli")
    env = {**os.environ, "KMS_SERVER_URL": s.url, "KMS_LDAP_PASSWORD": PASSWORDS["alice"]}
    printed = subprocess.run([KMS_BIN, "login", "ldap", "--identity-id", identity_id, "--username", "alice"], env=env, capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0, printed.stderr
    assert s.call("GET", "/api/v1/auth/token/self", printed.stdout.strip()).json()["authMethod"] == "ldap-auth"
    piped = subprocess.run([KMS_BIN, "login", "ldap", "--identity-id", identity_id, "--username", "alice", "--password-stdin"],
                           env={**os.environ, "KMS_SERVER_URL": s.url}, input=PASSWORDS["alice"] + "\n", capture_output=True, text=True, timeout=60)
    assert piped.returncode == 0, piped.stderr
    refused = subprocess.run([KMS_BIN, "login", "ldap", "--identity-id", identity_id, "--username", "alice"],
                             env={**env, "KMS_LDAP_PASSWORD": "wrong"}, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "401" in refused.stderr
