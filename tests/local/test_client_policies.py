"""A function's ``scopes``, ``rate_limit`` and ``idempotency`` enforced by a real ``faasport
dev``; and with a network store (a real Redis started here), a store that stalls holds only
the requests that wait on it, never the gateway's other routes."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from dev_process import Dev
from jwks_project import write_jwks_project
from servers import free_port

ISSUER = "https://issuer.example.com/"

HANDLERS = textwrap.dedent(
    """
    import json, uuid

    def show(event, context):
        body = {"id": str(uuid.uuid4()), "authorizer": event["requestContext"].get("authorizer")}
        return {"statusCode": 200, "body": json.dumps(body)}

    def fail(event, context):
        return {"statusCode": 503, "body": str(uuid.uuid4())}

    def stream(event, context):
        yield {"statusCode": 200, "headers": {"content-type": "text/plain"}}
        for i in range(3):
            yield f"{i} {uuid.uuid4()}\\n"

    def stream_big(event, context):
        yield {"statusCode": 200, "headers": {"content-type": "text/plain"}}
        yield f"{uuid.uuid4()}\\n"
        for _ in range(7):
            yield "x" * (1024 * 1024)

    def stream_broken(event, context):
        yield {"statusCode": 200, "headers": {"content-type": "text/plain"}}
        yield f"{uuid.uuid4()}\\n"
        raise RuntimeError("broke mid-stream")
    """
)

CONFIG = f"""
name = "clients"

[auth.users]
issuer = "{ISSUER}"
audience = ["clients"]
jwks = "keys/jwks.json"

[functions.items]
handler = "fns:show"
auth = "users"
routes = ["GET /items", "DELETE /items/{{id}}"]
scopes = {{ "DELETE /items/{{id}}" = ["items:admin", "admin"] }}

[functions.by_ip]
handler = "fns:show"
routes = ["GET /by-ip"]
rate_limit = {{ rate = 2, per = "minute" }}

[functions.by_sub]
handler = "fns:show"
auth = "users"
routes = ["GET /by-sub"]
rate_limit = {{ rate = 1, per = "minute", by = "sub" }}

[functions.orders]
handler = "fns:show"
routes = ["POST /orders", "GET /orders"]
idempotency = true

[functions.flaky]
handler = "fns:fail"
routes = ["POST /flaky"]
idempotency = {{ payload_hash = true }}

[functions.streamed]
handler = "fns:stream"
stream = true
routes = ["POST /streamed"]
idempotency = true

[functions.streamed_big]
handler = "fns:stream_big"
stream = true
routes = ["POST /streamed-big"]
idempotency = true

