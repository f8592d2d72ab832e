"""Audit log streams end to end against the real binary: a webhook receiver and a real rsyslogd
receive every event of a run of logins, leases and PAM accesses; receivers stop and come back,
the server restarts in between, and after catch-up what they hold is exactly the organization's
chain (checked with `kms audit verify --file`); two replicas share a stream without sending a
batch twice; an entry edited in the database is caught by the receiver's check."""
import subprocess
import time

import pytest

from kms import KMS_BIN, Server, fresh_database, wait_until
from stream_receivers import Rsyslog, WebhookReceiver
from test_pam import world  # noqa: F401  (the PAM world: moto, a federation endpoint, a person with access)

SECRET = "stream-secret-0123456789"


def create_stream(server, token, org, **body):
    r = server.call("POST", f"/api/v1/organizations/{org}/audit-log-streams", token, {"startFrom": "beginning", **body})
    assert r.status_code == 200, r.text
    return r.json()["auditLogStream"]["id"]


def statuses(server, token, org):
    streams = server.call("GET", f"/api/v1/organizations/{org}/audit-log-streams", token).json()["auditLogStreams"]
    return {s["name"]: s["status"] for s in streams}


def caught_up(server, token, org, names):
    current = statuses(server, token, org)
    return all(current[n]["lagEntries"] == 0 for n in names)


def chain_length(server, token, org):
    verified = server.call("GET", f"/api/v1/organizations/{org}/audit-logs/verify", token).json()
    assert verified["valid"], verified
    return verified["checked"]


def verify_file(path, start=1):
    return subprocess.run([KMS_BIN, "audit", "verify", "--file", str(path), "--from", str(start)], capture_output=True, text=True, timeout=60)


def activity(world, round_):
    """Logins, a lease made and revoked, and a PAM console access: each audited."""
    s, admin, project = world["server"], world["admin"], world["project"]
    for _ in range(3):
        assert s.call("POST", "/api/v1/auth/user/login", json={"email": "alice.o'neil@example.com", "password": "another long password"}).status_code == 200
    env = project["environments"][0]["slug"]
    scope = {"projectSlug": project["slug"], "environmentSlug": env, "path": "/"}
    name = f"stream-{round_}"
    r = s.call("POST", "/api/v1/dynamic-secrets", admin, {**scope, "name": name, "provider": {"type": "aws-iam", "inputs": {
        "method": "access-key", "accessKey": world["key"][0], "secretAccessKey": world["key"][1], "credentialType": "iam-user"}}})
    assert r.status_code == 200, r.text
    lease = s.call("POST", "/api/v1/dynamic-secrets/leases", admin, {**scope, "dynamicSecretName": name})
    assert lease.status_code == 200, lease.text
    assert s.call("DELETE", f"/api/v1/dynamic-secrets/leases/{lease.json()['lease']['id']}", admin, scope).status_code == 200
    resource = s.call("POST", "/api/v1/pam/resources/aws-iam", admin, {"projectId": project["id"], "name": f"res-{round_}",
                                                                      "connectionDetails": {"roleArn": world["resource_role"]}})
    assert resource.status_code == 200, resource.text
    account = s.call("POST", "/api/v1/pam/accounts/aws-iam", admin, {"resourceId": resource.json()["resource"]["id"], "name": "ro",
                                                                   "credentials": {"targetRoleArn": world["target_role"], "defaultSessionDuration": 900}})
    assert account.status_code == 200, account.text
    access = s.call("POST", "/api/v1/pam/accounts/access", world["user"], {"accountId": account.json()["account"]["id"], "projectId": project["id"]})
    assert access.status_code == 200, access.text


