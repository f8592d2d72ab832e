"""AWS IAM dynamic secrets end to end: moto with signature checking on, the real kms binary, the official SDK."""
import json
import time
from datetime import datetime, timezone

import boto3
import pytest
import requests
from infisical_sdk import InfisicalSDKClient

from kms import Server
from moto_server import Moto


def parse(ts):
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    moto = Moto(recording=True)
    server_key = moto.seed_user("kms-server")
    access_key = moto.seed_user("kms-keys")
    iam = moto.client("iam")
    iam.create_group(GroupName="devs")
    read = iam.create_policy(PolicyName="read", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))["Policy"]["Arn"]
    boundary = iam.create_policy(PolicyName="boundary", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))["Policy"]["Arn"]
    data_dir = tmp_path_factory.mktemp("kms")
    server = Server(data_dir=str(data_dir), env={"AWS_ENDPOINT_URL": moto.url, "KMS_DYNAMIC_SECRET_AWS_ACCESS_KEY_ID": server_key[0],
                                                  "KMS_DYNAMIC_SECRET_AWS_SECRET_ACCESS_KEY": server_key[1], "KMS_LEASE_REAPER_INTERVAL": "0.5",
                                                  "KMS_AWS_AMBIENT_ORGS": "acme"}).start()
    admin, org = server.bootstrap()
    project = server.call("POST", "/api/v1/projects", admin, {"projectName": "Payments"}).json()["project"]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/kms-server"},
                                                     "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": project["id"]}}}]}
    role_arn = iam.create_role(RoleName="kms-dynamic", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName="kms-dynamic", PolicyName="all", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    moto.enforce()
    client = InfisicalSDKClient(host=server.url, token=admin)
    yield {"moto": moto, "server": server, "admin": admin, "project": project, "client": client, "role_arn": role_arn,
           "access_key": access_key, "read": read, "boundary": boundary, "server_key": server_key}
    server.stop()
    moto.stop()


def recorded_bodies(world):
    return world["moto"].recorded_bodies()


def admin_iam(world):
    key = world["server_key"]
    return world["moto"].client("iam", key[0], key[1])


def create_secret(world, name, inputs, default_ttl="1h", max_ttl="2h"):
    return world["client"].dynamic_secrets.create(name=name, provider_type="aws-iam", inputs=inputs, default_ttl=default_ttl, max_ttl=max_ttl,
                                                  project_slug=world["project"]["slug"], environment_slug="dev", path="/")


@pytest.mark.parametrize("method", ["assume-role", "access-key"])
def test_iam_user_lease_lifecycle(world, method):
    inputs = {"method": method, "credentialType": "iam-user", "region": "us-east-1", "awsPath": "/kms/",
              "permissionBoundaryPolicyArn": world["boundary"], "userGroups": "devs", "policyArns": world["read"],
              "policyDocument": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}),
              "tags": [{"key": "team", "value": "payments"}]}
    if method == "assume-role":
        inputs["roleArn"] = world["role_arn"]
    else:
        inputs["accessKey"], inputs["secretAccessKey"] = world["access_key"]
    name = f"users-{method}"
    secret = create_secret(world, name, inputs)
    assert secret.type == "aws-iam" and secret.folderId
    got = world["server"].call("GET", f"/api/v1/dynamic-secrets/{name}?projectSlug={world['project']['slug']}&environmentSlug=dev&path=/", world["admin"]).json()
    assert "secretAccessKey" not in json.dumps(got) or got["dynamicSecret"]["inputs"].get("secretAccessKey") == "********"
    if method == "access-key":
        assert world["access_key"][1] not in json.dumps(got)

    leases = world["client"].dynamic_secrets.leases
    created = leases.create(dynamic_secret_name=name, project_slug=world["project"]["slug"], environment_slug="dev", path="/", ttl="30m")
    data = created.data
    username = data["USERNAME"]
    assert created.lease.externalEntityId == username
    # The new user's own key works against moto (its inline policy allows GetCallerIdentity).
    sts = world["moto"].client("sts", data["ACCESS_KEY"], data["SECRET_ACCESS_KEY"])
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::123456789012:user/kms/{username}"
    iam = admin_iam(world)
    user = iam.get_user(UserName=username)["User"]
    assert user["Path"] == "/kms/"
    tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=username)["Tags"]}
    assert tags["team"] == "payments" and tags["managed-by"] == "kms" and tags["kms-lease-id"] == created.lease.id
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=username)["Groups"]] == ["devs"]
    assert [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=username)["AttachedPolicies"]] == [world["read"]]
    assert iam.list_user_policies(UserName=username)["PolicyNames"] == ["kms-inline"]
    create_call = [b for b in recorded_bodies(world) if "Action=CreateUser" in b and username in b]
    assert len(create_call) == 1 and "PermissionsBoundary=" + world["boundary"].replace(":", "%3A").replace("/", "%2F") in create_call[0]

    expire = parse(created.lease.expireAt)
    renewed = leases.renew(created.lease.id, world["project"]["slug"], "dev", path="/", ttl="30m")
    assert (parse(renewed.expireAt) - expire).total_seconds() == pytest.approx(1800, abs=2)
    with pytest.raises(Exception):
        leases.renew(created.lease.id, world["project"]["slug"], "dev", path="/", ttl="2h")  # past max TTL
    revoked = leases.revoke(created.lease.id, world["project"]["slug"], "dev", path="/")
    assert revoked.status == "revoked"
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName=username)


