"""WebSocket handshakes behind ``gateway.asgi``: the policies check them as the GET they
are, over a real uvicorn and the ``websockets`` client."""

from __future__ import annotations

import asyncio
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.gateway.conftest import Issuer
from tests.servers import uvicorn
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from faasport import gateway
from faasport.gateway.request import Policy, Request, Response

APP = """
import os

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from faasport import gateway, state


async def whoami(websocket):
    await websocket.accept()
    claims = gateway.authorizer(websocket.scope)["jwt"]["claims"]
    await websocket.send_text(claims["sub"] + " " + await websocket.receive_text())
    await websocket.close()


authorizer = gateway.JwtAuthorizer(
    issuer=os.environ["ISSUER"],
    audience=os.environ["AUDIENCE"],
    jwks=os.environ["JWKS"],
    identity="$request.querystring.token",
)
app = gateway.asgi(
    Starlette(routes=[WebSocketRoute("/ws", whoami)]),
    gateway.Cors(origins=["https://app.example.com"]),
    gateway.RateLimit(state.open(os.environ["STATE"]), rate=6, per="minute"),
    authorizer,
)
"""


@pytest.fixture
def served(tmp_path: Path, issuer: Issuer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    (tmp_path / "wsapp.py").write_text(textwrap.dedent(APP))
    monkeypatch.setenv("ISSUER", issuer.name)
    monkeypatch.setenv("AUDIENCE", issuer.audience)
    monkeypatch.setenv("JWKS", str(issuer.jwks))
    monkeypatch.setenv("STATE", f"sqlite:///{tmp_path}/state.db")
    with uvicorn(tmp_path, "wsapp:app") as url:
        yield url.replace("http://", "ws://")


def refused(url: str, **options: Any) -> tuple[int, bytes]:
    with pytest.raises(InvalidStatus) as refusal:
        connect(url, **options).close()
    return refusal.value.response.status_code, refusal.value.response.body or b""


def test_the_policies_gate_the_handshake(served: str, issuer: Issuer) -> None:
    token = issuer.token()
    # A token in the query: the app gets the claims, and the policies' headers come with the
    # accept.
    with connect(f"{served}/ws?token={token}") as socket:
        socket.send("hello")
        assert socket.recv() == "user-1 hello"
        assert socket.response.headers["ratelimit-limit"] == "6"
    # No token, an expired one, one in the wrong place: API Gateway's 401 and its body.
    assert refused(f"{served}/ws") == (401, b'{"message":"Unauthorized"}')
    assert refused(f"{served}/ws?token={issuer.token(exp=1)}")[0] == 401
    header = {"additional_headers": {"authorization": f"Bearer {token}"}}
    assert refused(f"{served}/ws", **header)[0] == 401
    # A page of another site (cross-site WebSocket hijacking) is refused; the app's own
    # origin passes.
    foreign = {"origin": "https://evil.example"}
    assert refused(f"{served}/ws?token={token}", **foreign) == (403, b'{"message":"Forbidden"}')
    with connect(f"{served}/ws?token={token}", origin="https://app.example.com") as socket:  # type: ignore[arg-type]
        socket.send("again")
        assert socket.recv() == "user-1 again"
    # The rate limit counts handshakes too (the GET that found the server up was one,
    # the refusal by origin, before the limit, was not): 6 a minute, then 429.
    status, _ = refused(f"{served}/ws?token={token}")
    assert status == 429


class Scripted:
    """A server's side of one WebSocket, without the ``websocket.http.response``
    extension unless ``extensions`` says so."""

    def __init__(self, extensions: dict[str, Any] | None = None) -> None:
        self.scope = {
            "type": "websocket",
            "path": "/ws",
            "headers": [(b"origin", b"https://evil.example"), (b"upgrade", b"websocket")],
            "query_string": b"",
            "client": ("127.0.0.1", 5000),
        }
        if extensions is not None:
            self.scope["extensions"] = extensions
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def run(self, app: Any) -> list[dict[str, Any]]:
        asyncio.run(app(self.scope, self.receive, self.send))
        return self.sent


async def never(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("the app saw a refused connection")


def test_without_the_http_response_extension_a_refusal_is_the_servers_403() -> None:
    app = gateway.asgi(never, gateway.Cors(origins=["https://app.example.com"]))
    assert [m["type"] for m in Scripted().run(app)] == ["websocket.close"]
    sent = Scripted({"websocket.http.response": {}}).run(app)
    assert [m["type"] for m in sent] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ]
    assert sent[0]["status"] == 403
    assert json.loads(sent[1]["body"]) == {"message": "Forbidden"}


class Books(Policy):
    def __init__(self) -> None:
        self.calls: list[str] = []

    def finish(self, request: Request, response: Response) -> None:
        self.calls.append(f"finish {response.status}")
        response.headers.append(("x-policy", "seen"))

    def fail(self, request: Request) -> None:
        self.calls.append("fail")


@pytest.mark.parametrize("how", ["accepts", "refuses", "raises"])
def test_the_policies_finish_an_accepted_handshake_and_give_up_the_others(how: str) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        if how == "raises":
            raise RuntimeError("broken")
        if how == "refuses":
            await send({"type": "websocket.close"})
            return
        await send({"type": "websocket.accept", "headers": [(b"x-app", b"1")]})
        await send({"type": "websocket.close"})

    books = Books()
    script = Scripted()
    wrapped = gateway.asgi(app, books)
    if how == "raises":
        with pytest.raises(RuntimeError, match="broken"):
            script.run(wrapped)
    else:
        script.run(wrapped)
    if how == "accepts":
        assert books.calls == ["finish 101"]
        assert script.sent[0]["headers"] == [(b"x-app", b"1"), (b"x-policy", b"seen")]
    else:
        assert books.calls == ["fail"]


def test_an_identity_source_jwt_cannot_read_is_refused_in_one_line(issuer: Issuer) -> None:
    from faasport.core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\$request.header.NAME or \$request.querystring"):
        gateway.JwtAuthorizer(
            issuer=issuer.name,
            audience=issuer.audience,
            jwks=str(issuer.jwks),
            identity="$request.cookie.token",
        )


def test_the_token_is_read_from_the_identity_source(issuer: Issuer) -> None:
    def authorizer(identity: str) -> gateway.JwtAuthorizer:
        return gateway.JwtAuthorizer(
            issuer=issuer.name, audience=issuer.audience, jwks=str(issuer.jwks), identity=identity
        )

    request = Request("GET", "/", {"x-token": "a", "authorization": "b"}, "", "token=c&t=d", b"")
    assert authorizer("$request.header.X-Token").token(request) == "a"
    assert authorizer("$request.header.Authorization").token(request) == "b"
    assert authorizer("$request.querystring.token").token(request) == "c"
    assert authorizer("$request.querystring.missing").token(request) == ""
