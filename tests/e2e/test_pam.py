"""PAM AWS console end to end: moto with signature checking on, the real kms binary, a local federation endpoint."""
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest

from kms import Server
from moto_server import Moto

EMAIL = "alice.o'neil@example.com"


class Federation(BaseHTTPRequestHandler):
    """Plays AWS's federation endpoint: checks the session JSON by calling STS with it."""
    moto_url = ""
    seen = []

    def do_GET(self):
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        if query.get("Action") != ["getSigninToken"] or "Session" not in query:
            self.send_response(400); self.end_headers(); return
        session = json.loads(query["Session"][0])
        sts = boto3.client("sts", region_name="us-east-1", endpoint_url=Federation.moto_url, aws_access_key_id=session["sessionId"],
                           aws_secret_access_key=session["sessionKey"], aws_session_token=session["sessionToken"])
        arn = sts.get_caller_identity()["Arn"]
        Federation.seen.append(arn)
        body = json.dumps({"SigninToken": "signin-" + str(len(Federation.seen))}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    moto = Moto(recording=True)
    key = moto.seed_user("kms-pam")
    iam = moto.client("iam")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Federation)
    Federation.moto_url = moto.url
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    env = {"AWS_ENDPOINT_URL": moto.url, "KMS_PAM_AWS_ACCESS_KEY_ID": key[0], "KMS_PAM_AWS_SECRET_ACCESS_KEY": key[1],
           "KMS_AWS_FEDERATION_ENDPOINT": f"http://127.0.0.1:{httpd.server_address[1]}/federation", "KMS_PUBLIC_URL": "https://kms.example.com",
           "KMS_AWS_AMBIENT_ORGS": "acme",
           # Just-in-time PAM, shortened for the suites: revocations held 8 s, expiry job every 0.3 s.
           "KMS_PAM_REVOCATION_RETENTION_SECONDS": "8", "KMS_PAM_EXPIRY_INTERVAL": "0.3", "KMS_PAM_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"}
    server = Server(data_dir=str(tmp_path_factory.mktemp("kms")), env=env).start()
    admin, org = server.bootstrap()
    project = server.call("POST", "/api/v1/projects", admin, {"projectName": "Prod"}).json()["project"]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/kms-pam"}, "Action": "sts:AssumeRole",
                                                     "Condition": {"StringEquals": {"sts:ExternalId": project["id"]}}}]}
    resource_role = iam.create_role(RoleName="kms-pam-resource", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName="kms-pam-resource", PolicyName="chain", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    # moto compares the caller's ARN, for a role session its assumed-role ARN, with the principal.
    target_trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": [
        resource_role, "arn:aws:sts::123456789012:assumed-role/kms-pam-resource/kms-pam"]}}]}
    target_role = iam.create_role(RoleName="ReadOnly", AssumeRolePolicyDocument=json.dumps(target_trust))["Role"]["Arn"]
    untrusting = iam.create_role(RoleName="untrusting", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::123456789012:user/someone-else"}}]}))["Role"]["Arn"]
    wrong_id = iam.create_role(RoleName="wrong-external-id", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::123456789012:user/kms-pam"}, "Condition": {"StringEquals": {"sts:ExternalId": "another-project"}}}]}))["Role"]["Arn"]
    iam.put_role_policy(RoleName="ReadOnly", PolicyName="who", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}))
    moto.enforce()
    # A person who may access the project.
    server.call("POST", f"/api/v1/organizations/{org}/users", admin, {"email": EMAIL, "password": "another long password", "role": "member"})
    server.call("POST", f"/api/v1/projects/{project['id']}/memberships", admin, {"email": EMAIL, "role": "member"})
    user = server.call("POST", "/api/v1/auth/user/login", json={"email": EMAIL, "password": "another long password"}).json()["accessToken"]
    seeded = {"untrusting": untrusting, "wrong-external-id": wrong_id}
    yield {"seed_role": lambda name, doc: seeded[name], "key": key, "env": env, "server": server, "admin": admin, "project": project, "resource_role": resource_role, "target_role": target_role, "user": user, "moto": moto, "org": org}
    server.stop()
    httpd.shutdown()
    moto.stop()