[functions.streamed_broken]
handler = "fns:stream_broken"
stream = true
routes = ["POST /streamed-broken"]
idempotency = true
"""


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def token(key: rsa.RSAPrivateKey, **changes: Any) -> str:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": "clients",
        "sub": "ada",
        "scope": "items:read",
        "exp": int(time.time()) + 60,
    }
    claims.update(changes)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


def bearer(key: rsa.RSAPrivateKey, **changes: Any) -> dict[str, str]:
    return {"authorization": f"Bearer {token(key, **changes)}"}


def project(root: Path, config: str, key: rsa.RSAPrivateKey) -> Path:
    return write_jwks_project(root, config, HANDLERS, key)


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory, key: rsa.RSAPrivateKey) -> Iterator[Dev]:
    server = Dev(project(tmp_path_factory.mktemp("clients"), CONFIG, key), "--no-reload")
    try:
        yield server
    finally:
        server.close()


def test_a_route_scope_is_needed_on_that_route_only(dev: Dev, key: rsa.RSAPrivateKey) -> None:
    assert httpx.get(f"{dev.url}/items", headers=bearer(key)).status_code == 200
    refused = httpx.delete(f"{dev.url}/items/7", headers=bearer(key))
    assert (refused.status_code, refused.json()) == (403, {"message": "Forbidden"})
    admitted = httpx.delete(f"{dev.url}/items/7", headers=bearer(key, scope="read admin"))
    assert admitted.status_code == 200
    assert admitted.json()["authorizer"]["jwt"]["scopes"] == ["read", "admin"]
    assert httpx.delete(f"{dev.url}/items/7").status_code == 401


def test_rate_limit_by_source_address(dev: Dev) -> None:
    answers = [httpx.get(f"{dev.url}/by-ip") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["1", "0", "0"]
    assert answers[0].headers["ratelimit-limit"] == "2"
    refused = answers[2]
    assert refused.json() == {"message": "Too Many Requests"}
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "apigw-requestid" in refused.headers


def test_rate_limit_by_subject_counts_each_subject(dev: Dev, key: rsa.RSAPrivateKey) -> None:
    ada = [httpx.get(f"{dev.url}/by-sub", headers=bearer(key)).status_code for _ in range(2)]
    bob = httpx.get(f"{dev.url}/by-sub", headers=bearer(key, sub="bob")).status_code
    assert (ada, bob) == ([200, 429], 200)


def test_a_repeated_request_is_replayed_without_invoking_again(dev: Dev) -> None:
    headers = {"idempotency-key": "order-1"}
    first = httpx.post(f"{dev.url}/orders", content=b"{}", headers=headers)
    started = dev.invocation_ids()
    again = httpx.post(f"{dev.url}/orders", content=b"{}", headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotency-replayed"] == "true"
    # The request id is API Gateway's, of the request answered: not the first one's.
    assert again.headers["apigw-requestid"] != first.headers["apigw-requestid"]
    assert dev.invocation_ids() == started
    other = httpx.post(f"{dev.url}/orders", content=b"{}", headers={"idempotency-key": "order-2"})
    assert other.json()["id"] != first.json()["id"]
    # Reads are not idempotency-keyed: each runs.
    reads = [httpx.get(f"{dev.url}/orders", headers=headers).json()["id"] for _ in range(2)]
    assert reads[0] != reads[1]


def test_a_streamed_answer_is_replayed_whole(dev: Dev) -> None:
    headers = {"idempotency-key": "stream-1"}
    first = httpx.post(f"{dev.url}/streamed", content=b"{}", headers=headers)
    assert first.headers["transfer-encoding"] == "chunked"
    assert len(first.text.splitlines()) == 3
    started = dev.invocation_ids()
    again = httpx.post(f"{dev.url}/streamed", content=b"{}", headers=headers)
    assert (again.status_code, again.text) == (200, first.text)
    assert again.headers["content-type"] == "text/plain"
    assert again.headers["idempotency-replayed"] == "true"
    assert dev.invocation_ids() == started


def test_a_stream_past_the_payload_limit_is_not_stored(dev: Dev) -> None:
    """Past 6 MB (a buffered response's limit) the body is not kept: a repeat runs again."""
    headers = {"idempotency-key": "big-1"}
    firsts = []
    for _ in range(2):
        answer = httpx.post(f"{dev.url}/streamed-big", headers=headers, timeout=30)
        assert (answer.status_code, len(answer.content)) == (200, 37 + 7 * 1024 * 1024)
        assert "idempotency-replayed" not in answer.headers
        firsts.append(answer.text[:36])
    assert firsts[0] != firsts[1]


def test_a_stream_that_broke_is_not_replayed(dev: Dev) -> None:
    headers = {"idempotency-key": "broken-1"}
    bodies = []
    for _ in range(2):
        with (
            pytest.raises(httpx.RemoteProtocolError),
            httpx.stream("POST", f"{dev.url}/streamed-broken", headers=headers) as response,
        ):
            assert response.status_code == 200
            for line in response.iter_lines():
                bodies.append(line)
    assert len(bodies) == 2 and bodies[0] != bodies[1]


def test_a_failed_answer_is_not_replayed(dev: Dev) -> None:
    first = httpx.post(f"{dev.url}/flaky", content=b"same body")
    again = httpx.post(f"{dev.url}/flaky", content=b"same body")
    assert first.status_code == again.status_code == 503
    assert first.text != again.text


# -- a network store ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed: run `make redis`"
    import redis

    port = free_port()
    directory = tempfile.mkdtemp(prefix="faasport-redis-")
    with open(Path(directory) / "log", "wb") as log:
        server = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--dir", directory],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    client = redis.Redis(port=port)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        server.terminate()
        server.wait(10)
        shutil.rmtree(directory, ignore_errors=True)


STALL_CONFIG = """
name = "stall"

[functions.limited]
handler = "fns:show"
routes = ["GET /limited"]
rate_limit = {{ rate = 100, per = "minute" }}

[functions.open]
handler = "fns:show"
routes = ["GET /open"]

[state]
url = "{url}"
"""


@pytest.mark.redis
def test_a_stalled_store_delays_no_other_route(
    tmp_path: Path, key: rsa.RSAPrivateKey, redis_url: str
) -> None:
    import redis

    server = Dev(project(tmp_path, STALL_CONFIG.format(url=redis_url), key), "--no-reload")
    admin = redis.Redis.from_url(redis_url)
    try:
        with httpx.Client(timeout=10) as client:
            # Both functions warm, the store's connection open, the client's too.
            assert client.get(f"{server.url}/limited").status_code == 200
            assert client.get(f"{server.url}/open").status_code == 200
            admin.execute_command("CLIENT", "PAUSE", "3000", "ALL")
            result: dict[str, Any] = {}

            def limited() -> None:
                started = time.monotonic()
                result["status"] = httpx.get(f"{server.url}/limited", timeout=10).status_code
                result["took"] = time.monotonic() - started

            thread = threading.Thread(target=limited)
            thread.start()
            time.sleep(0.3)  # the decision now waits on the paused store
            started = time.monotonic()
            for _ in range(3):
                assert client.get(f"{server.url}/open").status_code == 200
            took = time.monotonic() - started
            # The other route answered while the rate-limited request still waits.
            assert thread.is_alive(), f"the other route waited for the store ({took:.2f} s)"
            assert took < 1.5, f"other routes waited {took:.2f} s on the store"
            thread.join(10)
        assert result["status"] == 200 and result["took"] > 2.0
    finally:
        admin.close()
        server.close()
