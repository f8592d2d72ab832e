"""OIDC Auth end to end against the real binary and a local HTTPS issuer (discovery + JWKS, its
own CA, keys it rotates): the official infisicalsdk logs in unchanged; each kind of bad token is
refused for its own audited reason; key fetches are bounded; internal discovery hosts are refused."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import time

import pytest
from infisical_sdk import InfisicalSDKClient

from kms import KMS_BIN, Server
from oidc_issuer import Issuer, SigningKey

MIN_REFRESH = 2


@pytest.fixture(scope="module")
def issuer():
    issuer = Issuer()
    yield issuer
    issuer.stop()


@pytest.fixture(scope="module")
def kms(tmp_path_factory):
    server = Server(data_dir=str(tmp_path_factory.mktemp("kms")),
                    env={"KMS_AUDIT_FAILURES_PER_MINUTE": "1000", "KMS_OIDC_ALLOWED_HOSTS": "127.0.0.1",
                         "KMS_OIDC_JWKS_MIN_REFRESH_SECONDS": str(MIN_REFRESH)}).start()
    admin, org = server.bootstrap()
    yield {"server": server, "admin": admin, "org": org}
    server.stop()


def identity(kms, issuer, name="oidc", **changes):
    s, admin = kms["server"], kms["admin"]
    identity_id = s.call("POST", "/api/v1/identities", admin, {"name": name, "organizationId": kms["org"]}).json()["identity"]["id"]
    config = {"oidcDiscoveryUrl": issuer.url, "caCert": issuer.ca_pem, "boundIssuer": issuer.url, "boundAudiences": "kms, other",
              "boundSubject": "repo:acme/*", "boundClaims": {"repository": "acme/*"}, "accessTokenTTL": 600, "lockoutEnabled": False}
    config.update(changes)
    r = s.call("POST", f"/api/v1/auth/oidc-auth/identities/{identity_id}", admin, config)
    assert r.status_code == 200, r.text
    return identity_id


def login(kms, identity_id, token):
    return kms["server"].call("POST", "/api/v1/auth/oidc-auth/login", json={"identityId": identity_id, "jwt": token})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_without_kid(key, claims):
    import jwt
    return jwt.encode(claims, key.private, algorithm=key.algorithm)


def test_the_official_sdk_logs_in_with_rs256_and_es256(kms, issuer):
    s = kms["server"]
    identity_id = identity(kms, issuer)
    config = s.call("GET", f"/api/v1/auth/oidc-auth/identities/{identity_id}", kms["admin"]).json()["identityOidcAuth"]
    assert config["boundIssuer"] == issuer.url and config["boundClaims"] == {"repository": "acme/*"} and config["boundAudiences"] == "kms, other"
    client = InfisicalSDKClient(host=s.url)
    for key in issuer.keys:
        result = client.auth.oidc_auth.login(identity_id=identity_id, jwt=key.sign(issuer.claims()))
        assert result.tokenType == "Bearer" and result.expiresIn == 600
        me = s.call("GET", "/api/v1/auth/token/self", result.accessToken).json()
        assert me["identityId"] == identity_id and me["authMethod"] == "oidc-auth"
    audit = s.call("GET", f"/api/v1/organizations/{kms['org']}/audit-logs?eventType=oidc-auth-login", kms["admin"]).json()["auditLogs"]
    assert audit and audit[0]["eventMetadata"]["subject"] == "repo:acme/app:ref:refs/heads/main"


def test_each_bad_token_is_refused_for_its_own_reason(kms, issuer):
    s = kms["server"]
    identity_id = identity(kms, issuer, name="refusals")
    rsa = issuer.keys[0]
    assert login(kms, identity_id, rsa.sign(issuer.claims())).status_code == 200
    header_payload = lambda header, claims: b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    unsigned = header_payload({"alg": "none", "kid": rsa.kid, "typ": "JWT"}, issuer.claims()) + "."
    confused_input = header_payload({"alg": "HS256", "kid": rsa.kid, "typ": "JWT"}, issuer.claims())
    confused = confused_input + "." + b64(hmac.new(rsa.public_pem(), confused_input.encode(), hashlib.sha256).digest())
    impostor = SigningKey("RS256", kid=rsa.kid)
    cases = {
        "signature does not verify": impostor.sign(issuer.claims()),
        "not the bound issuer": rsa.sign(issuer.claims(iss="https://evil.example")),
        "none of the bound audiences": rsa.sign(issuer.claims(aud="someone-else")),
        "does not match the bound subject": rsa.sign(issuer.claims(sub="repo:evil/app")),
        "claim repository does not match": rsa.sign(issuer.claims(repository="evil/app")),
        "expired": rsa.sign(issuer.claims(exp=int(time.time()) - 600, iat=int(time.time()) - 900, nbf=int(time.time()) - 900)),
        "algorithm none is not accepted": unsigned,
        "algorithm HS256 is not accepted": confused,
        "publishes no key 'unknown-kid'": rsa.sign(issuer.claims(), kid="unknown-kid"),
        # Each key verifies only the algorithm it is published for.
        "says RS384 but its key is for RS256": rsa.sign(issuer.claims(), algorithm="RS384"),
        "says ES256 but its key is for RS256": issuer.keys[1].sign(issuer.claims(), kid=rsa.kid),
        "no expiry": rsa.sign(issuer.claims(exp=None)),
        "publishes no key without a key id": jwt_without_kid(rsa, issuer.claims()),
    }
    answers = {reason: login(kms, identity_id, token) for reason, token in cases.items()}
    assert {k: r.status_code for k, r in answers.items()} == {k: 401 for k in cases}, {k: r.text for k, r in answers.items()}
    assert len({r.json()["message"] for r in answers.values()}) == 1, "the answer says nothing about which check failed"
    audit = s.call("GET", f"/api/v1/organizations/{kms['org']}/audit-logs?eventType=oidc-auth-login-failed&limit=100", kms["admin"]).json()["auditLogs"]
    reasons = [e["eventMetadata"]["reason"] for e in audit if e["eventMetadata"].get("identityId") == identity_id]
    for expected in cases:
        words = expected.split(" ")
        assert any(all(w in r for w in words) for r in reasons), (expected, reasons)
    assert login(kms, identity_id, "not.a.jwt").status_code == 400


def test_rotated_keys_are_fetched_and_fetches_are_bounded(kms, issuer):
    identity_id = identity(kms, issuer, name="rotation")
    assert login(kms, identity_id, issuer.keys[0].sign(issuer.claims())).status_code == 200
    time.sleep(MIN_REFRESH + 0.5)
    fresh = issuer.rotate()
    before = issuer.jwks_fetches
    assert login(kms, identity_id, fresh.sign(issuer.claims())).status_code == 200, "an unknown kid makes the server fetch the keys again"
    assert issuer.jwks_fetches == before + 1
    # A flood of made-up key ids within the interval fetches nothing more.
    for i in range(20):
        assert login(kms, identity_id, fresh.sign(issuer.claims(), kid=f"made-up-{i}")).status_code == 401
    assert issuer.jwks_fetches == before + 1
    # After the interval, one more fetch; the key is still unknown, so still refused.
    time.sleep(MIN_REFRESH + 0.5)
    assert login(kms, identity_id, fresh.sign(issuer.claims(), kid="made-up-again")).status_code == 401
    assert issuer.jwks_fetches == before + 2


def test_discovery_urls_are_checked(kms, issuer):
    s, admin = kms["server"], kms["admin"]
    identity_id = s.call("POST", "/api/v1/identities", admin, {"name": "ssrf", "organizationId": kms["org"]}).json()["identity"]["id"]
    base = {"boundIssuer": "x", "boundAudiences": "kms"}
    for url, words in [("https://169.254.169.254", "internal address"), ("https://10.0.0.1:8443", "internal address"),
                       ("http://127.0.0.1:1", "https"), ("https://user:pw@127.0.0.1", "https"), ("https://[::1]", "internal address")]:
        r = s.call("POST", f"/api/v1/auth/oidc-auth/identities/{identity_id}", admin, {**base, "oidcDiscoveryUrl": url})
        assert r.status_code == 400 and words in r.json()["message"], (url, r.text)
    r = s.call("POST", f"/api/v1/auth/oidc-auth/identities/{identity_id}", admin, {"oidcDiscoveryUrl": issuer.url, "boundIssuer": issuer.url})
    assert r.status_code == 400 and "boundAudiences" in r.json()["message"]
    r = s.call("POST", f"/api/v1/auth/oidc-auth/identities/{identity_id}", admin,
               {"oidcDiscoveryUrl": issuer.url, "boundIssuer": issuer.url, "boundAudiences": "kms", "boundSubject": "*"})
    assert r.status_code == 400 and "boundSubject or boundClaims" in r.json()["message"], "any workload of the issuer would get in"
    r = s.call("POST", f"/api/v1/auth/oidc-auth/identities/{identity_id}", admin,
               {"oidcDiscoveryUrl": "https://012.0.0.1", "boundIssuer": "x", "boundAudiences": "kms", "boundSubject": "s"})
    assert r.status_code == 400 and "internal address" in r.json()["message"], "octal-looking literals are judged as connectors read them (10.0.0.1)"
    r = s.call("POST", f"/api/v1/auth/oidc-auth/identities/{identity_id}", admin,
               {"oidcDiscoveryUrl": issuer.url, "boundIssuer": issuer.url, "boundAudiences": "kms", "caCert": "not a certificate"})
    assert r.status_code == 400 and "caCert" in r.json()["message"]


def failure_reasons(kms, identity_id):
    audit = kms["server"].call("GET", f"/api/v1/organizations/{kms['org']}/audit-logs?eventType=oidc-auth-login-failed&limit=100", kms["admin"]).json()["auditLogs"]
    return [e["eventMetadata"]["reason"] for e in audit if e["eventMetadata"].get("identityId") == identity_id]


def test_an_unreachable_issuer_is_a_502_with_details_in_the_audit_log_only(kms, issuer):
    """Without the config's CA the issuer's certificate does not verify. The caller gets a 502 that
    names no URL or address; the organization's audit log says why."""
    identity_id = identity(kms, issuer, name="no-ca", caCert="")
    r = login(kms, identity_id, issuer.keys[0].sign(issuer.claims()))
    assert r.status_code == 502 and issuer.url not in r.text and "127.0.0.1" not in r.text, r.text
    assert any("discovery document" in reason and "could not be fetched" in reason for reason in failure_reasons(kms, identity_id))


