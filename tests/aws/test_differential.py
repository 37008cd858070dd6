"""Differential tests: faasport against Mangum (ASGI) and apig-wsgi (WSGI).

Hypothesis generates a request (method, path with unicode and characters that need
percent-encoding, repeated query keys with arbitrary values, headers, cookies, a text or
binary body) and ``faasport.testing.event`` turns it into the event each AWS source sends.
The *same* event goes through faasport's ``aws.handler`` and through the peer library; an
app behind each records what it was given, and the two records must be identical.

Where faasport deliberately differs from a peer, the test normalises or excludes exactly
that aspect, with a comment naming the reason (see also docs/differences.md), and checks
faasport against the request that was generated instead. Both peers are pinned in
pyproject.toml (mangum==0.22.0, apig-wsgi==2.20.0), so known peer behaviour is asserted
exactly rather than skipped.
"""

from __future__ import annotations

import asyncio
import string
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest
from apig_wsgi import make_lambda_handler
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mangum import Mangum

from faasport import aws
from faasport.testing import LambdaContext, event
from faasport.testing.events import codec_for

SOURCES = ["apigw-v1", "apigw-v2", "alb", "alb-single", "function-url"]

DIFFERENTIAL = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# -- helpers -------------------------------------------------------------------------------


def native(text: str) -> str:
    """A PEP 3333 "native string": the UTF-8 bytes of ``text`` seen as latin-1 characters."""
    return text.encode("utf-8").decode("latin-1")


def unnative(text: str) -> str:
    return text.encode("latin-1").decode("utf-8")


def query_pairs(query_string: str) -> list[tuple[str, str]]:
    return parse_qsl(query_string, keep_blank_values=True)


def cookie_pairs(values: Iterable[str]) -> list[tuple[str, str]]:
    """Name/value pairs from ``Cookie`` header values, in order."""
    pairs = []
    for value in values:
        for part in value.split(";"):
            part = part.strip()
            if part:
                name, _, val = part.partition("=")
                pairs.append((name, val))
    return pairs


def grouped(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


def flatten(groups: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, values in groups.items() for value in values]


def joined(pairs: Iterable[tuple[str, str]], sep: str) -> dict[str, str]:
    return {name: sep.join(values) for name, values in grouped(pairs).items()}


# -- recording apps ------------------------------------------------------------------------


class AsgiRecorder:
    """A plain ASGI app that records what it was given and answers 200."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            assert message["type"] == "http.request"
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        headers = [
            (bytes(k).decode("latin-1"), bytes(v).decode("utf-8")) for k, v in scope["headers"]
        ]
        self.seen.append(
            {
                "method": scope["method"],
                "path": scope["path"],
                "root_path": scope.get("root_path", ""),
                "query_string": scope["query_string"].decode("latin-1"),
                "headers": headers,
                "cookies": cookie_pairs(v for k, v in headers if k == "cookie"),
                "body": body,
                "scheme": scope["scheme"],
                "server": tuple(scope["server"]) if scope.get("server") else None,
                "client": tuple(scope["client"]) if scope.get("client") else None,
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": b"ok"})

    def take(self) -> dict[str, Any]:
        assert len(self.seen) == 1, self.seen
        return self.seen.pop()


class WsgiRecorder:
    """A plain WSGI app that records its environ (and body) and answers 200."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        self.seen.append(
            {
                "method": environ["REQUEST_METHOD"],
                "script_name": environ.get("SCRIPT_NAME", ""),
                "path_info": environ.get("PATH_INFO", ""),
                "query_string": environ.get("QUERY_STRING", ""),
                "http": {k: v for k, v in environ.items() if k.startswith("HTTP_")},
                "content_type": environ.get("CONTENT_TYPE"),
                "content_length": environ.get("CONTENT_LENGTH"),
                "body": body,
                "url_scheme": environ["wsgi.url_scheme"],
                "server_name": environ.get("SERVER_NAME"),
                "server_port": environ.get("SERVER_PORT"),
                "remote_addr": environ.get("REMOTE_ADDR"),
            }
        )
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    def take(self) -> dict[str, Any]:
        assert len(self.seen) == 1, self.seen
        return self.seen.pop()


