"""Keys, key sets and tokens made in the test, and the ways a request reaches a function:
a Lambda Function URL, API Gateway (REST, with a stage), Google Cloud and Azure, with the
policies as ASGI middleware, and as WSGI middleware behind an HTTP API."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from faasport import aws, azure, gateway, gcp
from faasport.gateway.request import Policy
from faasport.testing import AzureClient, GcpClient, HttpClient, LambdaClient

ISSUER = "https://issuer.example.com/"
AUDIENCE = "phoney"
ALGORITHM = {"rsa": "RS256", "ec": "ES256", "ed": "EdDSA"}


def new_key(kind: str) -> Any:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


class Issuer:
    """Signs tokens with its keys and publishes their public halves as a JWKS file."""

    name = ISSUER
    audience = AUDIENCE

    def __init__(self, directory: Path) -> None:
        self.jwks = directory / "jwks.json"
        self.keys: dict[str, tuple[str, Any]] = {}
        for kind in ("rsa", "ec", "ed"):
            self.add(f"{kind}-1", kind)
        self.publish()

    def add(self, kid: str, kind: str) -> None:
        self.keys[kid] = (kind, new_key(kind))

    def publish(self, kids: Iterable[str] | None = None) -> None:
        chosen = list(self.keys) if kids is None else list(kids)
        documents = []
        for kid in chosen:
            kind, key = self.keys[kid]
            algorithm = jwt.get_algorithm_by_name(ALGORITHM[kind])
            document = json.loads(algorithm.to_jwk(key.public_key()))
            documents.append({**document, "kid": kid, "use": "sig"})
        self.jwks.write_text(json.dumps({"keys": documents}))

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "user-1",
            "iat": now,
            "nbf": now,
            "exp": now + 600,
            "scope": "items:read profile",
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, kid: str = "rsa-1", **overrides: Any) -> str:
        kind, key = self.keys[kid]
        return jwt.encode(
            self.claims(**overrides), key, algorithm=ALGORITHM[kind], headers={"kid": kid}
        )


@pytest.fixture
def issuer(tmp_path: Path) -> Issuer:
    return Issuer(tmp_path)


async def echo_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers what the policies told it: the authorizer's claims and the session."""
    if scope["type"] == "lifespan":
        while True:
            event = await receive()
            await send({"type": event["type"] + ".complete"})
            if event["type"] == "lifespan.shutdown":
                return
    message = await receive()
    body = json.dumps(
        {
            "path": scope["path"],
            "authorizer": gateway.authorizer(scope),
            "body": message.get("body", b"").decode(),
        }
    ).encode()
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def echo_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.dumps(
        {
            "path": environ["PATH_INFO"],
            "authorizer": gateway.authorizer(environ),
            "body": environ["wsgi.input"].read(length).decode(),
        }
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


#: Every way the tests reach a function with the policies as middleware.
ENTRY_POINTS = ["function-url", "apigw-v1", "gcp", "azure", "wsgi"]


@pytest.fixture(params=ENTRY_POINTS)
def entry(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_client() -> Callable[..., HttpClient]:
    """``make_client(entry, policies)``: a client reaching the echo app behind ``policies``."""
    return client_for


def client_for(entry: str, policies: list[Policy], asgi_app: Any = echo_asgi) -> HttpClient:
    if entry == "wsgi":
        return LambdaClient(aws.handler(gateway.wsgi(echo_wsgi, *policies)), source="apigw-v2")
    app = gateway.asgi(asgi_app, *policies)
    if entry == "gcp":
        return GcpClient(gcp.handler(app))
    if entry == "azure":
        return AzureClient(azure.function_app(app))
    return LambdaClient(aws.handler(app), source=entry)


@pytest.fixture
def echo_apps() -> dict[str, Any]:
    """The echo app, by kind (``"asgi"``, ``"wsgi"``)."""
    return {"asgi": echo_asgi, "wsgi": echo_wsgi}