def test_expired_lease_is_reaped(world):
    name = "reaped"
    create_secret(world, name, {"method": "assume-role", "roleArn": world["role_arn"], "credentialType": "iam-user"})
    s = world["server"]
    body = {"dynamicSecretName": name, "projectSlug": world["project"]["slug"], "environmentSlug": "dev", "path": "/", "ttl": 2}
    created = s.call("POST", "/api/v1/dynamic-secrets/leases", world["admin"], body).json()
    username = created["data"]["USERNAME"]
    iam = admin_iam(world)
    assert iam.get_user(UserName=username)
    deadline = time.monotonic() + 20
    status = None
    while time.monotonic() < deadline:
        status = s.call("GET", f"/api/v1/dynamic-secrets/leases/{created['lease']['id']}?projectSlug={world['project']['slug']}&environmentSlug=dev&path=/",
                        world["admin"]).json()["lease"]["status"]
        if status == "expired":
            break
        time.sleep(0.25)
    assert status == "expired"
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName=username)
    audit = s.call("GET", f"/api/v1/organizations/{world['project']['orgId']}/audit-logs?eventType=lease-expired", world["admin"]).json()["auditLogs"]
    assert any(e["eventMetadata"]["leaseId"] == created["lease"]["id"] for e in audit)


def test_temporary_credentials(world):
    create_secret(world, "sts-role", {"method": "assume-role", "roleArn": world["role_arn"], "credentialType": "temporary-credentials"}, max_ttl="4h")
    leases = world["client"].dynamic_secrets.leases
    before = datetime.now(timezone.utc)
    created = leases.create(dynamic_secret_name="sts-role", project_slug=world["project"]["slug"], environment_slug="dev", path="/", ttl="2h")
    data = created.data
    assert set(data) == {"ACCESS_KEY", "SECRET_ACCESS_KEY", "SESSION_TOKEN"}
    arn = world["moto"].client("sts", data["ACCESS_KEY"], data["SECRET_ACCESS_KEY"], data["SESSION_TOKEN"]).get_caller_identity()["Arn"]
    assert arn.startswith("arn:aws:sts::123456789012:assumed-role/kms-dynamic/")
    # AssumeRole allows one hour: the clamp shows in the lease's expiry.
    assert (parse(created.lease.expireAt) - before).total_seconds() <= 3600 + 5
    # Session policies scope role credentials: both kinds are sent with the AssumeRole.
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
    create_secret(world, "sts-scoped", {"method": "assume-role", "roleArn": world["role_arn"], "credentialType": "temporary-credentials",
                                        "policyDocument": policy, "policyArns": world["read"]}, max_ttl="1h")
    leases.create(dynamic_secret_name="sts-scoped", project_slug=world["project"]["slug"], environment_slug="dev", path="/")
    scoped = [b for b in recorded_bodies(world) if "Action=AssumeRole&" in b and "sts-scoped" not in b and "PolicyArns.member.1.arn" in b]
    assert scoped and "Policy=" in scoped[-1], "the session policies reach STS"
    with pytest.raises(Exception):
        leases.renew(created.lease.id, world["project"]["slug"], "dev", path="/", ttl="10m")

    key, secret = world["access_key"]
    create_secret(world, "sts-session", {"method": "access-key", "accessKey": key, "secretAccessKey": secret, "credentialType": "temporary-credentials"},
                  default_ttl="1h", max_ttl="24h")
    session = leases.create(dynamic_secret_name="sts-session", project_slug=world["project"]["slug"], environment_slug="dev", path="/", ttl="20h")
    assert set(session.data) == {"ACCESS_KEY", "SECRET_ACCESS_KEY", "SESSION_TOKEN"}
    # GetSessionToken allows twelve hours at most (moto hands out fixed keys it does not itself accept).
    assert (parse(session.lease.expireAt) - before).total_seconds() <= 12 * 3600 + 5