class Reply:
    """What the responder apps answer: set by the test before each call."""

    def __init__(
        self,
        status: int,
        content_type: str,
        body: bytes,
        single: str,
        repeated: list[str],
        cookies: list[str],
    ) -> None:
        self.status = status
        self.content_type = content_type
        self.body = body
        self.single = single
        self.repeated = repeated
        self.cookies = cookies

    def headers(self) -> list[tuple[str, str]]:
        return [
            ("Content-Type", self.content_type),
            ("X-Single", self.single),
            *(("X-Repeated", value) for value in self.repeated),
            *(("Set-Cookie", cookie) for cookie in self.cookies),
        ]


class AsgiResponder:
    def __init__(self) -> None:
        self.reply: Reply | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http" and self.reply is not None
        reply = self.reply
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers()],
            }
        )
        # Two chunks, to exercise more_body on both sides.
        half = len(reply.body) // 2
        await send({"type": "http.response.body", "body": reply.body[:half], "more_body": True})
        await send({"type": "http.response.body", "body": reply.body[half:]})


class WsgiResponder:
    def __init__(self) -> None:
        self.reply: Reply | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        reply = self.reply
        assert reply is not None
        phrase = {200: "OK", 201: "Created", 404: "Not Found"}.get(reply.status, "Whatever")
        start_response(f"{reply.status} {phrase}", reply.headers())
        half = len(reply.body) // 2
        return [reply.body[:half], reply.body[half:]]


class Harness:
    def __init__(self) -> None:
        self.asgi = AsgiRecorder()
        self.wsgi = WsgiRecorder()
        self.asgi_responder = AsgiResponder()
        self.wsgi_responder = WsgiResponder()
        # lifespan="off" on both sides: Mangum is told the same below.
        self.fs_asgi = aws.handler(self.asgi, lifespan="off")
        self.fs_wsgi = aws.handler(self.wsgi)
        self.fs_asgi_responder = aws.handler(self.asgi_responder, lifespan="off")
        self.fs_wsgi_responder = aws.handler(self.wsgi_responder)
        self.mangum = Mangum(self.asgi, lifespan="off")
        self.mangum_responder = Mangum(self.asgi_responder, lifespan="off")
        # binary_support=True: without it apig-wsgi sends every REST API response body as
        # UTF-8 text, and binary bodies fail. Multi-value headers and query strings need no
        # option: apig-wsgi uses them whenever the event carries multiValueHeaders /
        # multiValueQueryStringParameters (REST always does; ALB in multi-value mode).
        self.apig = make_lambda_handler(self.wsgi, binary_support=True)
        self.apig_responder = make_lambda_handler(self.wsgi_responder, binary_support=True)


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    # Mangum runs every request with asyncio.get_event_loop(); give it a loop of its own
    # (outside a running loop, get_event_loop() would otherwise create one implicitly) and
    # close it afterwards, as asyncio.Runner does.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    harness = Harness()
    try:
        yield harness
    finally:
        # (faasport's own loop is shared by the whole execution environment: left open.)
        asyncio.set_event_loop(None)
        loop.close()


def fs_call(handler: Any, payload: dict[str, Any]) -> Any:
    return handler(payload, LambdaContext())


# -- request strategy ----------------------------------------------------------------------

