"""The policies a packaged entry module enforces inside its functions: which ones each cloud
gets, and the artifact itself answering as the gateway would — served by the real
functions-framework for Google Cloud, called with real ``azure.functions`` objects for
Azure, and invoked with API Gateway events for AWS."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from faasport.config import load_project
from faasport.core.errors import ConfigError
from faasport.deploy.package import build
from faasport.deploy.package.azure import function_app_source
from faasport.deploy.package.gcp import main_source
from faasport.deploy.package.policies import EntryPolicies, entry_policies
from faasport.local.entry import entry_source
from projects import write_project
from servers import functions_framework

ISSUER = "https://issuer.example.com/"

CONFIG = """
name = "orders"

[api]
type = "{api}"
cors = {{ origins = ["https://app.example.com"] }}
throttle = {{ rate = 50, burst = 100 }}

[auth.users]
issuer = "https://issuer.example.com/"
audience = ["orders"]
jwks = "keys/jwks.json"

[functions.api]
app = "orders_app.web:app"
health = "/health"
auth = "users"
routes = ["ANY /{{proxy+}}", "DELETE /orders/{{id}}"]
scopes = {{ "DELETE /orders/{{id}}" = ["orders:admin"] }}
throttle = {{ rate = 20, burst = 40 }}
rate_limit = {{ rate = 3, per = "minute", by = "sub" }}
idempotency = {{ ttl = 600 }}

[functions.open]
app = "orders_app.web:app"
routes = ["GET /open"]
"""

APP = """
import json

from faasport import gateway

calls = {"n": 0}


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    calls["n"] += 1
    found = gateway.authorizer(scope) or {}
    answer = {
        "path": scope["path"],
        "sub": found.get("jwt", {}).get("claims", {}).get("sub"),
        "call": calls["n"],
        "body": body.decode(),
    }
    data = json.dumps(answer).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": data})
"""


class Keys:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> str:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return json.dumps({"keys": [{**public, "kid": "k1"}]})

    def token(self, sub: str, key: Any = None, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": "orders", "sub": sub, "iat": now, "exp": now + 600}
        return jwt.encode(
            {**body, **claims}, key or self.key, algorithm="RS256", headers={"kid": "k1"}
        )


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


def project_root(directory: Path, keys: Keys, api: str = "http") -> Path:
    root = write_project(directory, CONFIG.format(api=api))
    (root / "keys").mkdir()
    (root / "keys" / "jwks.json").write_text(keys.jwks())
    (root / "orders_app").mkdir()
    (root / "orders_app" / "__init__.py").write_text("")
    (root / "orders_app" / "web.py").write_text(APP)
    return root


def unpacked(root: Path, target: str, into: Path) -> Path:
    artifact = build(load_project(root), target)
    with zipfile.ZipFile(artifact.path) as opened:
        opened.extractall(into)
    return into


def policy_names(policies: EntryPolicies, function: str) -> list[str]:
    """The policy classes of ``function``'s ``policies=`` argument, in order."""
    argument = policies.arguments.get(function)
    if argument is None:
        return []
    shared = {}
    for line in policies.setup:
        name, _, expression = line.partition(" = ")
        shared[name] = ast.parse(expression, mode="eval").body
    call = ast.parse(argument, mode="eval").body
    assert isinstance(call, ast.Call)
    names = []
    for node in call.args:
        if isinstance(node, ast.Name):
            node = shared[node.id]
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        names.append(node.func.attr)
    return names


@pytest.mark.parametrize(
    ("target", "api", "expected"),
    [
        # Google Cloud and Azure have no gateway: the function enforces everything.
        (
            "gcp",
            "http",
            ["Cors", "JwtAuthorizer", "Throttle", "Throttle", "RateLimit", "Idempotency"],
        ),
        (
            "azure",
            "http",
            ["Cors", "JwtAuthorizer", "Throttle", "Throttle", "RateLimit", "Idempotency"],
        ),
        # HTTP APIs check tokens, CORS and throttles themselves.
        ("aws", "http", ["RateLimit", "Idempotency"]),
        # REST APIs throttle, but have neither JWT authorizers nor faasport's CORS.
        ("aws", "rest", ["Cors", "JwtAuthorizer", "RateLimit", "Idempotency"]),
    ],
)
def test_each_cloud_enforces_in_the_function_what_its_gateway_does_not(
    tmp_path: Path, keys: Keys, target: str, api: str, expected: list[str]
) -> None:
    project = load_project(project_root(tmp_path / "orders", keys, api))
    policies = entry_policies(project, target)
    if target == "gcp":
        source = main_source(project, policies)
    elif target == "azure":
        source = function_app_source(project, policies)[0]
    else:
        source = entry_source(project, policies.imports, policies.setup, policies.arguments)
    compile(source, "entry", "exec")
    for function, argument in policies.arguments.items():
        assert f"policies={argument}" in source, function
    assert policy_names(policies, "api") == expected
    # A function with no policy of its own gets the API's: CORS and the stage throttle.
    api_wide = [name for name in expected[:1] if name == "Cors"]
    if target in ("gcp", "azure"):
        api_wide.append("Throttle")
    assert policy_names(policies, "open") == api_wide
    assert ("open" in policies.arguments) == bool(api_wide)
    # The key set file travels in the artifact when the function checks tokens.
    shipped = {"faasport_keys/users.json": project.root / "keys" / "jwks.json"}
    assert policies.files == (shipped if "JwtAuthorizer" in expected else {})


