"""The JWT authorizer, through the middleware on every entry point: each kind of bad token
gets API Gateway's status and body, a good one reaches the app with its claims."""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from faasport import gateway
from faasport.core.errors import ConfigError
from faasport.testing import HttpClient

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

SCOPES = {"POST /items": ["items:write"], "ANY /admin/{proxy+}": ["admin"]}


@pytest.fixture
def client(entry: str, issuer: Any, make_client: Callable[..., HttpClient]) -> HttpClient:
    authorizer = gateway.JwtAuthorizer(
        issuer=issuer.name,
        audience=[issuer.audience, "other"],
        jwks=str(issuer.jwks),
        scopes=SCOPES,
    )
    return make_client(entry, [authorizer])


def call(client: HttpClient, token: str | None, method: str = "GET", path: str = "/items") -> Any:
    headers = {} if token is None else {"authorization": token}
    return client.request(method, path, headers=headers)


def unauthorized(result: Any) -> bool:
    return result.status == 401 and result.json() == {"message": "Unauthorized"}


@pytest.mark.parametrize("kid", ["rsa-1", "ec-1", "ed-1"])
def test_a_valid_token_reaches_the_app_with_its_claims(
    client: HttpClient, issuer: Any, kid: str
) -> None:
    result = call(client, f"Bearer {issuer.token(kid)}")
    assert result.status == 200, result.text
    jwt_context = result.json()["authorizer"]["jwt"]
    assert jwt_context["claims"]["sub"] == "user-1"
    assert jwt_context["scopes"] == ["items:read", "profile"]
    # A bare token (no "Bearer") is accepted as API Gateway does.
    assert call(client, issuer.token(kid)).status == 200


def test_missing_and_malformed_tokens(client: HttpClient) -> None:
    assert unauthorized(call(client, None))
    assert unauthorized(call(client, "Bearer "))
    assert unauthorized(call(client, "Bearer not.a.token"))
    assert unauthorized(call(client, "Basic dXNlcjpwYXNz"))


def test_time_claims(client: HttpClient, issuer: Any) -> None:
    now = int(time.time())
    assert unauthorized(call(client, issuer.token(exp=now - 60)))
    assert unauthorized(call(client, issuer.token(nbf=now + 600)))
    assert unauthorized(call(client, issuer.token(iat=now + 600)))
    assert unauthorized(call(client, issuer.token(exp=None)))
    # JSON's NaN and Infinity (Python's parser takes them) and booleans are not NumericDates.
    for odd in (float("nan"), float("inf"), True, "9999999999"):
        assert unauthorized(call(client, issuer.token(exp=odd)))
        assert unauthorized(call(client, issuer.token(nbf=odd)))
    # Within the leeway of a few seconds: accepted.
    assert call(client, issuer.token(exp=now - 1)).status == 200


def test_issuer_and_audience(client: HttpClient, issuer: Any) -> None:
    assert unauthorized(call(client, issuer.token(iss="https://evil.example.com/")))
    assert unauthorized(call(client, issuer.token(iss=issuer.name.rstrip("/"))))
    assert unauthorized(call(client, issuer.token(aud="someone-else")))
    assert call(client, issuer.token(aud=["x", "other"])).status == 200
    # Without aud, client_id must name an audience (Cognito access tokens).
    assert call(client, issuer.token(aud=None, client_id=issuer.audience)).status == 200
    assert unauthorized(call(client, issuer.token(aud=None, client_id="someone-else")))
    assert unauthorized(call(client, issuer.token(aud=None)))


def test_route_scopes(client: HttpClient, issuer: Any) -> None:
    forbidden = call(client, issuer.token(), "POST", "/items")
    assert (forbidden.status, forbidden.json()) == (403, {"message": "Forbidden"})
    assert call(client, issuer.token(scope="items:write"), "POST", "/items").status == 200
    # scp, as a list (Okta, Azure AD): any one of the route's scopes is enough.
    assert (
        call(client, issuer.token(scope=None, scp=["admin"]), "DELETE", "/admin/a/b").status == 200
    )
    assert call(client, issuer.token(), "DELETE", "/admin/a/b").status == 403
    # Routes without scopes need only a valid token.
    assert call(client, issuer.token(scope=None), "GET", "/items").status == 200


