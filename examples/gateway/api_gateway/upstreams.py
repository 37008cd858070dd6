"""Forwarding a request to its upstream service with httpx: what goes on, what comes back,
and the answers when the upstream is slow (504) or cannot be reached (502)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import httpx

#: Headers that belong to one connection (RFC 9110 7.6.1), never forwarded either way.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
#: The caller's credentials stay at the gateway: upstreams get the verified subject instead.
CLIENT_ONLY = frozenset({"authorization", "cookie", "host", "content-length"})


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class UpstreamTimeout(Exception):
    """The upstream did not answer within the timeout."""


class UpstreamUnreachable(Exception):
    """The upstream refused the connection, could not be resolved or broke the protocol."""


def _dropped(headers: Iterable[tuple[str, str]]) -> frozenset[str]:
    """Hop-by-hop headers, with those the ``Connection`` header names."""
    named = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == "connection"
        for token in value.split(",")
    }
    return HOP_BY_HOP | named


def request_headers(
    incoming: list[tuple[str, str]], added: Mapping[str, str]
) -> list[tuple[str, str]]:
    drop = _dropped(incoming) | CLIENT_ONLY | {name.lower() for name in added}
    kept = [(name, value) for name, value in incoming if name.lower() not in drop]
    return kept + list(added.items())


def response_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    drop = _dropped(headers) | {"content-length", "date", "server"}
    return [(name, value) for name, value in headers if name.lower() not in drop]


class Upstreams:
    """One httpx client per event loop, its connections kept alive between invocations
    (Lambda reuses an environment's loop; Cloud Run's server shares one per instance)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._clients: dict[int, httpx.AsyncClient] = {}

    def client(self) -> httpx.AsyncClient:
        loop = id(asyncio.get_running_loop())
        found = self._clients.get(loop)
        if found is None:
            # No proxy from the environment, no redirects followed: the client sees them.
            found = httpx.AsyncClient(trust_env=False, follow_redirects=False)
            self._clients[loop] = found
        return found

    async def forward(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: bytes,
        timeout: float | None = None,
    ) -> Answer:
        limit = self.timeout if timeout is None else timeout
        request = self.client().build_request(
            method, url, headers=headers, content=body, timeout=httpx.Timeout(limit)
        )
        try:
            async with asyncio.timeout(limit):
                response = await self.client().send(request, stream=True)
                try:
                    # Raw bytes: a gzip body stays gzip, with its Content-Encoding.
                    raw = b"".join([chunk async for chunk in response.aiter_raw()])
                finally:
                    await response.aclose()
        except (httpx.TimeoutException, TimeoutError):
            raise UpstreamTimeout(url) from None
        except httpx.HTTPError:
            raise UpstreamUnreachable(url) from None
        return Answer(response.status_code, list(response.headers.multi_items()), raw)

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