def test_refusals(world):
    s, admin, slug = world["server"], world["admin"], world["project"]["slug"]
    base = {"name": "bad", "projectSlug": slug, "environmentSlug": "dev", "path": "/", "defaultTTL": "1h", "maxTTL": "2h"}
    def create(inputs, **over):
        return s.call("POST", "/api/v1/dynamic-secrets", admin, {**base, **over, "provider": {"type": "aws-iam", "inputs": inputs}})
    # moto does not evaluate trust policies, so a refused AssumeRole is shown with a wrong key instead.
    r = create({"method": "assume-role", "roleArn": "arn:aws:s3:::not-a-role"})
    assert r.status_code == 400 and "roleArn" in r.json()["message"]
    r = create({"method": "access-key", "accessKey": "AKIAWRONG0000000000", "secretAccessKey": "nope"})
    assert r.status_code == 400 and "AWS refused" in r.json()["message"]
    assert create({"method": "carrier-pigeon"}).status_code == 400
    assert create({"method": "assume-role", "roleArn": world["role_arn"]}, defaultTTL="3h").status_code == 400
    assert s.call("POST", "/api/v1/dynamic-secrets", admin, {**base, "projectSlug": "nope", "provider": {"type": "aws-iam", "inputs": {}}}).status_code == 404
    create_secret(world, "limited", {"method": "assume-role", "roleArn": world["role_arn"]}, max_ttl="1h")
    r = s.call("POST", "/api/v1/dynamic-secrets/leases", admin, {"dynamicSecretName": "limited", "projectSlug": slug, "environmentSlug": "dev", "ttl": "2h"})
    assert r.status_code == 400 and "max TTL" in r.json()["message"]
    # GetSessionToken cannot be scoped: a scoped temporary-credentials config over access-key is refused, not widened.
    key, secret = world["access_key"]
    for field, value in [("policyDocument", json.dumps({"Version": "2012-10-17", "Statement": []})), ("policyArns", world["read"]),
                         ("userGroups", "devs"), ("permissionBoundaryPolicyArn", world["boundary"])]:
        r = create({"method": "access-key", "accessKey": key, "secretAccessKey": secret, "credentialType": "temporary-credentials", field: value})
        assert r.status_code == 400 and field in r.json()["message"], r.text


def lease_body(world, name, **extra):
    return {"dynamicSecretName": name, "projectSlug": world["project"]["slug"], "environmentSlug": "dev", "path": "/", **extra}


def test_partial_creation_is_rolled_back(world):
    s, admin = world["server"], world["admin"]
    create_secret(world, "broken-group", {"method": "assume-role", "roleArn": world["role_arn"], "userGroups": "devs,no-such-group"})
    iam = admin_iam(world)
    users_before = {u["UserName"] for u in iam.list_users()["Users"]}
    r = s.call("POST", "/api/v1/dynamic-secrets/leases", admin, lease_body(world, "broken-group"))
    assert r.status_code == 400 and ("no-such-group" in r.text or "NoSuchEntity" in r.text), r.text
    assert {u["UserName"] for u in iam.list_users()["Users"]} == users_before, "the half-made user was deleted"
    leases = s.call("GET", f"/api/v1/dynamic-secrets/broken-group/leases?projectSlug={world['project']['slug']}&environmentSlug=dev&path=/", admin).json()["leases"]
    assert leases == []


