"""AWS Auth against a local fake STS that misbehaves: none of its answers may become a token or a 500."""
import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from kms import Server

BODY = "Action=GetCallerIdentity&Version=2011-06-15"


def result(arn="arn:aws:iam::123456789012:user/app", account="123456789012"):
    return f"<GetCallerIdentityResult><Arn>{arn}</Arn><UserId>AIDA</UserId><Account>{account}</Account></GetCallerIdentityResult>"


def document(*results):
    return ('<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">' + "".join(results)
            + "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>")


ANSWERS = {
    "ok": (200, "text/xml", document(result())),
    "root": (200, "text/xml", document(result("arn:aws:iam::123456789012:root"))),
    "redirect": (307, "text/xml", ""),
    "json": (200, "application/json", json.dumps({"GetCallerIdentityResponse": {"Arn": "arn:aws:iam::123456789012:user/app"}})),
    "text-before": (200, "text/xml", "hello" + document(result())),
    "text-after": (200, "text/xml", document(result()) + "trailing"),
    "error-500": (500, "text/xml", "<ErrorResponse><Error><Code>InternalFailure</Code></Error></ErrorResponse>"),
    "denied": (403, "text/xml", "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>m</Message></Error></ErrorResponse>"),
    "zero": (200, "text/xml", document()),
    "two": (200, "text/xml", document(result(), result("arn:aws:iam::123456789012:user/other"))),
    "account-mismatch": (200, "text/xml", document(result(account="999999999999"))),
}


class FakeSTS(BaseHTTPRequestHandler):
    mode = "ok"
    seen = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode()
        FakeSTS.seen.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "hosts": self.headers.get_all("Host"),
                             "body": body, "path": self.path})
        status, ctype, text = ANSWERS[FakeSTS.mode]
        self.send_response(status)
        if status == 307:
            self.send_header("Location", "http://127.0.0.1:1/elsewhere")
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text.encode())

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeSTS)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    server = Server(data_dir=str(tmp_path_factory.mktemp("kms")), env={"AWS_ENDPOINT_URL_STS": url}).start()
    admin, org = server.bootstrap()
    identity = server.call("POST", "/api/v1/identities", admin, {"name": "w", "organizationId": org}).json()["identity"]["id"]
    assert server.call("POST", f"/api/v1/auth/aws-auth/identities/{identity}", admin, {"allowedAccountIds": "123456789012"}).status_code == 200
    yield server, identity
    server.stop()
    httpd.shutdown()


def login(server, identity):
    request = AWSRequest(method="POST", url="https://sts.us-east-1.amazonaws.com/", data=BODY)
    request.headers["Host"] = "sts.us-east-1.amazonaws.com"
    request.headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    request.headers["Content-Length"] = str(len(BODY))
    SigV4Auth(Credentials("AKIAFAKE", "secret"), "sts", "us-east-1").add_auth(request)
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
    return server.call("POST", "/api/v1/auth/aws-auth/login", json={
        "identityId": identity, "iamHttpRequestMethod": "POST", "iamRequestBody": base64.b64encode(BODY.encode()).decode(),
        "iamRequestHeaders": base64.b64encode(json.dumps(headers).encode()).decode()})


def test_a_good_answer_logs_in_and_the_request_is_forwarded_exactly(env):
    server, identity = env
    FakeSTS.mode = "ok"
    FakeSTS.seen.clear()
    r = login(server, identity)
    assert r.status_code == 200, r.text
    sent = FakeSTS.seen[-1]
    assert sent["body"] == BODY and sent["path"] == "/"
    assert set(sent["headers"]) <= {"host", "content-type", "content-length", "x-amz-date", "authorization"}, sent["headers"]
    assert sent["hosts"] == ["sts.us-east-1.amazonaws.com"], "exactly the signed Host, once"
    assert sent["headers"]["content-length"] == str(len(BODY))


@pytest.mark.parametrize("mode,status", [
    ("root", 403), ("redirect", 502), ("json", 502), ("text-before", 502), ("text-after", 502), ("error-500", 502),
    ("denied", 401), ("zero", 502), ("two", 502), ("account-mismatch", 403),
])
def test_bad_answers_are_refused(env, mode, status):
    server, identity = env
    FakeSTS.mode = mode
    r = login(server, identity)
    assert r.status_code == status, (mode, r.text)
    body = r.json()
    assert body["statusCode"] == status and "accessToken" not in body