def test_without_policies_the_entry_module_is_unchanged(tmp_path: Path) -> None:
    root = write_project(tmp_path / "plain", '[functions.api]\napp = "plain:app"\n')
    project = load_project(root)
    assert main_source(project, entry_policies(project, "gcp")) == main_source(project)
    assert entry_source(project) == (
        '"""Generated by faasport from faasport.toml; do not edit."""\n\n'
        "from faasport import aws\nfrom faasport.aws import extension\n\n"
        "extension.register()\n\napi = aws.handler('plain:app')\n"
    )


@pytest.mark.parametrize("target", ["gcp", "azure"])
def test_what_a_cloud_without_a_gateway_cannot_enforce_is_refused(
    tmp_path: Path, target: str
) -> None:
    lambda_auth = """
        [api]
        type = "rest"

        [auth.custom]
        type = "lambda"
        function = "authz"
        event = "token"

        [functions.authz]
        handler = "authz:handle"

        [functions.api]
        app = "web:app"
        auth = "custom"
        """
    project = load_project(write_project(tmp_path / "lambda", lambda_auth))
    with pytest.raises(ConfigError) as raised:
        entry_policies(project, target)
    assert "functions.api.auth" in str(raised.value)
    assert "Lambda authorizer" in str(raised.value)
    keys = lambda_auth.replace('auth = "custom"', "api_key_required = true")
    project = load_project(write_project(tmp_path / "keys", keys))
    with pytest.raises(ConfigError) as raised:
        entry_policies(project, target)
    assert "functions.api.api_key_required" in str(raised.value)
    # AWS runs both in API Gateway.
    assert entry_policies(project, "aws").arguments == {}


def test_a_missing_key_set_file_is_named(tmp_path: Path, keys: Keys) -> None:
    root = project_root(tmp_path / "orders", keys)
    (root / "keys" / "jwks.json").unlink()
    with pytest.raises(ConfigError) as raised:
        entry_policies(load_project(root), "gcp")
    assert "auth.users.jwks" in str(raised.value)
    assert "keys/jwks.json is not a file" in str(raised.value)


# -- the artifacts, answering -----------------------------------------------------------------