def test_user_deleted_out_of_band_and_forced_revoke(world):
    s, admin, slug = world["server"], world["admin"], world["project"]["slug"]
    create_secret(world, "oob", {"method": "assume-role", "roleArn": world["role_arn"]})
    created = s.call("POST", "/api/v1/dynamic-secrets/leases", admin, lease_body(world, "oob")).json()
    iam = admin_iam(world)
    username = created["data"]["USERNAME"]
    for key in iam.list_access_keys(UserName=username)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=username, AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName=username)
    # NoSuchEntity counts as done.
    r = s.call("DELETE", f"/api/v1/dynamic-secrets/leases/{created['lease']['id']}", admin, {"projectSlug": slug, "environmentSlug": "dev", "path": "/"})
    assert r.status_code == 200 and r.json()["lease"]["status"] == "revoked"

    # A connection whose key was deleted cannot revoke: refused, unless forced.
    temp = admin_iam(world).create_access_key(UserName="kms-keys")["AccessKey"]
    create_secret(world, "doomed", {"method": "access-key", "accessKey": temp["AccessKeyId"], "secretAccessKey": temp["SecretAccessKey"]})
    lease = s.call("POST", "/api/v1/dynamic-secrets/leases", admin, lease_body(world, "doomed")).json()["lease"]
    admin_iam(world).delete_access_key(UserName="kms-keys", AccessKeyId=temp["AccessKeyId"])
    refused = s.call("DELETE", f"/api/v1/dynamic-secrets/leases/{lease['id']}", admin, {"projectSlug": slug, "environmentSlug": "dev", "path": "/"})
    assert refused.status_code == 400 and "AWS refused" in refused.json()["message"]
    forced = s.call("DELETE", f"/api/v1/dynamic-secrets/leases/{lease['id']}", admin, {"projectSlug": slug, "environmentSlug": "dev", "path": "/", "isForced": True})
    assert forced.status_code == 200
    assert forced.json()["lease"]["status"] == "revoked" and "forced" in forced.json()["lease"]["statusDetails"]


def test_revoke_takes_the_short_way_unless_something_was_attached_out_of_band(world):
    s, admin, slug = world["server"], world["admin"], world["project"]["slug"]
    create_secret(world, "plain", {"method": "assume-role", "roleArn": world["role_arn"]})
    scope = {"projectSlug": slug, "environmentSlug": "dev", "path": "/"}
    iam = admin_iam(world)

    def revoke_calls(username, before):
        bodies = [b for b in recorded_bodies(world)[before:] if f"UserName={username}" in b]
        return [b.split("Action=")[1].split("&")[0] for b in bodies if "Action=" in b]

    # A plain user: the key kms made (its id kept, sealed, with the lease) and the user; nothing listed.
    plain = s.call("POST", "/api/v1/dynamic-secrets/leases", admin, lease_body(world, "plain")).json()
    before = len(recorded_bodies(world))
    assert s.call("DELETE", f"/api/v1/dynamic-secrets/leases/{plain['lease']['id']}", admin, scope).status_code == 200
    assert revoke_calls(plain["data"]["USERNAME"], before) == ["DeleteAccessKey", "DeleteUser"]
    assert any(f"AccessKeyId={plain['data']['ACCESS_KEY']}" in b for b in recorded_bodies(world)[before:])
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName=plain["data"]["USERNAME"])

    # Someone attached policies, a group and a second key by hand: DeleteUser refuses (moto for the
    # policies; AWS for any of them, see Tests/DynamicAWSIAMTests), and the long way cleans up.
    odd = s.call("POST", "/api/v1/dynamic-secrets/leases", admin, lease_body(world, "plain")).json()
    username = odd["data"]["USERNAME"]
    iam.attach_user_policy(UserName=username, PolicyArn=world["read"])
    iam.put_user_policy(UserName=username, PolicyName="by-hand", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}))
    iam.add_user_to_group(UserName=username, GroupName="devs")
    iam.create_access_key(UserName=username)
    before = len(recorded_bodies(world))
    r = s.call("DELETE", f"/api/v1/dynamic-secrets/leases/{odd['lease']['id']}", admin, scope)
    assert r.status_code == 200 and r.json()["lease"]["status"] == "revoked", r.text
    calls = revoke_calls(username, before)
    assert calls.count("DeleteUser") == 2 and {"ListAttachedUserPolicies", "ListUserPolicies", "ListGroupsForUser", "ListAccessKeys"} <= set(calls), calls
    assert calls.count("DeleteAccessKey") == 2, calls
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName=username)


