"""PAM just in time, end to end against the real binary and moto with signature checking on:
approval before access (no self-approval, approvers only), sessions capped by and ended at the
grant, SourceIdentity on every access, `kms-pam-revocations` written on revoke and at the end of
a grant, removed by the cleanup job, consistent under concurrent revocations on two replicas,
and signed notifications that never hold a request up."""
import concurrent.futures
import json
import re
import socket
import tempfile
import time
import urllib.parse
from pathlib import Path

from kms import Server, fresh_database, wait_until
from pam_roles import role_chain
from stream_receivers import WebhookReceiver
from test_pam import EMAIL, world  # noqa: F401

PASSWORD = "another long password"
SECRET = "notification-secret-0123"


def person(world, email, role="member"):
    s, admin, org, project = world["server"], world["admin"], world["org"], world["project"]
    s.call("POST", f"/api/v1/organizations/{org}/users", admin, {"email": email, "password": PASSWORD, "role": "member"})
    s.call("POST", f"/api/v1/projects/{project['id']}/memberships", admin, {"email": email, "role": role})
    return s.call("POST", "/api/v1/auth/user/login", json={"email": email, "password": PASSWORD}).json()["accessToken"]


def iam(world):
    return world["moto"].client("iam", *world["key"])


def revocations(world, role="ReadOnly"):
    """The role's kms-pam-revocations, read back through IAM, or None when there is none."""
    client = iam(world)
    try:
        document = client.get_role_policy(RoleName=role, PolicyName="kms-pam-revocations")["PolicyDocument"]
    except client.exceptions.NoSuchEntityException:
        return None
    return json.loads(document) if isinstance(document, str) else document


def source_identities(policy):
    return sorted(st["Condition"]["StringEquals"]["aws:SourceIdentity"] for st in (policy or {}).get("Statement", []) if "StringEquals" in st["Condition"])


def recorded_source_identities(world):
    bodies = world["moto"].recorded_bodies()
    return [urllib.parse.unquote(b.split("SourceIdentity=")[1].split("&")[0]) for b in bodies if "Action=AssumeRole" in b and "SourceIdentity=" in b]