# Anything UTF-8 can carry except "/" (a separator); plus the classic troublemakers.
SEGMENT = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="/"), min_size=1, max_size=6),
    st.sampled_from(
        ["%", "%41", "%2F", "%25", "%zz", "a b", "é", "€", "日本", "?x", "#f", "+", ";p=1"]
    ),
    st.sampled_from(["..", ".", "~", "a&b=c", "𝄞", "\x00", "ü%C3%BC"]),
)
QUERY_TEXT = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=8),
    st.sampled_from(["", "a b", "x+y", "50%", "&=", "é ü", "%41", "a/b?c#d", "日本"]),
)
QUERY_KEY = st.one_of(st.sampled_from(["a", "b", "tag"]), QUERY_TEXT)
HEADER_NAME = st.one_of(
    st.sampled_from(["x-a", "x-b", "accept", "accept-language", "user-agent"]),
    st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8).map(
        lambda s: "x-" + s.strip("-") if s.strip("-") else "x-z"
    ),
)
# Header values as a gateway delivers them: no control characters, no surrounding
# whitespace; unicode (beyond latin-1 too) is allowed.
HEADER_VALUE = st.text(
    st.characters(codec="utf-8", categories=("L", "N", "P", "S"), include_characters=" "),
    max_size=12,
).map(str.strip)
COOKIE_NAME = st.text(string.ascii_letters + string.digits + "_", min_size=1, max_size=6)
# RFC 6265 cookie-octets.
COOKIE_VALUE = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='",;\\'),
    max_size=8,
)
BODY = st.one_of(
    st.just(b""),
    st.text(st.characters(codec="utf-8"), max_size=30).map(lambda s: s.encode("utf-8")),
    st.binary(max_size=40),
)
CONTENT_TYPE = st.sampled_from(
    [None, "text/plain; charset=utf-8", "application/json", "application/octet-stream"]
)
METHOD = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
STAGES = {"apigw-v1": ["prod", "v1"], "apigw-v2": ["$default", "dev"]}
#: faasport.testing's default client address (API Gateway's sourceIp).
SOURCE_IP = "203.0.113.7"


class Generated:
    """One generated client request and the event ``source`` sends for it."""

    def __init__(self, source: str, draw: Any) -> None:
        self.source = source
        self.method: str = draw(METHOD)
        segments: list[str] = draw(st.lists(SEGMENT, max_size=4))
        trailing = bool(segments) and draw(st.booleans())
        self.path = "/" + "/".join(segments) + ("/" if trailing else "")
        self.query: list[tuple[str, str]] = draw(
            st.lists(st.tuples(QUERY_KEY, QUERY_TEXT), max_size=6)
        )
        self.headers: list[tuple[str, str]] = draw(
            st.lists(st.tuples(HEADER_NAME, HEADER_VALUE), max_size=6)
        )
        content_type = draw(CONTENT_TYPE)
        if content_type is not None:
            self.headers.append(("content-type", content_type))
        self.forwarded = draw(st.booleans())
        if self.forwarded:
            # What ALB and API Gateway add; without them the libraries fall back to defaults.
            # The client claims 198.51.100.1; SOURCE_IP is the address that connected.
            self.headers += [
                ("x-forwarded-for", f"198.51.100.1, {SOURCE_IP}"),
                ("x-forwarded-proto", "https"),
                ("x-forwarded-port", "443"),
            ]
        self.cookies: dict[str, str] = draw(st.dictionaries(COOKIE_NAME, COOKIE_VALUE, max_size=4))
        self.body: bytes = draw(BODY)
        self.stage: str | None = draw(st.sampled_from(STAGES[source])) if source in STAGES else None
        kwargs: dict[str, Any] = {
            "query": self.query,
            "headers": self.headers,
            "cookies": self.cookies,
            "body": self.body,
        }
        if self.stage is not None:
            kwargs["stage"] = self.stage
        self.event = event(source, self.method, self.path, **kwargs)

    def __repr__(self) -> str:
        fields = ("method", "path", "query", "headers", "cookies", "body", "stage")
        return "Generated(" + ", ".join(f"{f}={getattr(self, f)!r}" for f in fields) + ")"

    # What an app should see, from the request as the client sent it and what each source
    # does to it on the way (AWS's own behaviour, not any library's).

    @property
    def root_path(self) -> str:
        if self.source == "apigw-v1" or (self.source == "apigw-v2" and self.stage != "$default"):
            return f"/{self.stage}"
        return ""

    @property
    def query_pairs(self) -> list[tuple[str, str]]:
        if self.source in ("apigw-v1", "alb"):
            # Multi-value query parameters arrive as an object: grouped by key.
            return flatten(grouped(self.query))
        if self.source == "alb-single":
            # Without multi-value mode ALB keeps only the last value of a repeated key.
            return list(dict(self.query).items())
        return list(self.query)

    @property
    def client_host(self) -> str | None:
        if self.source.startswith("alb"):
            # ALB has no sourceIp: the right-most X-Forwarded-For entry is the address that
            # connected to the load balancer (entries to its left are the client's say-so).
            return SOURCE_IP if self.forwarded else None
        return SOURCE_IP

    @property
    def names(self) -> set[str]:
        return {name for name, _ in self.headers}

    def header_multiset(self) -> Counter[tuple[str, str]]:
        """The generated headers as the source delivers them."""
        if self.source in ("apigw-v2", "function-url"):
            # The 2.0 payload format joins repeated headers with commas.
            return Counter(joined(self.headers, ",").items())
        if self.source == "alb-single":
            return Counter(dict(self.headers).items())
        return Counter(self.headers)

    def wsgi_headers(self) -> dict[str, str]:
        """The generated headers as HTTP_* environ entries (PEP 3333 native strings)."""
        pairs = self.headers
        if self.source == "alb-single":
            pairs = list(dict(pairs).items())
        return {
            "HTTP_" + name.upper().replace("-", "_"): native(value)
            for name, value in joined(pairs, ",").items()
            if name != "content-type"
        }