def test_irsa_connection(tmp_path):
    # moto answers AssumeRoleWithWebIdentity only with signature checking off.
    moto = Moto(recording=True)
    try:
        iam = moto.client("iam")
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks"}, "Action": "sts:AssumeRoleWithWebIdentity"}]}
        role = iam.create_role(RoleName="irsa", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.put_role_policy(RoleName="irsa", PolicyName="assume", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
        token_file = tmp_path / "token"
        token_file.write_text("eyJ.irsa.token")
        (tmp_path / "kms").mkdir()
        env = {"AWS_ENDPOINT_URL": moto.url, "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file), "AWS_ROLE_ARN": role, "KMS_AWS_AMBIENT_ORGS": "acme"}
        server = Server(data_dir=str(tmp_path / "kms"), env=env).start()
        try:
            admin, _ = server.bootstrap()
            project = server.call("POST", "/api/v1/projects", admin, {"projectName": "Pods"}).json()["project"]
            # The tenant's own role, trusting the server's IRSA role with ExternalId = the project id.
            tenant_trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                            "Principal": {"AWS": [role, f"arn:aws:sts::123456789012:assumed-role/irsa/kms-{project['id'][:32]}"]},
                            "Condition": {"StringEquals": {"sts:ExternalId": project["id"]}}}]}
            tenant_role = iam.create_role(RoleName="tenant-pods", AssumeRolePolicyDocument=json.dumps(tenant_trust))["Role"]["Arn"]
            scope = {"projectSlug": project["slug"], "environmentSlug": "dev", "path": "/"}
            # Without a tenant role the server's own IRSA role would be handed out: refused.
            bare = server.call("POST", "/api/v1/dynamic-secrets", admin, {**scope, "name": "bare", "provider": {"type": "aws-iam", "inputs": {"method": "irsa"}}})
            assert bare.status_code == 400 and "roleArn" in bare.json()["message"], bare.text
            client = InfisicalSDKClient(host=server.url, token=admin)
            client.dynamic_secrets.create(name="pod-creds", provider_type="aws-iam",
                                          inputs={"method": "irsa", "roleArn": tenant_role, "credentialType": "temporary-credentials"},
                                          default_ttl="1h", max_ttl="24h", project_slug=project["slug"], environment_slug="dev", path="/")
            before = datetime.now(timezone.utc)
            lease = client.dynamic_secrets.leases.create(dynamic_secret_name="pod-creds", project_slug=project["slug"], environment_slug="dev", path="/", ttl="13h")
            assert set(lease.data) == {"ACCESS_KEY", "SECRET_ACCESS_KEY", "SESSION_TOKEN"}
            # A role session made by role chaining lasts at most an hour.
            assert (parse(lease.lease.expireAt) - before).total_seconds() <= 3600 + 5
            bodies = recorded_bodies({"moto": moto})
            assert any("Action=AssumeRoleWithWebIdentity" in b and "WebIdentityToken=eyJ.irsa.token" in b for b in bodies)
            assumed = [b for b in bodies if "Action=AssumeRole&" in b]
            assert assumed and all(f"ExternalId={project['id']}" in b and "tenant-pods" in b for b in assumed), assumed
            assert not any("Action=GetSessionToken" in b for b in bodies), "the server's own role is never handed out"
        finally:
            server.stop()
        # An organization the operator did not list cannot use the server's IRSA role at all.
        (tmp_path / "kms2").mkdir()
        other = Server(data_dir=str(tmp_path / "kms2"), env={**env, "KMS_AWS_AMBIENT_ORGS": "someone-else"}).start()
        try:
            admin, _ = other.bootstrap()
            project = other.call("POST", "/api/v1/projects", admin, {"projectName": "Pods"}).json()["project"]
            r = other.call("POST", "/api/v1/dynamic-secrets", admin, {"projectSlug": project["slug"], "environmentSlug": "dev", "path": "/", "name": "x",
                                                                      "provider": {"type": "aws-iam", "inputs": {"method": "irsa", "roleArn": tenant_role}}})
            assert r.status_code == 403 and "KMS_AWS_AMBIENT_ORGS" in r.json()["message"], r.text
        finally:
            other.stop()
    finally:
        moto.stop()


