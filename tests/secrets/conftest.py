"""Servers the secrets tests talk to over real HTTP.

AWS: moto's standalone server stands in for Secrets Manager and SSM, because no real AWS
account can be reached here; boto3 is pointed at it with ``AWS_ENDPOINT_URL``.
GCP and Azure: small loopback servers that emulate the endpoints faasport calls, with the
paths, headers and JSON bodies the providers document (metadata server token and project
id, Secret Manager ``versions/latest:access``; App Service managed identity token, Key
Vault ``GET /secrets/{name}?api-version=7.4``). They are emulations, not the services.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from faasport import secrets
from servers import free_port

#: Variables that choose a secret store or configure one: every test starts without them.
PROVIDER_VARIABLES = (
    "FAASPORT_SECRETS",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_EXECUTION_ENV",
    "K_SERVICE",
    "FUNCTION_TARGET",
    "FUNCTIONS_WORKER_RUNTIME",
    "WEBSITE_SITE_NAME",
    "GCE_METADATA_HOST",
    "GCE_METADATA_ROOT",
    "GOOGLE_CLOUD_PROJECT",
    "FAASPORT_GCP_PROJECT",
    "FAASPORT_GCP_SECRETS_ENDPOINT",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "AZURE_CLIENT_ID",
    "FAASPORT_KEY_VAULT_URL",
)


@pytest.fixture(autouse=True)
def clean_secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for variable in PROVIDER_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    for variable in list(os.environ):
        if variable.startswith("FAASPORT_SECRET_"):
            monkeypatch.delenv(variable)
    secrets.clear()
    yield
    secrets.clear()


# -- AWS: moto's server -------------------------------------------------------------------


class MotoServers:
    """moto's standalone servers, each in its own process, all stopped at the end."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, **environ: str) -> str:
        """Start one (``environ`` adds to its environment); its URL."""
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            env={**os.environ, **environ},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.processes.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/moto-api/", timeout=1):
                    return url
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto's server did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServers]:
    servers = MotoServers()
    yield servers
    servers.stop()


@pytest.fixture(scope="session")
def moto_url(moto: MotoServers) -> str:
    """The moto server most tests share (they use names of their own)."""
    return moto.start()


@pytest.fixture
def on_lambda(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str, str], None]:
    """Sets the environment as on Lambda, with boto3's endpoint moved to a URL."""

    def point(url: str, key: str = "testing", secret: str = "testing") -> None:
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "phoney-api")
        monkeypatch.setenv("AWS_REGION", "us-east-1")
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        monkeypatch.delenv("AWS_PROFILE", raising=False)

    return point


# -- GCP and Azure: emulations ---------------------------------------------------------------


@dataclass
class Seen:
    """One request an emulation received."""

    method: str
    path: str
    query: dict[str, list[str]]
    #: Lower-case names (HTTP header names are case-insensitive).
    headers: dict[str, str]


Answer = tuple[int, Any, dict[str, str]]


