"""The browser suite's world: moto with signature checking on, a local federation endpoint, the
real kms binary, and Chromium."""
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from kms import Server  # noqa: E402
from moto_server import Moto  # noqa: E402

from browser import Browser  # noqa: E402

ADMIN = ("admin@example.com", "correct horse battery")


class Federation(BaseHTTPRequestHandler):
    """Plays AWS's federation endpoint: a sign-in token for getSigninToken, a page for login."""
    def do_GET(self):
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        if query.get("Action") == ["getSigninToken"]:
            body = json.dumps({"SigninToken": "signin-token-from-test"}).encode()
            kind = "application/json"
        else:
            body = b"<!doctype html><title>AWS console (test)</title><p>federated"
            kind = "text/html"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    moto = Moto()
    server_key = moto.seed_user("kms-server")
    pam_key = moto.seed_user("kms-pam")
    dynamic_key = moto.seed_user("kms-keys")
    moto.enforce()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Federation)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    federation = f"http://127.0.0.1:{httpd.server_address[1]}/federation"
    env = {"AWS_ENDPOINT_URL": moto.url, "KMS_PAM_AWS_ACCESS_KEY_ID": pam_key[0], "KMS_PAM_AWS_SECRET_ACCESS_KEY": pam_key[1],
           "KMS_DYNAMIC_SECRET_AWS_ACCESS_KEY_ID": server_key[0], "KMS_DYNAMIC_SECRET_AWS_SECRET_ACCESS_KEY": server_key[1],
           "KMS_AWS_FEDERATION_ENDPOINT": federation, "KMS_AWS_AMBIENT_ORGS": "acme", "KMS_LEASE_REAPER_INTERVAL": "0.5"}
    server = Server(data_dir=str(tmp_path_factory.mktemp("kms")), env=env).start()
    root, org = server.bootstrap(email=ADMIN[0], password=ADMIN[1])
    yield {"server": server, "moto": moto, "root": root, "org": org, "federation": federation, "dynamic_key": dynamic_key,
           "iam": moto.client("iam", *server_key), "url": server.url}
    server.stop()
    httpd.shutdown()
    moto.stop()


@pytest.fixture
def browser(world):
    b = Browser(world["url"])
    yield b
    b.quit()


def sign_in(b, email, password):
    """Signs in with the keyboard only: type, Tab, type, Enter."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    b.visit("/login")
    email_input = b.field(b.form("/login"), "E-mail")
    email_input.click()
    email_input.send_keys(email)
    email_input.send_keys(Keys.TAB)
    b.driver.switch_to.active_element.send_keys(password + Keys.ENTER)
    # Wait for the answer to the sign-in itself, not the sign-in page that is still showing.
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(b.driver, 30).until(lambda d: "/login" not in d.current_url or d.find_elements(By.CSS_SELECTOR, "#login-error"))
    b.settle()