def test_approval_before_access_and_a_grant_that_really_ends(world):  # noqa: F811
    s, admin, project = world["server"], world["admin"], world["project"]
    receiver = WebhookReceiver(SECRET, Path(tempfile.mkdtemp()) / "pam")
    try:
        approver = person(world, "bob.approver@example.com")
        bystander = person(world, "carol@example.com")
        requester = world["user"]
        assert s.call("PUT", "/api/v1/pam/notification-settings", admin, {"projectId": project["id"], "url": receiver.url.replace("/hook", "/pam"),
                                                                           "secret": SECRET}).status_code == 200
        resource = s.call("POST", "/api/v1/pam/resources/aws-iam", admin, {"projectId": project["id"], "name": "jit",
                                                                          "connectionDetails": {"roleArn": world["resource_role"]}}).json()["resource"]
        bad = s.call("POST", "/api/v1/pam/accounts/aws-iam", admin, {"resourceId": resource["id"], "name": "x", "credentials": {"targetRoleArn": world["target_role"]},
                                                                    "accessPolicy": {"requiresApproval": True, "approvers": ["stranger@example.com"]}})
        assert bad.status_code == 400 and "not a member" in bad.json()["message"]
        made = s.call("POST", "/api/v1/pam/accounts/aws-iam", admin, {
            "resourceId": resource["id"], "name": "admin", "credentials": {"targetRoleArn": world["target_role"], "defaultSessionDuration": 900},
            "accessPolicy": {"requiresApproval": True, "approvers": ["bob.approver@example.com"], "minApprovals": 1, "maxDuration": 1800, "requireReason": True}})
        assert made.status_code == 200, made.text
        account = made.json()["account"]
        assert account["accessPolicy"]["requiresApproval"] and "warnings" not in account, account
        access = lambda token: s.call("POST", "/api/v1/pam/accounts/access", token, {"accountId": account["id"], "projectId": project["id"], "accessMethod": "cli"})

        assert access(requester).status_code == 403, "no access without an approved request"
        ask = lambda **body: s.call("POST", "/api/v1/pam/access-requests", requester, {"projectId": project["id"], "accountId": account["id"], **body})
        assert ask(duration=600).status_code == 400, "this account requires a reason"
        assert ask(duration=7200, reason="x").status_code == 400, "longer than the policy's maxDuration"
        request = ask(duration=6, reason="incident 7").json()["accessRequest"]
        assert request["status"] == "pending" and request["requester"]["email"] == EMAIL
        review = lambda token, decision, rid=None: s.call("POST", f"/api/v1/pam/access-requests/{rid or request['id']}/review", token, {"decision": decision})
        assert review(requester, "approve").status_code == 403, "no self-approval"
        assert review(bystander, "approve").status_code == 403, "only listed approvers"
        assert review(admin, "approve").status_code == 403, "machine identities do not review"
        assert access(requester).status_code == 403, "still pending"
        approved = review(approver, "approve")
        assert approved.status_code == 200 and approved.json()["accessRequest"]["status"] == "approved", approved.text
        grant_end = approved.json()["accessRequest"]["grantExpiresAt"]
        assert review(approver, "approve").status_code == 409

        opened = access(requester)
        assert opened.status_code == 200, opened.text
        session = s.call("GET", f"/api/v1/pam/sessions/{opened.json()['sessionId']}", admin).json()["session"]
        assert session["expiresAt"] <= grant_end and session["requestId"] == request["id"]
        identity = session["sourceIdentity"]
        assert identity.startswith("kms-alice.o-neil@example.com") and identity in recorded_source_identities(world)
        creds = opened.json()["credentials"]
        sts = world["moto"].client("sts", creds["accessKeyId"], creds["secretAccessKey"], creds["sessionToken"])
        assert sts.get_caller_identity()["Arn"].endswith("/alice.o-neil@example.com")

        # The grant ends: its session is revoked for real and access is refused again.
        wait_until(lambda: s.call("GET", f"/api/v1/pam/sessions/{session['id']}", admin).json()["session"]["status"] == "revoked", "the grant's end")
        policy = revocations(world)
        assert source_identities(policy) == [identity], policy
        bound = [st["Condition"]["DateLessThan"]["aws:TokenIssueTime"] for st in policy["Statement"]]
        assert bound and bound[0] >= session["startedAt"][:19]
        assert access(requester).status_code == 403

        # A denied request gives no access; a receiver saw new, approved and denied, signed.
        second = ask(duration=60, reason="again").json()["accessRequest"]
        assert review(approver, "deny", second["id"]).json()["accessRequest"]["status"] == "denied"
        assert access(requester).status_code == 403
        wait_until(lambda: {b.get("event") for b in receiver.bodies} >= {"pam.access_request.created", "pam.access_request.approved",
                                                                         "pam.access_request.denied"}, "the notifications")
        assert receiver.bad_signatures == 0 and all("text" in b for b in receiver.bodies)
        # The cleanup job removes the revocation after its (shortened) window and deletes the empty policy.
        wait_until(lambda: revocations(world) is None, "the cleanup of kms-pam-revocations", timeout=40)
        events = {e["eventType"] for e in s.call("GET", f"/api/v1/organizations/{world['org']}/audit-logs?limit=500", admin).json()["auditLogs"]}
        assert {"pam-access-requested", "pam-access-request-approved", "pam-access-request-denied", "pam-access-grant-closed",
                "pam-session-started", "pam-revocations-cleaned"} <= events, events
    finally:
        receiver.stop()


def test_revocation_by_an_admin_and_a_second_person(world):  # noqa: F811
    s, admin, project = world["server"], world["admin"], world["project"]
    dave = person(world, "dave@example.com")
    resource = s.call("POST", "/api/v1/pam/resources/aws-iam", admin, {"projectId": project["id"], "name": "open",
                                                                      "connectionDetails": {"roleArn": world["resource_role"]}}).json()["resource"]
    account = s.call("POST", "/api/v1/pam/accounts/aws-iam", admin, {"resourceId": resource["id"], "name": "ro",
                                                                   "credentials": {"targetRoleArn": world["target_role"]}}).json()["account"]
    sessions = []
    for token in (world["user"], dave):
        r = s.call("POST", "/api/v1/pam/accounts/access", token, {"accountId": account["id"], "projectId": project["id"], "accessMethod": "cli"})
        assert r.status_code == 200, r.text
        sessions.append(r.json()["sessionId"])
    # Dave may not revoke Alice's session; an admin may; Dave may revoke his own.
    assert s.call("POST", f"/api/v1/pam/sessions/{sessions[0]}/revoke", dave).status_code == 403
    assert s.call("POST", f"/api/v1/pam/sessions/{sessions[0]}/revoke", admin).json()["session"]["status"] == "revoked"
    alice = s.call("GET", f"/api/v1/pam/sessions/{sessions[0]}", admin).json()["session"]["sourceIdentity"]
    assert re.fullmatch(r"kms-alice\.o-neil@example\.com-[0-9a-f]{12}", alice), ("a replaced character adds a hash", alice)
    assert source_identities(revocations(world)) == [alice]
    assert s.call("POST", f"/api/v1/pam/sessions/{sessions[1]}/revoke", dave).status_code == 200
    assert source_identities(revocations(world)) == sorted([alice, "kms-dave@example.com"]), "a second person adds a statement"
    assert s.call("POST", f"/api/v1/pam/sessions/{sessions[1]}/revoke", dave).status_code == 409
    wait_until(lambda: revocations(world) is None, "the cleanup", timeout=40)


