"""A local OIDC issuer for the end-to-end suite: HTTPS with its own CA, a discovery document, a
JWKS that the test can rotate, and a count of JWKS fetches."""
import json
import ssl
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from certs import self_signed_ca_and_cert


class SigningKey:
    """A private key with its kid and algorithm, and its public JWK."""

    def __init__(self, algorithm="RS256", kid=None):
        self.algorithm = algorithm
        self.kid = kid or uuid.uuid4().hex[:12]
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048) if algorithm.startswith("RS") else ec.generate_private_key(ec.SECP256R1())

    def jwk(self):
        algo = jwt.algorithms.RSAAlgorithm if self.algorithm.startswith("RS") else jwt.algorithms.ECAlgorithm
        key = json.loads(algo.to_jwk(self.private.public_key()))
        key.update({"kid": self.kid, "use": "sig", "alg": self.algorithm})
        return key

    def public_pem(self):
        return self.private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(self, claims, kid=None, algorithm=None):
        return jwt.encode(claims, self.private, algorithm=algorithm or self.algorithm, headers={"kid": kid or self.kid})


class Issuer:
    """Serves https://127.0.0.1:PORT/.well-known/openid-configuration and /jwks."""

    def __init__(self):
        self.ca_pem, cert, key = self_signed_ca_and_cert()
        self.keys = [SigningKey("RS256"), SigningKey("ES256")]
        self.requests = {}
        self.lock = threading.Lock()
        directory = Path(tempfile.mkdtemp(prefix="oidc-issuer-"))
        (directory / "cert.pem").write_text(cert)
        (directory / "key.pem").write_text(key)
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                with issuer.lock:
                    issuer.requests[self.path] = issuer.requests.get(self.path, 0) + 1
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": issuer.url + "/jwks", "id_token_signing_alg_values_supported": ["RS256", "ES256"]}
                elif self.path == "/jwks":
                    body = {"keys": [k.jwk() for k in issuer.keys]}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def jwks_fetches(self):
        with self.lock:
            return self.requests.get("/jwks", 0)

    def stop(self):
        self.server.shutdown()

    def rotate(self):
        """Replaces the RSA key with a new one (new kid); returns it."""
        fresh = SigningKey("RS256")
        self.keys = [fresh] + [k for k in self.keys if not k.algorithm.startswith("RS")]
        return fresh

    def claims(self, **changes):
        now = int(time.time())
        claims = {"iss": self.url, "aud": "kms", "sub": "repo:acme/app:ref:refs/heads/main", "iat": now, "nbf": now - 5, "exp": now + 300,
                  "repository": "acme/app", "jti": uuid.uuid4().hex}
        for key, value in changes.items():
            if value is None:
                claims.pop(key, None)
            else:
                claims[key] = value
        return claims