def test_unknown_kid_and_foreign_signatures(client: HttpClient, issuer: Any) -> None:
    issuer.add("unpublished", "rsa")
    assert unauthorized(call(client, issuer.token("unpublished")))
    # Signed by another key, claiming a published kid.
    forged = jwt.encode(
        issuer.claims(), issuer.keys["unpublished"][1], algorithm="RS256", headers={"kid": "rsa-1"}
    )
    assert unauthorized(call(client, forged))


def test_alg_none_is_refused(client: HttpClient, issuer: Any) -> None:
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    token = f"{part({'alg': 'none', 'typ': 'JWT', 'kid': 'rsa-1'})}.{part(issuer.claims())}."
    assert unauthorized(call(client, token))


def test_hs256_signed_with_the_public_key_is_refused(client: HttpClient, issuer: Any) -> None:
    import hashlib
    import hmac

    public = (
        issuer.keys["rsa-1"][1]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )

    def part(value: object) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")

    signed = part({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}) + b"." + part(issuer.claims())
    signature = hmac.new(public, signed, hashlib.sha256).digest()
    token = signed + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")
    assert unauthorized(call(client, token.decode()))


def test_the_algorithm_must_fit_the_key(client: HttpClient, issuer: Any) -> None:
    # An EC key's signature presented as RS256 under the EC key's kid.
    _, key = issuer.keys["ec-1"]
    token = jwt.encode(issuer.claims(), key, algorithm="ES256", headers={"kid": "rsa-1"})
    assert unauthorized(call(client, token))


def test_symmetric_and_none_algorithms_cannot_be_configured(issuer: Any) -> None:
    for algorithms in (["HS256"], ["RS256", "none"]):
        with pytest.raises(ConfigError, match="never none or HS"):
            gateway.JwtAuthorizer(
                issuer=issuer.name,
                audience=issuer.audience,
                jwks=str(issuer.jwks),
                algorithms=algorithms,
            )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def jwks_server(issuer: Any) -> Iterator[tuple[str, list[str]]]:
    """The issuer's JWKS over HTTP on loopback, and the list of requests it served."""
    served: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.append(self.path)
            body = issuer.jwks.read_bytes()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json", served
    finally:
        server.shutdown()
        server.server_close()


def test_jwks_rotation_is_fetched_at_most_once_a_minute(
    issuer: Any,
    jwks_server: tuple[str, list[str]],
    entry: str,
    make_client: Callable[..., HttpClient],
) -> None:
    url, served = jwks_server
    clock = Clock()
    keys = gateway.KeySet(url, clock=clock)
    authorizer = gateway.JwtAuthorizer(issuer=issuer.name, audience=issuer.audience, jwks=keys)
    client = make_client(entry, [authorizer])
    assert call(client, issuer.token("rsa-1")).status == 200
    assert len(served) == 1
    # The issuer rotates: a new key appears, tokens signed with it arrive.
    issuer.add("rsa-2", "rsa")
    issuer.publish(["rsa-2", "rsa-1"])
    clock.now += 30
    assert unauthorized(call(client, issuer.token("rsa-2")))
    assert len(served) == 1  # fetched less than a minute ago: not again
    clock.now += 31
    assert call(client, issuer.token("rsa-2")).status == 200
    assert len(served) == 2
    # Unknown kids now cost nothing until another minute has passed.
    for _ in range(3):
        assert unauthorized(call(client, issuer.token("rsa-2", iss="x")))
    assert unauthorized(call(client, jwt.encode(issuer.claims(), "k" * 32, headers={"kid": "zz"})))
    assert len(served) == 2


def test_an_unreadable_key_set_fails_closed(
    tmp_path: Path,
    issuer: Any,
    make_client: Callable[..., HttpClient],
    capsys: pytest.CaptureFixture[str],
) -> None:
    authorizer = gateway.JwtAuthorizer(
        issuer=issuer.name, audience=issuer.audience, jwks=str(tmp_path / "missing.json")
    )
    client = make_client("function-url", [authorizer])
    assert unauthorized(call(client, issuer.token()))
    assert "missing.json: FileNotFoundError" in capsys.readouterr().err
    with pytest.raises(gateway.KeySetError, match="must use https"):
        gateway.KeySet("http://issuer.example.com/jwks.json")