def test_concurrent_revocations_on_two_replicas_keep_every_statement(world, tmp_path):  # noqa: F811
    """Two replicas on one Postgres revoke eight people's sessions at once on the same role."""
    url = fresh_database()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    env = {**world["env"], "KMS_PAM_REVOCATION_RETENTION_SECONDS": "600"}
    first = Server(database_url=url, data_dir=str(tmp_path / "a"), env=env).start()
    second = Server(database_url=url, data_dir=str(tmp_path / "b"), env=env).start()
    try:
        admin, org = first.bootstrap()
        project = first.call("POST", "/api/v1/projects", admin, {"projectName": "Replicas"}).json()["project"]
        client = iam(world)
        entry, target = role_chain(client, project["id"], "kms-pam-replicas", "Replicated")
        resource = first.call("POST", "/api/v1/pam/resources/aws-iam", admin, {"projectId": project["id"], "name": "r",
                                                                              "connectionDetails": {"roleArn": entry}}).json()["resource"]
        account = first.call("POST", "/api/v1/pam/accounts/aws-iam", admin, {"resourceId": resource["id"], "name": "a",
                                                                           "credentials": {"targetRoleArn": target}}).json()["account"]
        sessions = []
        for i in range(8):
            email = f"p{i}@example.com"
            first.call("POST", f"/api/v1/organizations/{org}/users", admin, {"email": email, "password": PASSWORD, "role": "member"})
            first.call("POST", f"/api/v1/projects/{project['id']}/memberships", admin, {"email": email, "role": "member"})
            token = first.call("POST", "/api/v1/auth/user/login", json={"email": email, "password": PASSWORD}).json()["accessToken"]
            r = first.call("POST", "/api/v1/pam/accounts/access", token, {"accountId": account["id"], "projectId": project["id"], "accessMethod": "cli"})
            assert r.status_code == 200, r.text
            sessions.append(r.json()["sessionId"])
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda pair: (first if pair[0] % 2 else second).call("POST", f"/api/v1/pam/sessions/{pair[1]}/revoke", admin, timeout=60),
                                    enumerate(sessions)))
        assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
        policy = revocations(world, role="Replicated")
        assert source_identities(policy) == sorted(f"kms-p{i}@example.com" for i in range(8)), policy
    finally:
        second.stop()
        first.stop()


def test_a_dead_notification_receiver_fails_nothing(world):  # noqa: F811
    s, admin, project = world["server"], world["admin"], world["project"]
    person(world, "bob.approver@example.com")
    # A receiver that accepts connections and never answers: the request must not wait for it
    # (the notifier's own timeout is 10 s, the request's 5 s).
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    hung = f"http://127.0.0.1:{listener.getsockname()[1]}/hung"
    assert s.call("PUT", "/api/v1/pam/notification-settings", admin, {"projectId": project["id"], "url": hung, "secret": SECRET}).status_code == 200
    resource = s.call("POST", "/api/v1/pam/resources/aws-iam", admin, {"projectId": project["id"], "name": "dead",
                                                                      "connectionDetails": {"roleArn": world["resource_role"]}}).json()["resource"]
    account = s.call("POST", "/api/v1/pam/accounts/aws-iam", admin, {"resourceId": resource["id"], "name": "a", "credentials": {"targetRoleArn": world["target_role"]},
                                                                   "accessPolicy": {"requiresApproval": True, "approvers": ["bob.approver@example.com"]}}).json()["account"]
    r = s.call("POST", "/api/v1/pam/access-requests", world["user"], {"projectId": project["id"], "accountId": account["id"], "duration": 600}, timeout=5)
    assert r.status_code == 200, r.text
    assert s.call("GET", f"/api/v1/pam/notification-settings?projectId={project['id']}", admin).json()["url"] == hung
    listener.close()