@st.composite
def requests(draw: Any, source: str) -> Generated:
    return Generated(source, draw)


def only(headers: Iterable[tuple[str, str]], names: set[str]) -> Counter[tuple[str, str]]:
    return Counter((k, v) for k, v in headers if k in names)


# -- (a) ASGI: faasport vs Mangum ----------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
@DIFFERENTIAL
@given(data=st.data())
def test_asgi_request_matches_mangum(harness: Harness, source: str, data: st.DataObject) -> None:
    req = data.draw(requests(source))
    fs_call(harness.fs_asgi, req.event)
    fs = harness.asgi.take()
    harness.mangum(req.event, LambdaContext())
    mg = harness.asgi.take()

    # faasport against the request that was sent.
    route_path = fs["path"][len(fs["root_path"]) :]
    assert fs["path"] == fs["root_path"] + route_path
    assert (fs["root_path"], route_path) == (req.root_path, req.path)
    assert query_pairs(fs["query_string"]) == req.query_pairs
    assert only(fs["headers"], req.names) == req.header_multiset()
    assert fs["cookies"] == list(req.cookies.items())
    assert fs["body"] == req.body
    assert fs["method"] == req.method

    # faasport against Mangum.
    assert mg["method"] == fs["method"]
    assert mg["body"] == fs["body"]
    assert mg["cookies"] == fs["cookies"]
    assert query_pairs(mg["query_string"]) == query_pairs(fs["query_string"])

    # Mangum never sets root_path from the API Gateway stage (its api_gateway_base_path
    # option strips a fixed prefix instead); faasport moves the stage into root_path.
    assert mg["root_path"] == ""
    if source == "apigw-v1":
        # REST API: `path` lacks the stage; Mangum's ASGI path is the route path alone,
        # while faasport's is root_path + route path, as the ASGI spec requires.
        assert mg["path"] == route_path
    elif source == "apigw-v2":
        # HTTP API delivers the path already decoded (stage included when not $default);
        # Mangum unquotes it a second time, so "%41" in a path becomes "A". faasport does not.
        assert mg["path"] == unquote(fs["path"])
    else:
        assert mg["path"] == fs["path"]

    if source == "apigw-v1":
        # Mangum's REST handler folds repeated (multiValueHeaders) headers into one
        # ", "-joined header; faasport passes each value as its own ASGI header.
        assert Counter(mg["headers"]) == Counter(joined(fs["headers"], ", ").items())
    else:
        assert Counter(mg["headers"]) == Counter(fs["headers"])

    if source not in ("alb", "alb-single"):
        # ALB passes the query string as the client sent it and faasport keeps it that way;
        # Mangum decodes and re-encodes it ("%20" becomes "+"...), so for ALB only the
        # parsed pairs are compared (above).
        assert mg["query_string"] == fs["query_string"]

    assert fs["scheme"] == "https"
    if req.forwarded:
        assert mg["scheme"] == fs["scheme"]
        assert mg["server"] == fs["server"] == ("example.com", 443)
    else:
        # Without X-Forwarded-Port Mangum reports port 80 for an https request; faasport
        # uses the scheme's default port.
        assert fs["server"] == ("example.com", 443)
        assert mg["server"] == ("example.com", 80)

    assert fs["client"] == ((req.client_host, 0) if req.client_host else None)
    if source.startswith("alb"):
        # For ALB, Mangum takes the whole X-Forwarded-For header as the client host (and ""
        # without one); faasport takes its right-most entry, the address ALB saw.
        xff = dict(req.headers).get("x-forwarded-for", "")
        assert mg["client"] == (xff, 0)
    else:
        assert mg["client"] == fs["client"]