@dataclass
class Emulation:
    """A loopback HTTP server; ``answer(request)`` gives (status, JSON body or text, headers)."""

    answer: Callable[[Seen], Answer]
    requests: list[Seen] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def address(self) -> str:
        assert self.server is not None
        return f"127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def paths(self, prefix: str = "") -> list[str]:
        return [r.path for r in self.requests if r.path.startswith(prefix)]

    def start(self) -> None:
        emulation = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                seen = Seen(
                    "GET",
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                )
                emulation.requests.append(seen)
                status, body, headers = emulation.answer(seen)
                raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                kind = "text/plain" if isinstance(body, str) else "application/json"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(raw)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def stop(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()


def google_error(code: int, status: str, message: str) -> dict[str, Any]:
    """Google APIs' error body."""
    return {"error": {"code": code, "message": message, "status": status}}


@dataclass
class Gcp:
    """The metadata server and Secret Manager of one project."""

    project: str = "phoney-prod"
    number: str = "123456789012"
    token: str = "ya29.emulated-token"
    values: dict[str, bytes] = field(default_factory=dict)
    denied: set[str] = field(default_factory=set)
    #: Seconds every access request takes.
    delay: float = 0.0
    #: An answer that replaces Secret Manager's (a broken store).
    broken: Answer | None = None

    def __call__(self, seen: Seen) -> Answer:
        flavor = {"Metadata-Flavor": "Google"}
        if seen.path.startswith("/computeMetadata/v1/"):
            if seen.headers.get("metadata-flavor") != "Google":
                return 403, "Missing Metadata-Flavor:Google header.", flavor
            if seen.path == "/computeMetadata/v1/instance/service-accounts/default/token":
                return (
                    200,
                    {"access_token": self.token, "expires_in": 3599, "token_type": "Bearer"},
                    flavor,
                )
            if seen.path == "/computeMetadata/v1/project/project-id":
                return 200, self.project, flavor
            return 404, "Not Found", flavor
        match = re.fullmatch(
            r"/v1/projects/([^/]+)/secrets/([^/]+)/versions/latest:access", seen.path
        )
        if match is None:
            return 404, google_error(404, "NOT_FOUND", "no such method"), {}
        time.sleep(self.delay)
        if seen.headers.get("authorization") != f"Bearer {self.token}":
            return (
                401,
                google_error(
                    401, "UNAUTHENTICATED", "Request had invalid authentication credentials."
                ),
                {},
            )
        project, secret = match.groups()
        if self.broken is not None:
            return self.broken
        resource = f"projects/{project}/secrets/{secret}/versions/latest"
        if project != self.project or secret in self.denied:
            message = (
                f"Permission 'secretmanager.versions.access' denied for resource '{resource}' "
                "(or it may not exist)."
            )
            return 403, google_error(403, "PERMISSION_DENIED", message), {}
        if secret not in self.values:
            message = (
                f"Secret [projects/{self.number}/secrets/{secret}] not found or has no versions."
            )
            return 404, google_error(404, "NOT_FOUND", message), {}
        data = base64.b64encode(self.values[secret]).decode()
        name = f"projects/{self.number}/secrets/{secret}/versions/1"
        return 200, {"name": name, "payload": {"data": data}}, {}


@pytest.fixture
def gcp(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Gcp, Emulation]]:
    """A GCP emulation, with the variables Cloud Run sets pointing at it."""
    state = Gcp()
    emulation = Emulation(state)
    emulation.start()
    monkeypatch.setenv("K_SERVICE", "phoney-api")
    monkeypatch.setenv("GCE_METADATA_HOST", emulation.address)
    monkeypatch.setenv("FAASPORT_GCP_SECRETS_ENDPOINT", emulation.url)
    yield state, emulation
    emulation.stop()


@dataclass
class Azure:
    """The App Service managed identity endpoint and one Key Vault."""

    identity_header: str = "853b9a84-5bfa-4b22-a3f3-0b9a43d9ad8a"
    token: str = "eyJ0eXAi.emulated"
    values: dict[str, str] = field(default_factory=dict)
    denied: set[str] = field(default_factory=set)

    def __call__(self, seen: Seen) -> Answer:
        if seen.path == "/msi/token":
            if seen.headers.get("x-identity-header") != self.identity_header:
                return (
                    400,
                    {"statusCode": 400, "message": "Missing or invalid X-IDENTITY-HEADER"},
                    {},
                )
            body = {
                "access_token": self.token,
                "expires_on": str(int(time.time()) + 3600),
                "resource": seen.query.get("resource", [""])[0],
                "token_type": "Bearer",
                "client_id": "5E29463D-71DA-4FE0-8E69-999B57DB23B0",
            }
            return 200, body, {}
        match = re.fullmatch(r"/secrets/([A-Za-z0-9-]+)", seen.path)
        if match is None:
            return 404, {"error": {"code": "NotFound", "message": "no such path"}}, {}
        if seen.headers.get("authorization") != f"Bearer {self.token}":
            error = {
                "code": "Unauthorized",
                "message": "AKV10000: Request is missing a Bearer or PoP token.",
            }
            return 401, {"error": error}, {}
        secret = match.group(1)
        if secret in self.denied:
            error = {
                "code": "Forbidden",
                "message": "Caller is not authorized to perform action on resource.",
                "innererror": {"code": "ForbiddenByRbac"},
            }
            return 403, {"error": error}, {}
        if secret not in self.values:
            message = f"A secret with (name/id) {secret} was not found in this key vault."
            return 404, {"error": {"code": "SecretNotFound", "message": message}}, {}
        body = {
            "value": self.values[secret],
            "id": f"https://phoney.vault.azure.net/secrets/{secret}/4387e9f3d6e14c459867679a90fd0f79",
            "attributes": {"enabled": True, "created": 1493938410, "updated": 1493938410},
        }
        return 200, body, {}


@pytest.fixture
def azure(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Azure, Emulation]]:
    """An Azure emulation, with the variables Azure Functions sets pointing at it."""
    state = Azure()
    emulation = Emulation(state)
    emulation.start()
    monkeypatch.setenv("FUNCTIONS_WORKER_RUNTIME", "python")
    monkeypatch.setenv("IDENTITY_ENDPOINT", emulation.url + "/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", state.identity_header)
    monkeypatch.setenv("FAASPORT_KEY_VAULT_URL", emulation.url)
    yield state, emulation
    emulation.stop()