def test_receivers_get_the_whole_chain_through_outages_and_a_restart(world, tmp_path):  # noqa: F811
    s, admin, org = world["server"], world["admin"], world["org"]
    webhook = WebhookReceiver(SECRET, tmp_path / "webhook")
    syslog = Rsyslog()
    local = tmp_path / "local.jsonl"
    names = ["siem", "rsyslog", "local"]
    create_stream(s, admin, org, name="siem", kind="webhook", url=webhook.url, secret=SECRET, headers={"Authorization": "Splunk hec-token"})
    create_stream(s, admin, org, name="rsyslog", kind="syslog", host="127.0.0.1", port=syslog.port, tls=False)
    create_stream(s, admin, org, name="local", kind="file", path=str(local))
    try:
        activity(world, 1)
        wait_until(lambda: caught_up(s, admin, org, names), "the first catch-up")
        # Receivers go away; events keep coming and wait in the database.
        webhook.stop()
        syslog.stop()
        activity(world, 2)
        wait_until(lambda: statuses(s, admin, org)["siem"]["lastError"] is not None, "the webhook failure to show")
        status = statuses(s, admin, org)
        assert status["siem"]["lagEntries"] > 0 and status["rsyslog"]["lagEntries"] > 0 and status["local"]["lagEntries"] == 0
        # The server restarts while deliveries are pending: nothing is lost.
        s.stop()
        s.start()
        activity(world, 3)
        webhook.start()
        syslog.start()
        wait_until(lambda: caught_up(s, admin, org, names), "the catch-up after the outage")
        total = chain_length(s, admin, org)
        for received in (webhook.dir, syslog.output, local):
            checked = verify_file(received)
            assert checked.returncode == 0, checked.stdout + checked.stderr
            assert f"intact: {total} events, sequences 1-{total}" in checked.stdout, (received, checked.stdout, total)
        assert webhook.bad_signatures == 0 and webhook.batches >= 2
        metrics = s.call("GET", "/metrics").text
        assert "kms_audit_stream_failures_total" in metrics and "kms_audit_stream_lag_entries" in metrics
        assert "hec-token" not in s.call("GET", f"/api/v1/organizations/{org}/audit-log-streams", admin).text
        event_types = {line for line in syslog.output.read_text().splitlines()}
        for expected in ("user-login", "lease-created", "lease-revoked", "pam-session-started"):
            assert any(f'"eventType":"{expected}"' in line for line in event_types), expected
    finally:
        webhook.stop()
        syslog.stop()


def test_two_replicas_share_a_stream_and_an_edit_is_caught(tmp_path):
    url = fresh_database()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = Server(database_url=url, data_dir=str(tmp_path / "a")).start()
    second = Server(database_url=url, data_dir=str(tmp_path / "b")).start()
    webhook = WebhookReceiver(SECRET, tmp_path / "hook")
    try:
        admin, org = first.bootstrap()
        create_stream(first, admin, org, name="siem", kind="webhook", url=webhook.url, secret=SECRET)
        for i in range(40):
            server = first if i % 2 else second
            assert server.call("POST", f"/api/v1/identities", admin, {"name": f"w{i}", "organizationId": org}).status_code == 200
        wait_until(lambda: caught_up(first, admin, org, ["siem"]), "the catch-up")
        total = chain_length(first, admin, org)
        # Steady state: every entry exactly once, although both replicas deliver.
        assert sorted(webhook.sequences) == list(range(1, total + 1)), "no gaps and no duplicates without a failure"
        assert verify_file(webhook.dir).returncode == 0
        # Someone with database access edits an entry: the receiver's check finds it.
        subprocess.run(["psql", url, "-q", "-c", f"UPDATE audit_log SET event_metadata = '{{\"name\":\"innocent\"}}' WHERE org_id = '{org}' AND seq = 3"],
                       check=True, capture_output=True)
        again = WebhookReceiver(SECRET, tmp_path / "again")
        try:
            create_stream(first, admin, org, name="replay", kind="webhook", url=again.url, secret=SECRET)
            wait_until(lambda: caught_up(first, admin, org, ["replay"]), "the replay")
            checked = verify_file(again.dir)
            assert checked.returncode == 1 and "sequence 3" in checked.stdout and "was edited" in checked.stdout, checked.stdout
        finally:
            again.stop()
    finally:
        webhook.stop()
        second.stop()
        first.stop()


def test_a_hanging_receiver_holds_up_nothing(tmp_path):
    """A receiver that accepts connections and never answers: logins go on, the stream reports it."""
    import socket
    import threading
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held = []
    threading.Thread(target=lambda: [held.append(listener.accept()) for _ in range(64)], daemon=True).start()
    server = Server(data_dir=str(tmp_path)).start()
    try:
        admin, org = server.bootstrap()
        create_stream(server, admin, org, name="stuck", kind="webhook", url=f"http://127.0.0.1:{listener.getsockname()[1]}/hook", secret=SECRET)
        for _ in range(20):
            assert server.call("POST", "/api/v1/identities", admin, {"name": "x", "organizationId": org}, timeout=5).status_code == 200
        wait_until(lambda: statuses(server, admin, org)["stuck"]["lastError"] is not None, "the hang to be reported", timeout=40)
        assert statuses(server, admin, org)["stuck"]["lagEntries"] > 0
    finally:
        server.stop()
        listener.close()