# -- (b) WSGI: faasport vs apig-wsgi -------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
@DIFFERENTIAL
@given(data=st.data())
def test_wsgi_request_matches_apig_wsgi(harness: Harness, source: str, data: st.DataObject) -> None:
    req = data.draw(requests(source))
    fs_call(harness.fs_wsgi, req.event)
    fs = harness.wsgi.take()
    harness.apig(req.event, LambdaContext())
    ap = harness.wsgi.take()

    # faasport against the request that was sent.
    assert (fs["script_name"], fs["path_info"]) == (native(req.root_path), native(req.path))
    assert query_pairs(fs["query_string"]) == req.query_pairs
    fs_generated = {k: v for k, v in fs["http"].items() if k in req.wsgi_headers()}
    assert fs_generated == req.wsgi_headers()
    assert cookie_pairs([fs["http"].get("HTTP_COOKIE", "")]) == list(req.cookies.items())
    assert fs["body"] == req.body
    assert fs["method"] == req.method
    if ("content-type", "text/plain; charset=utf-8") in req.headers:
        assert fs["content_type"] == "text/plain; charset=utf-8"

    # faasport against apig-wsgi.
    assert ap["method"] == fs["method"]
    assert ap["body"] == fs["body"]
    assert ap["content_type"] == fs["content_type"]
    # apig-wsgi always sets CONTENT_LENGTH (also "0"); faasport only when there is a body.
    assert int(ap["content_length"]) == int(fs["content_length"] or 0) == len(req.body)
    assert query_pairs(ap["query_string"]) == query_pairs(fs["query_string"])
    assert ap["query_string"] == fs["query_string"]

    # Paths. apig-wsgi never sets SCRIPT_NAME from the stage (faasport does).
    assert ap["script_name"] == ""
    if source == "apigw-v2":
        # apig-wsgi unquotes HTTP API's rawPath although it is already decoded ("%41"
        # becomes "A"), leaves its non-ASCII characters as they are instead of making a PEP
        # 3333 latin-1 native string, and keeps the stage in PATH_INFO.
        full = unnative(fs["script_name"] + fs["path_info"])
        assert ap["path_info"] == unquote(full, encoding="iso-8859-1")
    else:
        # From a percent-encoded path, apig-wsgi's unquote(..., "iso-8859-1") is exactly
        # PEP 3333. For REST APIs `path` has no stage, so this is the route path in both.
        assert ap["path_info"] == fs["path_info"]

    # HTTP_* headers. apig-wsgi also sets HTTP_CONTENT_TYPE / HTTP_CONTENT_LENGTH (PEP 3333
    # says those two must not be HTTP_-prefixed; CONTENT_TYPE/LENGTH are compared above) and
    # passes header values as unicode rather than PEP 3333 native strings, so compare with
    # its values made native. Cookies are compared parsed, below.
    skip = {"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH", "HTTP_COOKIE"}
    ap_http = {k: native(v) for k, v in ap["http"].items() if k not in skip}
    fs_http = {k: v for k, v in fs["http"].items() if k not in skip}
    assert ap_http == fs_http
    # For HTTP API events apig-wsgi joins the `cookies` array with ";" (faasport and
    # browsers use "; ") and sets an empty HTTP_COOKIE when there are none.
    ap_cookies = cookie_pairs([native(ap["http"].get("HTTP_COOKIE", ""))])
    assert ap_cookies == cookie_pairs([fs["http"].get("HTTP_COOKIE", "")])

    if req.forwarded:
        assert ap["url_scheme"] == fs["url_scheme"] == "https"
        assert (ap["server_name"], ap["server_port"]) == (fs["server_name"], fs["server_port"])
    else:
        # Without X-Forwarded-Proto/-Port apig-wsgi reports "http" and an empty port;
        # every AWS HTTP source is https, which faasport assumes.
        assert (fs["url_scheme"], fs["server_port"]) == ("https", "443")
        assert (ap["url_scheme"], ap["server_port"]) == ("http", "")
        assert ap["server_name"] == fs["server_name"] == "example.com"

    assert fs["remote_addr"] == req.client_host
    if source in ("apigw-v2", "function-url"):
        assert ap["remote_addr"] == fs["remote_addr"]
    else:
        # apig-wsgi ignores REST's requestContext.identity.sourceIp and takes the left-most
        # X-Forwarded-For entry, which the client controls (else "127.0.0.1"); faasport uses
        # sourceIp, or for ALB the right-most entry, the address ALB saw.
        assert ap["remote_addr"] == ("198.51.100.1" if req.forwarded else "127.0.0.1")