def test_cli(world):
    import subprocess
    from kms import KMS_BIN
    env = {"KMS_SERVER_URL": world["server"].url, "KMS_TOKEN": world["admin"], "PATH": "/usr/bin:/bin"}
    scope = ["--project", world["project"]["slug"], "--env", "dev", "--path", "/"]

    def kms(*args, ok=True):
        r = subprocess.run([KMS_BIN, *args], env=env, capture_output=True, text=True, timeout=60)
        assert (r.returncode == 0) == ok, r.stderr
        return r

    inputs = json.dumps({"method": "assume-role", "roleArn": world["role_arn"], "policyDocument": json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]})})
    created = kms("dynamic-secrets", "create", *scope, "--name", "cli-users", "--inputs", inputs, "--default-ttl", "30m", "--max-ttl", "1h")
    assert "cli-users" in created.stdout and "NAME" in created.stdout
    assert "cli-users" in kms("dynamic-secrets", "list", *scope).stdout
    assert json.loads(kms("dynamic-secrets", "get", *scope, "cli-users", "--json").stdout)["dynamicSecret"]["type"] == "aws-iam"
    exported = kms("leases", "create", *scope, "cli-users", "--env-format").stdout
    values = dict(line[len("export "):].split("=", 1) for line in exported.splitlines() if line.startswith("export "))
    key, secret = values["AWS_ACCESS_KEY_ID"].strip("'"), values["AWS_SECRET_ACCESS_KEY"].strip("'")
    assert world["moto"].client("sts", key, secret).get_caller_identity()["Arn"].startswith("arn:aws:iam::123456789012:user/")
    lease_id = exported.splitlines()[-1].split()[2]
    assert lease_id in kms("leases", "list", *scope, "cli-users").stdout
    assert "active" in kms("leases", "renew", *scope, lease_id, "--ttl", "10m").stdout
    assert "max TTL" in kms("leases", "renew", *scope, lease_id, "--ttl", "2h", ok=False).stderr
    assert "revoked" in kms("leases", "revoke", *scope, lease_id).stdout
    assert json.loads(kms("leases", "get", *scope, lease_id, "--json").stdout)["lease"]["status"] == "revoked"
    assert "deleted cli-users" in kms("dynamic-secrets", "delete", *scope, "cli-users").stdout
    no_token = subprocess.run([KMS_BIN, "dynamic-secrets", "list", *scope], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert no_token.returncode != 0 and "KMS_TOKEN" in no_token.stderr


def test_rbac_tenancy_audit_and_metrics(world):
    s, admin, project = world["server"], world["admin"], world["project"]
    slug = project["slug"]
    create_secret(world, "rbac", {"method": "assume-role", "roleArn": world["role_arn"]})
    q = f"?projectSlug={slug}&environmentSlug=dev&path=/"

    def token_for(role):
        token, identity_id = s.limited_token(admin, project["orgId"], uses=0)
        assert s.call("POST", f"/api/v1/projects/{project['id']}/identity-memberships/{identity_id}", admin, {"role": role}).status_code == 200
        return token

    viewer, member = token_for("viewer"), token_for("member")
    assert s.call("GET", f"/api/v1/dynamic-secrets/rbac{q}", viewer).status_code == 200
    assert s.call("POST", "/api/v1/dynamic-secrets/leases", viewer, lease_body(world, "rbac")).status_code == 403
    lease = s.call("POST", "/api/v1/dynamic-secrets/leases", member, lease_body(world, "rbac"))
    assert lease.status_code == 200
    assert s.call("DELETE", f"/api/v1/dynamic-secrets/rbac", member, {"projectSlug": slug, "environmentSlug": "dev", "path": "/"}).status_code == 403

    # Another organization with a project of the same slug sees none of it.
    other = s.call("POST", "/api/v1/organizations", admin, {"name": "Other"}).json()["organization"]
    s.call("POST", f"/api/v1/organizations/{other['id']}/users", admin, {"email": "o@other.com", "password": "another long password", "role": "admin"})
    other_token = s.call("POST", "/api/v1/auth/user/login", json={"email": "o@other.com", "password": "another long password"}).json()["accessToken"]
    assert s.call("GET", f"/api/v1/dynamic-secrets/rbac{q}", other_token).status_code == 404
    lease_id = lease.json()["lease"]["id"]
    assert s.call("GET", f"/api/v1/dynamic-secrets/leases/{lease_id}{q}", other_token).status_code == 404

    # Audit without secrets; metrics count leases.
    data = lease.json()["data"]
    audit = s.call("GET", f"/api/v1/organizations/{project['orgId']}/audit-logs?limit=1000", admin).text
    assert data["SECRET_ACCESS_KEY"] not in audit and world["access_key"][1] not in audit
    for event in ["dynamic-secret-created", "lease-created"]:
        assert f'"eventType":"{event}"' in audit
    metrics = s.call("GET", "/metrics").text
    assert "kms_leases_created_total" in metrics and "kms_lease_reaper_backlog" in metrics
    assert world["access_key"][1] not in s.logs() and data["SECRET_ACCESS_KEY"] not in s.logs()


def test_reaper_survives_a_restart(world, tmp_path):
    """A lease that expires while the server is down is revoked by the next server on start-up."""
    key = world["server_key"]
    env = {"AWS_ENDPOINT_URL": world["moto"].url, "KMS_DYNAMIC_SECRET_AWS_ACCESS_KEY_ID": key[0],
           "KMS_DYNAMIC_SECRET_AWS_SECRET_ACCESS_KEY": key[1], "KMS_LEASE_REAPER_INTERVAL": "0.5"}
    first = Server(data_dir=str(tmp_path), env=env).start()
    admin, _ = first.bootstrap()
    project = first.call("POST", "/api/v1/projects", admin, {"projectName": "Restart"}).json()["project"]
    inputs = {"method": "access-key", "accessKey": world["access_key"][0], "secretAccessKey": world["access_key"][1]}
    assert first.call("POST", "/api/v1/dynamic-secrets", admin, {"name": "r", "projectSlug": project["slug"], "environmentSlug": "dev",
                                                                "defaultTTL": 3, "maxTTL": 60, "provider": {"type": "aws-iam", "inputs": inputs}}).status_code == 200
    lease = first.call("POST", "/api/v1/dynamic-secrets/leases", admin, {"dynamicSecretName": "r", "projectSlug": project["slug"], "environmentSlug": "dev"}).json()
    username = lease["data"]["USERNAME"]
    first.stop()
    time.sleep(3.5)  # the lease expires while no server runs
    iam = admin_iam(world)
    assert iam.get_user(UserName=username)  # nothing revoked it yet
    second = Server(data_dir=str(tmp_path), env=env).start()
    try:
        deadline = time.monotonic() + 15
        gone = False
        while time.monotonic() < deadline and not gone:
            try:
                iam.get_user(UserName=username)
                time.sleep(0.25)
            except iam.exceptions.NoSuchEntityException:
                gone = True
        assert gone, "the restarted server's reaper revoked the expired lease"
    finally:
        second.stop()