def test_cli_requests_and_session_revoke(world):  # noqa: F811
    """`kms pam requests create|list|approve|deny|cancel` and `kms pam sessions revoke`."""
    import os
    import subprocess

    from kms import KMS_BIN
    s, admin, project = world["server"], world["admin"], world["project"]
    approver = s.call("POST", "/api/v1/auth/user/login", json={"email": "bob.approver@example.com", "password": PASSWORD}).json()["accessToken"]

    def kms(token, *args):
        run = subprocess.run([KMS_BIN, "pam", *args, "--json"], env={**os.environ, "KMS_SERVER_URL": s.url, "KMS_TOKEN": token},
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)

    resource = kms(admin, "resources", "create", "--project-id", project["id"], "--name", "cli-jit", "--role-arn", world["resource_role"])["resource"]
    account = kms(admin, "accounts", "create", "--resource-id", resource["id"], "--name", "cli", "--target-role-arn", world["target_role"],
                  "--duration", "15m", "--requires-approval", "--approver", "bob.approver@example.com")["account"]
    assert account["accessPolicy"]["approvers"] == ["bob.approver@example.com"]
    first = kms(world["user"], "requests", "create", "--project-id", project["id"], "--account-id", account["id"], "--duration", "10m")["accessRequest"]
    assert kms(world["user"], "requests", "cancel", first["id"])["accessRequest"]["status"] == "cancelled"
    second = kms(world["user"], "requests", "create", "--project-id", project["id"], "--account-id", account["id"], "--duration", "10m")["accessRequest"]
    listed = kms(admin, "requests", "list", "--project-id", project["id"], "--status", "pending")["accessRequests"]
    assert second["id"] in [r["id"] for r in listed]
    assert kms(approver, "requests", "approve", second["id"], "--comment", "ok")["accessRequest"]["status"] == "approved"
    opened = kms(world["user"], "access", account["id"], "--project-id", project["id"], "--cli")
    revoked = kms(world["user"], "sessions", "revoke", opened["sessionId"])["session"]
    assert revoked["status"] == "revoked"
    assert revoked["sourceIdentity"] in source_identities(revocations(world))
    third = kms(world["user"], "requests", "create", "--project-id", project["id"], "--account-id", account["id"], "--duration", "10m")["accessRequest"]
    assert kms(approver, "requests", "deny", third["id"])["accessRequest"]["status"] == "denied"


def test_cancelling_an_open_grant_ends_its_sessions(world):  # noqa: F811
    s, admin, project = world["server"], world["admin"], world["project"]
    approver = s.call("POST", "/api/v1/auth/user/login", json={"email": "bob.approver@example.com", "password": PASSWORD}).json()["accessToken"]
    resource = s.call("POST", "/api/v1/pam/resources/aws-iam", admin, {"projectId": project["id"], "name": "cancel",
                                                                      "connectionDetails": {"roleArn": world["resource_role"]}}).json()["resource"]
    account = s.call("POST", "/api/v1/pam/accounts/aws-iam", admin, {"resourceId": resource["id"], "name": "c", "credentials": {"targetRoleArn": world["target_role"]},
                                                                   "accessPolicy": {"requiresApproval": True, "approvers": ["bob.approver@example.com"]}}).json()["account"]
    request = s.call("POST", "/api/v1/pam/access-requests", world["user"], {"projectId": project["id"], "accountId": account["id"], "duration": 1800}).json()["accessRequest"]
    assert s.call("POST", f"/api/v1/pam/access-requests/{request['id']}/review", approver, {"decision": "approve"}).json()["accessRequest"]["status"] == "approved"
    opened = s.call("POST", "/api/v1/pam/accounts/access", world["user"], {"accountId": account["id"], "projectId": project["id"], "accessMethod": "cli"})
    assert opened.status_code == 200, opened.text
    cancelled = s.call("POST", f"/api/v1/pam/access-requests/{request['id']}/cancel", world["user"])
    assert cancelled.status_code == 200 and cancelled.json()["accessRequest"]["status"] == "cancelled", cancelled.text
    session = s.call("GET", f"/api/v1/pam/sessions/{opened.json()['sessionId']}", admin).json()["session"]
    assert session["status"] == "revoked" and session["sourceIdentity"] in source_identities(revocations(world))
    assert s.call("POST", "/api/v1/pam/accounts/access", world["user"], {"accountId": account["id"], "projectId": project["id"]}).status_code == 403
    assert s.call("POST", f"/api/v1/pam/access-requests/{request['id']}/cancel", world["user"]).status_code == 409