@pytest.fixture(scope="module")
def gcp_url(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("gcp-policies")
    root = project_root(tmp / "orders", keys)
    directory = unpacked(root, "gcp", tmp / "unpacked")
    state = f"sqlite:///{tmp / 'state.db'}"
    with functions_framework(directory / "main.py", "api", {"FAASPORT_STATE_URL": state}) as url:
        yield url


def test_gcp_without_a_token_is_401_as_api_gateway_answers(gcp_url: str, keys: Keys) -> None:
    missing = httpx.get(gcp_url + "/orders", timeout=10)
    forged = httpx.get(
        gcp_url + "/orders",
        headers={"authorization": f"Bearer {keys.token('eve', key=keys.other)}"},
        timeout=10,
    )
    for response in (missing, forged):
        assert response.status_code == 401
        assert response.json() == {"message": "Unauthorized"}
        assert response.headers["content-type"] == "application/json"
    # The health check needs no token, and a preflight is answered before the authorizer.
    assert httpx.get(gcp_url + "/health", timeout=10).status_code == 200
    preflight = httpx.options(
        gcp_url + "/orders",
        headers={"origin": "https://app.example.com", "access-control-request-method": "POST"},
        timeout=10,
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"


def test_gcp_a_valid_token_reaches_the_app_with_its_claims(gcp_url: str, keys: Keys) -> None:
    token = keys.token("ada")
    response = httpx.get(
        gcp_url + "/orders/7",
        headers={"authorization": f"Bearer {token}", "origin": "https://app.example.com"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json()["sub"] == "ada"
    assert response.json()["path"] == "/orders/7"
    assert response.headers["access-control-allow-origin"] == "https://app.example.com"
    assert response.headers["ratelimit-limit"] == "3"
    # A route's scopes hold too: this token has none.
    denied = httpx.delete(
        gcp_url + "/orders/7", headers={"authorization": f"Bearer {token}"}, timeout=10
    )
    assert denied.status_code == 403
    assert denied.json() == {"message": "Forbidden"}


def test_gcp_rate_limit_per_subject_answers_429_with_retry_after(gcp_url: str, keys: Keys) -> None:
    headers = {"authorization": f"Bearer {keys.token('bob')}"}
    statuses = [httpx.get(gcp_url + "/orders", headers=headers, timeout=10) for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    refused = statuses[-1]
    assert refused.json() == {"message": "Too Many Requests"}
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # Another subject has its own count.
    other = {"authorization": f"Bearer {keys.token('cy')}"}
    assert httpx.get(gcp_url + "/orders", headers=other, timeout=10).status_code == 200


def test_gcp_an_idempotent_repeat_replays_the_first_answer(gcp_url: str, keys: Keys) -> None:
    headers = {"authorization": f"Bearer {keys.token('dee')}", "idempotency-key": "order-1"}
    first = httpx.post(gcp_url + "/orders", headers=headers, content=b"one", timeout=10)
    again = httpx.post(gcp_url + "/orders", headers=headers, content=b"one", timeout=10)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["idempotency-replayed"] == "true"
    assert "idempotency-replayed" not in first.headers
    other = {**headers, "idempotency-key": "order-2"}
    third = httpx.post(gcp_url + "/orders", headers=other, content=b"two", timeout=10)
    # The app ran once for the repeated key: the next call is the very next one.
    assert third.json()["call"] == first.json()["call"] + 1


AZURE_CALLS = """
import asyncio, json, sys, types
root, state, tokens = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
sys.path.insert(0, root)
import os
os.environ["FAASPORT_STATE_URL"] = state
import runpy
import azure.functions as func
import faasport

app = runpy.run_path(root + "/function_app.py")["app"]
api = {f.get_function_name(): f for f in app.get_functions()}["api"].get_user_function()
context = types.SimpleNamespace(invocation_id="inv-1")


def request(method, path, token=None, body=b"", **headers):
    if token:
        headers["authorization"] = "Bearer " + token
    return func.HttpRequest(method, "https://orders.example" + path, headers=headers, body=body,
                            route_params={"route": path.lstrip("/")})


async def main():
    out = {"faasport": faasport.__file__}
    calls = [
        ("missing", request("GET", "/orders")),
        ("forged", request("GET", "/orders", tokens["forged"])),
        ("valid", request("GET", "/orders", tokens["ada"])),
        *[(f"limit{i}", request("GET", "/orders", tokens["bob"])) for i in range(4)],
        ("first", request("POST", "/orders", tokens["dee"], b"one", **{"idempotency-key": "k"})),
        ("again", request("POST", "/orders", tokens["dee"], b"one", **{"idempotency-key": "k"})),
    ]
    for name, req in calls:
        response = await api(req, context)
        out[name] = {"status": response.status_code, "headers": dict(response.headers),
                     "body": json.loads(response.get_body() or b"null")}
    print(json.dumps(out))


asyncio.run(main())
"""


def test_azure_function_app_enforces_the_policies(tmp_path: Path, keys: Keys) -> None:
    root = project_root(tmp_path / "orders", keys)
    directory = unpacked(root, "azure", tmp_path / "unpacked")
    tokens = {
        "forged": keys.token("eve", key=keys.other),
        "ada": keys.token("ada"),
        "bob": keys.token("bob"),
        "dee": keys.token("dee"),
    }
    state = f"sqlite:///{tmp_path / 'state.db'}"
    done = subprocess.run(
        [sys.executable, "-I", "-c", AZURE_CALLS, str(directory), state, json.dumps(tokens)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["faasport"].startswith(str(directory))  # the artifact's own copy ran
    for name in ("missing", "forged"):
        assert out[name]["status"] == 401
        assert out[name]["body"] == {"message": "Unauthorized"}
    assert out["valid"]["status"] == 200
    assert out["valid"]["body"]["sub"] == "ada"
    assert [out[f"limit{i}"]["status"] for i in range(4)] == [200, 200, 200, 429]
    refused = {k.lower(): v for k, v in out["limit3"]["headers"].items()}
    assert refused["retry-after"].isdigit()
    assert out["limit3"]["body"] == {"message": "Too Many Requests"}
    assert out["again"]["body"] == out["first"]["body"]
    replayed = {k.lower(): v for k, v in out["again"]["headers"].items()}
    assert replayed["idempotency-replayed"] == "true"


def test_aws_entry_runs_rate_limit_and_idempotency_behind_an_http_api(
    tmp_path: Path, keys: Keys
) -> None:
    """API Gateway verified the token: the function counts by the subject in the event's
    authorizer context, and replays repeats."""
    root = project_root(tmp_path / "orders", keys)
    project = load_project(root)
    policies = entry_policies(project, "aws")
    (tmp_path / "entry").mkdir()
    (tmp_path / "entry" / "faasport_handler.py").write_text(
        entry_source(project, policies.imports, policies.setup, policies.arguments)
    )
    script = AWS_CALLS
    done = subprocess.run(
        [sys.executable, "-c", script, str(root), str(tmp_path / "entry")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={"FAASPORT_STATE_URL": f"sqlite:///{tmp_path / 'state.db'}", "PATH": "/usr/bin"},
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["limit"] == [200, 200, 200, 429]
    assert out["retry_after"].isdigit()
    assert out["replayed"] == "true"
    assert out["same"] is True


AWS_CALLS = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from faasport.aws import extension
extension.register = lambda: None  # no Lambda extensions API here
import faasport_handler
from faasport.testing import LambdaClient, event

client = LambdaClient(faasport_handler.api)


def call(method, sub, **headers):
    request = event("apigw-v2", method=method, path="/orders", headers=headers, body="one")
    request["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": sub}, "scopes": None}}
    return client.invoke(request)


limit = [call("GET", "bob") for _ in range(4)]
first = call("POST", "dee", **{"idempotency-key": "k"})
again = call("POST", "dee", **{"idempotency-key": "k"})
print(json.dumps({
    "limit": [r["statusCode"] for r in limit],
    "retry_after": {k.lower(): v for k, v in limit[-1]["headers"].items()}["retry-after"],
    "replayed": {k.lower(): v for k, v in again["headers"].items()}["idempotency-replayed"],
    "same": json.loads(first["body"]) == json.loads(again["body"]),
}))
"""


IMPORT_PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
before = set(sys.modules)
import main
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_the_entry_module_builds_its_policies_with_the_standard_library_only(
    tmp_path: Path, keys: Keys
) -> None:
    """No key set is read and no store opened at import: PyJWT, cryptography and the store
    drivers come with the first request, and the configuration tools never."""
    root = project_root(tmp_path / "orders", keys)
    directory = unpacked(root, "gcp", tmp_path / "unpacked")
    done = subprocess.run(
        [sys.executable, "-I", "-c", IMPORT_PROBE, str(directory)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    third_party = {m.split(".")[0] for m in loaded} - set(sys.stdlib_module_names)
    assert third_party == {"faasport", "main"}
    assert not [m for m in loaded if m.startswith(("faasport.config", "faasport.deploy"))]
    assert "faasport.gateway.jwt" in loaded  # the policies were built


def test_the_identity_source_travels_into_the_function(tmp_path: Path, keys: Keys) -> None:
    """``[auth.NAME] identity``: the packaged authorizer reads the token where it is set."""
    root = project_root(tmp_path / "orders", keys)
    config = root / "faasport.toml"
    config.write_text(
        config.read_text().replace(
            'jwks = "keys/jwks.json"\n',
            'jwks = "keys/jwks.json"\nidentity = "$request.querystring.token"\n',
        )
    )
    policies = entry_policies(load_project(root), "gcp")
    shared = dict(line.partition(" = ")[::2] for line in policies.setup)
    call = ast.parse(policies.arguments["api"], mode="eval").body
    assert isinstance(call, ast.Call)
    nodes = [
        ast.parse(shared[a.id], mode="eval").body if isinstance(a, ast.Name) else a
        for a in call.args
    ]
    authorizers = [
        node
        for node in nodes
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "JwtAuthorizer"
    ]
    identity = {k.arg: k.value for k in authorizers[0].keywords}["identity"]
    assert ast.literal_eval(identity) == "$request.querystring.token"
