"""The real `kms` binary on both stores: start-up, CLI, keys, shutdown and logs."""
import os
import stat
import subprocess

from kms import KMS_BIN, ROOT_KEY, Server, fresh_database


def test_embedded_store_generates_key_and_keeps_data(tmp_path):
    server = Server(data_dir=str(tmp_path)).start()
    token, org_id = server.bootstrap()
    project = server.call("POST", "/api/v1/projects", token, {"projectName": "Kept"}).json()["project"]
    key = tmp_path / "encryption.key"
    assert key.exists()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    server.stop()
    assert server.process.returncode == 0, "graceful shutdown on SIGTERM exits 0"
    again = Server(data_dir=str(tmp_path)).start()
    try:
        assert again.call("GET", f"/api/v1/projects/{project['id']}", token).status_code == 200
        assert again.call("POST", "/api/v1/admin/bootstrap", json={"email": "x@y.zz", "password": "correct horse battery", "organization": "X"}).status_code == 400
    finally:
        again.stop()


def test_postgres_without_key_refuses_to_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KMS_")}
    env.update({"KMS_DATABASE_URL": fresh_database(), "KMS_DATA_DIR": str(tmp_path)})
    result = subprocess.run([KMS_BIN, "serve", "--port", "0"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "KMS_ENCRYPTION_KEY" in (result.stdout + result.stderr)


def test_cli_migrate_bootstrap_version(tmp_path):
    env = {**os.environ, "KMS_DATABASE_URL": fresh_database(), "KMS_ENCRYPTION_KEY": ROOT_KEY, "KMS_DATA_DIR": str(tmp_path)}
    first = subprocess.run([KMS_BIN, "migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert "applied core v1" in first.stdout
    second = subprocess.run([KMS_BIN, "migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert second.stdout.strip() == "schema is up to date"
    boot = subprocess.run([KMS_BIN, "bootstrap", "--email", "ops@example.com", "--organization", "Ops"],
                          env={**env, "KMS_BOOTSTRAP_PASSWORD": "correct horse battery"}, capture_output=True, text=True, timeout=60)
    assert boot.returncode == 0, boot.stderr
    token = next(line.split()[-1] for line in boot.stdout.splitlines() if line.startswith("admin token:"))
    assert token.startswith("kms_at_")
    again = subprocess.run([KMS_BIN, "bootstrap", "--email", "ops@example.com", "--password", "correct horse battery", "--organization", "Ops"],
                           env=env, capture_output=True, text=True, timeout=60)
    assert "already been bootstrapped" in again.stdout + again.stderr
    server = Server(database_url=env["KMS_DATABASE_URL"]).start()
    try:
        me = server.call("GET", "/api/v1/auth/token/self", token)
        assert me.status_code == 200 and me.json()["authMethod"] == "bootstrap"
    finally:
        server.stop()
    version = subprocess.run([KMS_BIN, "version"], capture_output=True, text=True)
    assert version.stdout.startswith("kms ")


def test_json_logs_with_request_ids_and_no_secrets(postgres_server):
    server = postgres_server
    password = "correct horse battery"
    token, org_id = server.bootstrap(password=password)
    limited, _ = server.limited_token(token, org_id, uses=5)
    login = server.call("POST", "/api/v1/auth/user/login", json={"email": "admin@example.com", "password": password}).json()["accessToken"]
    r = server.call("GET", "/api/v1/auth/token/self", limited)
    req_id = r.headers["X-Request-Id"]
    server.call("POST", "/api/v1/auth/token/renew", json={"accessToken": limited})
    server.call("POST", "/api/v1/auth/token/revoke", json={"accessToken": login})
    server.call("POST", "/api/v1/auth/user/login", json={"email": "admin@example.com", "password": "wrong " + password})
    logs = server.logs()
    assert req_id in logs
    for secret in [password, token, limited, login, ROOT_KEY, token[len("kms_at_"):]]:
        assert secret not in logs
    audit = server.call("GET", f"/api/v1/organizations/{org_id}/audit-logs?limit=1000", token).text
    for secret in [password, token, limited, login]:
        assert secret not in audit


def test_metrics_count_requests_logins_and_tokens(sqlite_server):
    server = sqlite_server
    token, org_id = server.bootstrap()
    server.call("POST", "/api/v1/auth/user/login", json={"email": "admin@example.com", "password": "correct horse battery"})
    server.call("GET", "/api/v1/auth/token/self", token)
    text = server.call("GET", "/metrics").text
    assert 'kms_logins_total{method="user"} 1' in text
    assert "kms_tokens_issued_total 2" in text
    assert 'http_route="/api/v1/auth/token/self"' in text
    assert "hb_request_duration" in text or "http_server_request_duration" in text


def test_data_files_are_private_in_an_existing_open_directory(tmp_path):
    """The store, its WAL and the generated key are 0600 even when the data directory already
    exists with mode 0755 and the server is started under a permissive umask."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    old = os.umask(0o022)
    try:
        server = Server(data_dir=str(data)).start()
    finally:
        os.umask(old)
    try:
        token, _ = server.bootstrap()
        assert server.call("POST", "/api/v1/projects", token, {"projectName": "Files"}).status_code == 200
        for name in ["kms.sqlite", "kms.sqlite-wal", "encryption.key"]:
            assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
    finally:
        server.stop()


def test_invitation_flow_with_the_cli(tmp_path):
    """An org admin invites with `kms users invite`; the person accepts with their own password."""
    server = Server(data_dir=str(tmp_path)).start()
    try:
        token, org = server.bootstrap()
        env = {**os.environ, "KMS_SERVER_URL": server.url, "KMS_TOKEN": token}
        invited = subprocess.run([KMS_BIN, "users", "invite", "--email", "dana@example.com", "--role", "member"], env=env, capture_output=True, text=True, timeout=60)
        assert invited.returncode == 0, invited.stderr
        invite = invited.stdout.strip().splitlines()[-1]
        assert invite.startswith("kms_inv_")
        accepted = subprocess.run([KMS_BIN, "users", "accept-invite", "--token", invite], env={**env, "KMS_PASSWORD": "dana's own passphrase"},
                                  capture_output=True, text=True, timeout=60)
        assert accepted.returncode == 0, accepted.stderr
        me = server.call("GET", "/api/v1/auth/token/self", accepted.stdout.strip()).json()
        assert me["orgId"] == org and me["userId"]
        again = subprocess.run([KMS_BIN, "users", "accept-invite", "--token", invite], env={**env, "KMS_PASSWORD": "dana's own passphrase"},
                               capture_output=True, text=True, timeout=60)
        assert again.returncode != 0 and "401" in again.stderr + again.stdout
        assert invite not in server.logs(), "the invitation token never reaches the log"
    finally:
        server.stop()