# -- responses -----------------------------------------------------------------------------

SET_COOKIE = st.builds(
    lambda name, value, attrs: f"{name}={value}{attrs}",
    COOKIE_NAME,
    COOKIE_VALUE,
    st.sampled_from(
        [
            "",
            "; Path=/",
            "; HttpOnly",
            "; Secure; SameSite=Lax",
            "; Max-Age=60",
            # A comma inside a cookie: it must be neither split nor joined on.
            "; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
        ]
    ),
)
PLAIN_VALUE = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=","),
    min_size=1,
    max_size=10,
)


@st.composite
def replies(draw: Any) -> Reply:
    binary = draw(st.booleans())
    if binary:
        content_type = draw(st.sampled_from(["application/octet-stream", "image/png"]))
        body = draw(st.binary(min_size=1, max_size=64))
    else:
        content_type = draw(st.sampled_from(["text/plain; charset=utf-8", "application/json"]))
        body = draw(st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)).encode()
    return Reply(
        status=draw(st.sampled_from([200, 201, 202, 301, 400, 404, 418, 500])),
        content_type=content_type,
        body=body,
        single=draw(PLAIN_VALUE),
        repeated=draw(st.lists(PLAIN_VALUE, min_size=2, max_size=2)),
        # Exactly 3, duplicates allowed: Set-Cookie is compared as a multiset.
        cookies=draw(st.lists(SET_COOKIE, min_size=3, max_size=3)),
    )