@pytest.mark.parametrize(
    "document",
    ["[1, 2]", "7", '{"keys": 3}', "[" * 100_000 + "]" * 100_000],
    ids=["list", "number", "keys-not-a-list", "nested"],
)
def test_a_key_set_that_is_no_jwks_fails_closed(
    tmp_path: Path,
    issuer: Any,
    document: str,
    make_client: Callable[..., HttpClient],
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "odd.json").write_text(document)
    authorizer = gateway.JwtAuthorizer(
        issuer=issuer.name, audience=issuer.audience, jwks=str(tmp_path / "odd.json")
    )
    client = make_client("function-url", [authorizer])
    assert unauthorized(call(client, issuer.token()))
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("faasport: JWT authorizer: JWKS ") and "odd.json" in line


def test_a_key_set_server_that_drips_is_cut_off(
    issuer: Any, make_client: Callable[..., HttpClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole fetch has its timeout, not each read: a byte every 100 ms never ends."""
    from faasport.gateway import jwks

    monkeypatch.setattr(jwks, "FETCH_TIMEOUT", 0.5)

    class Drip(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            with contextlib.suppress(OSError):
                for _ in range(100):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.1)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
        authorizer = gateway.JwtAuthorizer(issuer=issuer.name, audience=issuer.audience, jwks=url)
        client = make_client("function-url", [authorizer])
        started = time.monotonic()
        assert unauthorized(call(client, issuer.token()))
        assert time.monotonic() - started < 3
    finally:
        server.shutdown()
        server.server_close()


# -- tokens already verified --------------------------------------------------------------


def test_a_verified_token_still_expires(issuer: Any) -> None:
    clock = Clock()
    clock.now = time.time()
    authorizer = gateway.JwtAuthorizer(
        issuer=issuer.name, audience=issuer.audience, jwks=str(issuer.jwks), clock=clock
    )
    token = issuer.token(exp=int(clock.now) + 60)
    assert authorizer.verify(token) is not None
    assert authorizer.verify(token) is not None  # the second time from what was verified
    clock.now += 66  # past exp and the 5 seconds of leeway
    assert authorizer.verify(token) is None


def test_a_verified_token_of_a_key_rotated_out_is_refused(issuer: Any) -> None:
    clock = Clock()
    keys = gateway.KeySet(str(issuer.jwks), clock=clock)
    authorizer = gateway.JwtAuthorizer(issuer=issuer.name, audience=issuer.audience, jwks=keys)
    old = issuer.token("rsa-1")
    assert authorizer.verify(old) is not None
    issuer.add("rsa-2", "rsa")
    issuer.publish(["rsa-2"])  # rsa-1 withdrawn
    clock.now += 3600  # the key set is read again once it is an hour old
    assert authorizer.verify(issuer.token("rsa-2")) is not None
    assert authorizer.verify(old) is None


def test_verified_claims_are_the_requests_own(issuer: Any) -> None:
    authorizer = gateway.JwtAuthorizer(
        issuer=issuer.name, audience=issuer.audience, jwks=str(issuer.jwks)
    )
    token = issuer.token()
    first = authorizer.verify(token)
    assert first is not None
    first["sub"] = "changed by the app"
    second = authorizer.verify(token)
    assert second is not None and second["sub"] == "user-1"


def test_verified_tokens_are_bounded(issuer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from faasport.gateway import jwt as module

    monkeypatch.setattr(module, "VERIFIED_TOKENS", 3)
    authorizer = gateway.JwtAuthorizer(
        issuer=issuer.name, audience=issuer.audience, jwks=str(issuer.jwks)
    )
    tokens = [issuer.token(sub=f"user-{n}") for n in range(5)]
    for token in tokens:
        assert authorizer.verify(token) is not None
    assert len(authorizer._verified) == 3
    # A token that left the cache is verified again, and passes.
    assert authorizer.verify(tokens[0]) is not None