def test_a_failing_issuer_is_not_asked_by_every_login(kms, issuer):
    """Failed fetches count towards the refresh interval too."""
    identity_id = identity(kms, issuer, name="broken", oidcDiscoveryUrl=issuer.url + "/broken")
    path = "/broken/.well-known/openid-configuration"
    answers = [login(kms, identity_id, issuer.keys[0].sign(issuer.claims())).status_code for _ in range(10)]
    assert answers == [502] * 10
    assert issuer.requests.get(path) == 1, issuer.requests
    time.sleep(MIN_REFRESH + 0.5)
    assert login(kms, identity_id, issuer.keys[0].sign(issuer.claims())).status_code == 502
    assert issuer.requests.get(path) == 2


def test_kms_login_oidc(kms, issuer, tmp_path):
    """`kms login oidc` comes from the plugin and re-reads the token file (projected tokens rotate)."""
    s = kms["server"]
    identity_id = identity(kms, issuer, name="cli")
    token_file = tmp_path / "jwt"
    token_file.write_text(issuer.keys[1].sign(issuer.claims()) + "\n")
    env = {**os.environ, "KMS_SERVER_URL": s.url}
    printed = subprocess.run([KMS_BIN, "login", "oidc", "--identity-id", identity_id, "--jwt-file", str(token_file)],
                             env=env, capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0, printed.stderr
    assert s.call("GET", "/api/v1/auth/token/self", printed.stdout.strip()).json()["authMethod"] == "oidc-auth"
    token_file.write_text(issuer.keys[1].sign(issuer.claims(aud="nope")))
    refused = subprocess.run([KMS_BIN, "login", "oidc", "--identity-id", identity_id, "--jwt-file", str(token_file)],
                             env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "401" in refused.stderr