def parsed(source: str, result: Any) -> tuple[int, bytes, dict[str, list[str]]]:
    codec, _ = codec_for(source)
    response = codec.parse_result(result)
    headers = grouped((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers)
    return response.status, response.body, headers


def values(headers: dict[str, list[str]], name: str) -> list[str]:
    """A header's values, with comma-joined ones split (the values themselves hold none)."""
    return [part.strip() for value in headers.get(name, []) for part in value.split(",")]


def check_response(
    source: str, method: str, reply: Reply, fs: Any, peer: Any, peer_name: str
) -> None:
    fs_status, fs_body, fs_headers = parsed(source, fs)
    peer_status, peer_body, peer_headers = parsed(source, peer)

    assert fs_status == peer_status == reply.status
    if method == "HEAD":
        # faasport drops the body of a HEAD response (as an HTTP server must); the peers
        # pass it to the gateway.
        assert fs_body == b""
        assert peer_body == reply.body
    else:
        assert fs_body == peer_body == reply.body

    # faasport keeps every Set-Cookie on every source.
    assert Counter(fs_headers.get("set-cookie", [])) == Counter(reply.cookies)
    assert values(fs_headers, "x-repeated") == reply.repeated
    if peer_name == "apig-wsgi" and source == "alb-single":
        # apig-wsgi builds ALB single-value `headers` with dict(): only the last Set-Cookie
        # (and the last of any repeated header) survives.
        assert peer_headers["set-cookie"] == reply.cookies[-1:]
        assert values(peer_headers, "x-repeated") == reply.repeated[-1:]
    elif peer_name == "apig-wsgi" and source in ("apigw-v2", "function-url"):
        # apig-wsgi keeps every cookie in `cookies` but only the last value of any other
        # repeated header (faasport joins them with ", ", as the 2.0 format expects).
        assert Counter(peer_headers["set-cookie"]) == Counter(reply.cookies)
        assert values(peer_headers, "x-repeated") == reply.repeated[-1:]
    else:
        assert Counter(peer_headers["set-cookie"]) == Counter(reply.cookies)
        assert values(peer_headers, "x-repeated") == reply.repeated

    for name in ("content-type", "x-single"):
        assert fs_headers[name] == peer_headers[name]


@pytest.mark.parametrize("source", SOURCES)
@DIFFERENTIAL
@given(method=METHOD, reply=replies())
def test_asgi_response_matches_mangum(
    harness: Harness, source: str, method: str, reply: Reply
) -> None:
    payload = event(source, method, "/reply")
    harness.asgi_responder.reply = reply
    fs = fs_call(harness.fs_asgi_responder, payload)
    peer = harness.mangum_responder(payload, LambdaContext())
    check_response(source, method, reply, fs, peer, "mangum")


@pytest.mark.parametrize("source", SOURCES)
@DIFFERENTIAL
@given(method=METHOD, reply=replies())
def test_wsgi_response_matches_apig_wsgi(
    harness: Harness, source: str, method: str, reply: Reply
) -> None:
    payload = event(source, method, "/reply")
    harness.wsgi_responder.reply = reply
    fs = fs_call(harness.fs_wsgi_responder, payload)
    peer = harness.apig_responder(payload, LambdaContext())
    check_response(source, method, reply, fs, peer, "apig-wsgi")


@pytest.mark.parametrize("source", SOURCES)
def test_text_type_with_undecodable_body(harness: Harness, source: str) -> None:
    """A text content type whose body is not UTF-8: faasport (and Mangum) fall back to
    base64; apig-wsgi decodes every text/* body as UTF-8 and raises."""
    body = "café".encode("latin-1")
    reply = Reply(200, "text/plain", body, "s", ["r1", "r2"], ["a=1", "b=2", "c=3"])
    harness.asgi_responder.reply = harness.wsgi_responder.reply = reply
    payload = event(source, "GET", "/reply")
    results = [
        fs_call(harness.fs_asgi_responder, payload),
        fs_call(harness.fs_wsgi_responder, payload),
        harness.mangum_responder(payload, LambdaContext()),
    ]
    for result in results:
        assert result["isBase64Encoded"] is True
        assert parsed(source, result)[1] == body
    with pytest.raises(UnicodeDecodeError):
        harness.apig_responder(payload, LambdaContext())


@pytest.mark.parametrize("source", ["apigw-v2", "function-url"])
def test_trailing_slash_comes_from_raw_path(harness: Harness, source: str) -> None:
    """In the 2.0 format requestContext.http.path can lack the trailing slash that rawPath
    keeps; faasport.testing builds both alike, so the property tests above cannot see it.
    faasport (and apig-wsgi) read rawPath; Mangum reads requestContext.http.path."""
    payload = event(source, "GET", "/items/")
    payload["requestContext"]["http"]["path"] = "/items"
    fs_call(harness.fs_asgi, payload)
    assert harness.asgi.take()["path"] == "/items/"
    harness.mangum(payload, LambdaContext())
    assert harness.asgi.take()["path"] == "/items"
    fs_call(harness.fs_wsgi, payload)
    assert harness.wsgi.take()["path_info"] == "/items/"
    harness.apig(payload, LambdaContext())
    assert harness.wsgi.take()["path_info"] == "/items/"
