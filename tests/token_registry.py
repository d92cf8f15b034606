# SPDX-License-Identifier: Apache-2.0
"""A token-auth registry for tests, as Docker Hub and GHCR are: the real distribution registry
(Debian's `docker-registry`) configured with `auth: token`, and a small real token service on
127.0.0.1 that signs JWTs (ES256) with a key whose self-signed certificate is the registry's
`rootcertbundle`; the token names its certificate in its `x5c` header, which the registry checks
against that bundle.

The token service gives anonymous callers `pull` on repositories under `public/`, and a caller with
the right user and password (Basic), or an identity token (an OAuth2 `refresh_token` grant), every
action it asks for. It records what it was asked: the scopes and how the caller identified itself.
With `tls`, it answers over https on `localhost` (a certificate for that name, signed by the same
test key), as Docker Hub's auth.docker.io is another https host than its registry.
"""

from __future__ import annotations

import base64
import datetime
import json
import secrets
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

SERVICE = "release-pipeline-test-registry"
ISSUER = "release-pipeline-test-token-service"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Issuer:
    """The token service's signing key and its certificate (the registry's root bundle)."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @classmethod
    def create(cls) -> Issuer:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
        now = datetime.datetime.now(datetime.timezone.utc)
        certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         key_cert_sign=True, crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(key, certificate)

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def write_tls_files(self, folder: Path) -> tuple[Path, Path]:
        """(certificate, key) files for serving https on localhost with this key."""
        cert, key = folder / "token-service.pem", folder / "token-service.key"
        cert.write_bytes(self.pem())
        key.write_bytes(self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return cert, key

    def token(self, subject: str, access: list[dict[str, object]]) -> str:
        now = int(time.time())
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(der).decode()]}
        claims = {"iss": ISSUER, "sub": subject, "aud": SERVICE, "exp": now + 300, "nbf": now - 10,
                  "iat": now, "jti": secrets.token_hex(8), "access": access}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        r, s = decode_dss_signature(self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


@dataclass
class Asked:
    """One request to the token service."""

    method: str
    caller: str  # "anonymous", "basic:<user>", "refresh:<user>", or "refused"
    scopes: list[str]
    authorization: str | None  # the header as sent, to check what went where


@dataclass
class TokenService:
    issuer: Issuer
    users: dict[str, str]  # user -> password
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # identity token -> user
    asked: list[Asked] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    tls: bool = False

    @property
    def realm(self) -> str:
        assert self.server is not None
        host = "localhost" if self.tls else "127.0.0.1"
        return f"{'https' if self.tls else 'http'}://{host}:{self.server.server_address[1]}/token"

    def grant(self, caller: str, scope: str) -> dict[str, object] | None:
        kind, _, name = scope.partition(":")
        repository, _, actions = name.rpartition(":")
        wanted = [a for a in actions.split(",") if a]
        if kind != "repository" or not repository:
            return None
        allowed = wanted if caller.startswith(("basic:", "refresh:")) else \
            [a for a in wanted if a == "pull" and repository.startswith("public/")]
        return {"type": "repository", "name": repository, "actions": allowed}

    def start(self, folder: Path) -> TokenService:
        service = self

        class Handler(_TokenHandler):
            owner = service

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if self.tls:
            cert, key = self.issuer.write_tls_files(folder)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class _TokenHandler(BaseHTTPRequestHandler):
    owner: TokenService

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _caller(self) -> str:
        header = self.headers.get("Authorization")
        if not header:
            return "anonymous"
        kind, _, value = header.partition(" ")
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return "refused"
        ok = kind.lower() == "basic" and self.owner.users.get(user) == password
        return f"basic:{user}" if ok else "refused"

    def _issue(self, caller: str, scopes: list[str], oauth: bool) -> None:
        self.owner.asked.append(Asked(self.command, caller, scopes, self.headers.get("Authorization")))
        if caller == "refused":
            self._answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "wrong credentials"}]})
            return
        access = [found for found in (self.owner.grant(caller, scope) for scope in scopes) if found]
        token = self.owner.issuer.token(caller.partition(":")[2], access)
        self._answer(200, {"access_token": token} if oauth else {"token": token, "expires_in": 300})

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        if query.get("service") != [SERVICE]:
            self._answer(400, {"errors": [{"code": "DENIED", "message": "wrong service"}]})
            return
        self._issue(self._caller(), query.get("scope", []), oauth=False)

    def do_POST(self) -> None:  # OAuth2: a refresh token for an access token
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        user = self.owner.refresh_tokens.get(form.get("refresh_token", [""])[0])
        good = form.get("grant_type") == ["refresh_token"] and user is not None \
            and form.get("service") == [SERVICE]
        caller = f"refresh:{user}" if good else "refused"
        self._issue(caller, " ".join(form.get("scope", [])).split(), oauth=True)


def registry_config(storage: Path, port: int, realm: str, bundle: Path, *, auth: bool = True) -> str:
    return (
        "version: 0.1\n"
        "log:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    ) + (
        f"auth:\n  token:\n    realm: {realm}\n    service: {SERVICE}\n    issuer: {ISSUER}\n"
        f"    rootcertbundle: {bundle}\n" if auth else ""
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class TokenRegistry:
    address: str  # 127.0.0.1:PORT
    service: TokenService
    log: Path


@contextmanager
def token_registry(folder: Path, users: dict[str, str], *, tls: bool = False,
                   refresh_tokens: dict[str, str] | None = None,
                   auth: bool = True) -> Iterator[TokenRegistry]:
    """The real registry with token auth, and its token service, both on 127.0.0.1 (`auth=False`:
    the registry asks for nothing, as the sandbox's)."""
    folder.mkdir(parents=True, exist_ok=True)
    issuer = Issuer.create()
    service = TokenService(issuer, users, dict(refresh_tokens or {}), tls=tls).start(folder)
    bundle = folder / "root-bundle.pem"
    bundle.write_bytes(issuer.pem())
    port = _free_port()
    config = folder / "registry.yml"
    config.write_text(registry_config(folder / "storage", port, service.realm, bundle, auth=auth),
                      encoding="utf-8")
    log = folder / "registry.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=sink,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the registry did not start"
                time.sleep(0.1)
        yield TokenRegistry(f"127.0.0.1:{port}", service, log)
    finally:
        process.terminate()
        process.wait(10)
        service.close()