def test_resource_account_and_console_access(world):
    s, admin, project = world["server"], world["admin"], world["project"]
    bad = s.call("POST", "/api/v1/pam/resources/aws-iam", admin, {"projectId": project["id"], "name": "bad", "connectionDetails": {"roleArn": "not-an-arn"}})
    assert bad.status_code == 400 and "roleArn" in bad.json()["message"]
    # A role whose trust policy does not name this server, or wants another external id, is refused clearly.
    for name, condition in [("untrusting", None), ("wrong-external-id", {"StringEquals": {"sts:ExternalId": "another-project"}})]:
        statement = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::123456789012:user/someone-else" if condition is None else "arn:aws:iam::123456789012:user/kms-pam"}}
        if condition:
            statement["Condition"] = condition
        arn = world["seed_role"](name, {"Version": "2012-10-17", "Statement": [statement]})
        refused = s.call("POST", "/api/v1/pam/resources/aws-iam", admin, {"projectId": project["id"], "name": name, "connectionDetails": {"roleArn": arn}})
        assert refused.status_code == 400 and "trust policy" in refused.json()["message"], refused.text
    r = s.call("POST", "/api/v1/pam/resources/aws-iam", admin, {"projectId": project["id"], "name": "prod-account", "connectionDetails": {"roleArn": world["resource_role"]}})
    assert r.status_code == 200, r.text
    resource = r.json()["resource"]
    for duration in [600, "2h", 3601]:
        refused = s.call("POST", "/api/v1/pam/accounts/aws-iam", admin, {"resourceId": resource["id"], "name": f"x{duration}",
                                                                          "credentials": {"targetRoleArn": world["target_role"], "defaultSessionDuration": duration}})
        assert refused.status_code == 400 and "15 minutes" in refused.json()["message"]
    account = s.call("POST", "/api/v1/pam/accounts/aws-iam", admin, {"resourceId": resource["id"], "name": "read-only",
                                                                     "credentials": {"targetRoleArn": world["target_role"], "defaultSessionDuration": "15m"}}).json()["account"]
    assert account["defaultSessionDuration"] == 900

    web = s.call("POST", "/api/v1/pam/accounts/access", world["user"], {"accountId": account["id"], "projectId": project["id"], "reason": "incident 42"})
    assert web.status_code == 200, web.text
    body = web.json()
    url = urllib.parse.urlparse(body["consoleUrl"])
    q = urllib.parse.parse_qs(url.query)
    assert q["Action"] == ["login"] and q["Issuer"] == ["https://kms.example.com"] and q["Destination"] == ["https://console.aws.amazon.com/"]
    assert q["SigninToken"][0].startswith("signin-")
    session_name = "alice.o-neil@example.com"
    assert Federation.seen[-1] == f"arn:aws:sts::123456789012:assumed-role/ReadOnly/{session_name}"
    assert body["metadata"]["federatedUsername"] == session_name and body["metadata"]["awsAccountId"] == "123456789012"

    cli = s.call("POST", "/api/v1/pam/accounts/access", world["user"], {"accountId": account["id"], "projectId": project["id"], "accessMethod": "cli"}).json()
    creds = cli["credentials"]
    sts = world["moto"].client("sts", creds["accessKeyId"], creds["secretAccessKey"], creds["sessionToken"])
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:sts::123456789012:assumed-role/ReadOnly/{session_name}"

    sessions = s.call("GET", f"/api/v1/pam/sessions?projectId={project['id']}", admin).json()["sessions"]
    assert {x["accessMethod"] for x in sessions} == {"web", "cli"} and all(x["status"] == "active" and x["userEmail"] == EMAIL for x in sessions)
    one = s.call("GET", f"/api/v1/pam/sessions/{body['sessionId']}", admin).json()["session"]
    assert one["reason"] == "incident 42" and one["target"] == world["target_role"]

    # Machine identities cannot open console sessions; other organizations see nothing.
    assert s.call("POST", "/api/v1/pam/accounts/access", admin, {"accountId": account["id"], "projectId": project["id"]}).status_code == 403
    other = s.call("POST", "/api/v1/organizations", admin, {"name": "Elsewhere"}).json()["organization"]
    s.call("POST", f"/api/v1/organizations/{other['id']}/users", admin, {"email": "x@elsewhere.com", "password": "another long password", "role": "admin"})
    outsider = s.call("POST", "/api/v1/auth/user/login", json={"email": "x@elsewhere.com", "password": "another long password"}).json()["accessToken"]
    assert s.call("POST", "/api/v1/pam/accounts/access", outsider, {"accountId": account["id"], "projectId": project["id"]}).status_code == 404
    assert s.call("GET", f"/api/v1/pam/sessions/{body['sessionId']}", outsider).status_code == 404

    audit = s.call("GET", f"/api/v1/organizations/{world['org']}/audit-logs?eventType=pam-session-started", admin).json()["auditLogs"]
    assert len(audit) == 2 and all(e["eventMetadata"]["federatedUsername"] == session_name for e in audit)
    assert creds["secretAccessKey"] not in s.logs()


def test_cli(world):
    import subprocess
    from kms import KMS_BIN
    s, project = world["server"], world["project"]
    env = {"KMS_SERVER_URL": s.url, "PATH": "/usr/bin:/bin"}

    def kms(token, *args, ok=True):
        r = subprocess.run([KMS_BIN, *args], env={**env, "KMS_TOKEN": token}, capture_output=True, text=True, timeout=60)
        assert (r.returncode == 0) == ok, r.stderr
        return r

    res = json.loads(kms(world["admin"], "pam", "resources", "create", "--project-id", project["id"], "--name", "cli-res", "--role-arn", world["resource_role"], "--json").stdout)["resource"]
    assert "cli-res" in kms(world["admin"], "pam", "resources", "get", res["id"]).stdout
    acct = json.loads(kms(world["admin"], "pam", "accounts", "create", "--resource-id", res["id"], "--name", "ro", "--target-role-arn", world["target_role"],
                          "--duration", "20m", "--json").stdout)["account"]
    assert acct["defaultSessionDuration"] == 1200
    kms(world["admin"], "pam", "accounts", "create", "--resource-id", res["id"], "--name", "long", "--target-role-arn", world["target_role"], "--duration", "2h", ok=False)
    url = kms(world["user"], "pam", "access", acct["id"], "--project-id", project["id"], "--reason", "cli test").stdout.strip()
    assert "Action=login" in url and "SigninToken=" in url
    exported = kms(world["user"], "pam", "access", acct["id"], "--project-id", project["id"], "--cli").stdout
    values = dict(line[len("export "):].split("=", 1) for line in exported.splitlines() if line.startswith("export "))
    sts = world["moto"].client("sts", values["AWS_ACCESS_KEY_ID"].strip("'"), values["AWS_SECRET_ACCESS_KEY"].strip("'"), values["AWS_SESSION_TOKEN"].strip("'"))
    assert sts.get_caller_identity()["Arn"].endswith("assumed-role/ReadOnly/alice.o-neil@example.com")
    assert "cli" in kms(world["admin"], "pam", "sessions", "--project-id", project["id"]).stdout
