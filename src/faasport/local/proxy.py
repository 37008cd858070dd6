"""``[proxy]`` routes in the local gateway: requests forwarded to an upstream HTTP server, as
API Gateway's HTTP proxy integration (HTTP API ``HTTP_PROXY``, REST API ``http_proxy``) does.

The request goes on with its method, body, headers and query string; the route's path
parameters fill the upstream URL's ``{name}`` placeholders (``{proxy}`` takes the greedy
part). Hop-by-hop headers are dropped both ways, ``Host`` becomes the upstream's, and the
upstream gets ``X-Forwarded-*`` and an ``X-Amzn-Trace-Id`` (the caller's when it sent a valid
one). An upstream that does not answer within the route's timeout gets the client API
Gateway's 504, one that cannot be reached or answers garbage its 502.

Forwarding is asynchronous on the gateway's event loop (httpx, connections kept alive), so a
slow upstream holds only its own requests; its answer is read up to the HTTP API payload
limit, beyond which the client gets 502 rather than the gateway buffering without bound.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from faasport.core.http import HttpRequest, HttpResponse
from faasport.local.policies import store_url

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from faasport.config.model import ProxyRoute
    from faasport.config.routes import Route
    from faasport.gateway.pipeline import Pipeline
    from faasport.gateway.request import Policy
    from faasport.local.invoker import Log
    from faasport.local.policies import Policies

#: The names the gateway's router knows proxy routes by: never a function's name (those are
#: Python identifiers).
PREFIX = "[proxy] "
#: HTTP API's payload limit, also on what an integration answers.
MAX_BODY = 10 * 1024 * 1024
#: Connection-level headers (RFC 9110 7.6.1), never forwarded by a proxy.
HOP_BY_HOP = frozenset(
    [
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    ]
)
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.-]+)\}")
_XRAY = re.compile(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}(;.*)?")
#: Characters kept as they are when a path parameter goes into the upstream URL.
_SAFE = "/:@!$&'()*+,;=-._~"


class Failed(Exception):
    """The upstream gave no usable answer: ``status`` is what the client gets (502, 504)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class Upstreams:
    """The ``[proxy]`` routes and one HTTP client for all of them (opened on first use)."""

    def __init__(self, proxies: Iterable[ProxyRoute], log: Log) -> None:
        self.routes: dict[str, ProxyRoute] = {PREFIX + p.route.key: p for p in proxies}
        self.log = log
        self._client: Any = None

    def entries(self) -> list[tuple[str, Route]]:
        """(name, route) pairs for the gateway's router."""
        return [(name, proxy.route) for name, proxy in self.routes.items()]

    def __contains__(self, name: str) -> bool:
        return name in self.routes

    async def forward(
        self, request: HttpRequest, name: str, params: Mapping[str, str]
    ) -> HttpResponse:
        """The upstream's answer to ``request``; raises :class:`Failed`."""
        proxy = self.routes[name]
        url = upstream_url(proxy.url, params, request.query_string.decode("latin-1"))
        try:
            async with asyncio.timeout(proxy.timeout):
                return await self._send(request, url)
        except TimeoutError:
            raise Failed(504, f"no answer from {url} within {proxy.timeout:g} s") from None

    async def _send(self, request: HttpRequest, url: str) -> HttpResponse:
        import httpx

        client = self._open()
        try:
            async with client.stream(
                request.method, url, headers=upstream_headers(request), content=request.body
            ) as answer:
                body = bytearray()
                async for chunk in answer.aiter_raw():
                    body += chunk
                    if len(body) > MAX_BODY:
                        raise Failed(502, f"{url} answered more than {MAX_BODY} bytes")
                headers = answer.headers.raw
                status = answer.status_code
        except httpx.TimeoutException:
            raise TimeoutError from None
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            raise Failed(502, f"{url} cannot be reached: {type(exc).__name__}: {exc}") from None
        return HttpResponse(status, response_headers(headers), bytes(body))

    def _open(self) -> Any:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(
                # The integration's URL is the whole truth: no proxy or netrc from the
                # environment, no redirects followed (the client gets them), bodies as sent.
                trust_env=False,
                follow_redirects=False,
                timeout=None,
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()


def upstream_url(template: str, params: Mapping[str, str], query: str) -> str:
    """``template`` with its ``{name}`` placeholders filled from the path parameters
    (percent-encoded again) and the request's query string appended."""

    def fill(found: re.Match[str]) -> str:
        return quote(params.get(found.group(1), ""), safe=_SAFE)

    url = _PLACEHOLDER.sub(fill, template)
    if query:
        url += ("&" if "?" in url else "?") + query
    return url


def upstream_headers(request: HttpRequest) -> list[tuple[bytes, bytes]]:
    """The request's end-to-end headers, with a trace id; ``Host`` is the upstream's."""
    named = _connection_names(request.headers)
    headers: list[tuple[bytes, bytes]] = []
    trace: bytes | None = None
    for name, value in request.headers:
        if name in HOP_BY_HOP or name in named or name == b"host" or name == b"content-length":
            continue
        if name == b"x-amzn-trace-id":
            if _XRAY.fullmatch(value.decode("latin-1")):
                trace = value
            continue
        headers.append((name, value))
    headers.append((b"x-amzn-trace-id", trace or new_trace_id()))
    return headers


def response_headers(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The upstream's end-to-end headers (the gateway writes its own framing and date)."""
    pairs = [(name.lower(), value) for name, value in headers]
    named = _connection_names(pairs)
    return [
        (name, value)
        for name, value in pairs
        if name not in HOP_BY_HOP and name not in named and name != b"date"
    ]


def _connection_names(headers: Iterable[tuple[bytes, bytes]]) -> set[bytes]:
    """Headers that ``Connection`` declares hop-by-hop for this connection."""
    return {
        token.strip().lower()
        for name, value in headers
        if name == b"connection"
        for token in value.split(b",")
    }


def new_trace_id(clock: Callable[[], float] = time.time) -> bytes:
    """An X-Ray trace header for a request that came without one."""
    return f"Root=1-{int(clock()):08x}-{os.urandom(12).hex()}".encode()


def proxy_pipeline(policies: Policies) -> Pipeline | None:
    """What API Gateway applies in front of a proxy route: CORS and the stage throttle (a
    proxy route has no function, so no function throttle, authorizer or rate limit)."""
    from faasport.config.model import Throttle as ThrottleConfig
    from faasport.gateway.pipeline import Pipeline

    found: list[Policy] = []
    if policies.cors is not None:
        found.append(policies.cors)
    throttle = policies.project.api.throttle
    if throttle != ThrottleConfig():
        from faasport.gateway.ratelimit import Throttle

        found.append(
            Throttle(
                store_url(policies.project), rate=throttle.rate, burst=throttle.burst, name="$stage"
            )
        )
    return Pipeline(found) if found else None
