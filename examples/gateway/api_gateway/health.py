"""``GET /health/live``: the process answers. ``GET /health/ready``: the state store answers
a read and a write, and every upstream's ``/health`` answers 2xx, checked concurrently; 503
naming what failed otherwise (never the error text: it may hold addresses or passwords)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api_gateway.upstreams import Upstreams, UpstreamTimeout, UpstreamUnreachable
from faasport import state

if TYPE_CHECKING:
    from api_gateway.settings import Settings

PROBE_KEY = "api-gateway:ready"


def _check_store(url: str, stores: dict[str, state.Store]) -> str:
    try:
        store = stores.get(url)
        if store is None:
            store = stores[url] = state.open(url)
        stamp = str(time.time()).encode()
        store.set(PROBE_KEY, stamp, ttl=60)
        return "ok" if store.get(PROBE_KEY) == stamp else "failed"
    except state.StateError:
        return "failed"


def app(settings: Settings, upstreams: Upstreams) -> Any:
    stores: dict[str, state.Store] = {}

    async def live(request: Request) -> JSONResponse:
        return JSONResponse({"status": "live"})

    async def upstream(name: str, base: str) -> str:
        try:
            answer = await upstreams.forward(
                "GET", f"{base}/health", [], b"", timeout=settings.ready_timeout
            )
        except UpstreamTimeout:
            return "timeout"
        except UpstreamUnreachable:
            return "unreachable"
        return "ok" if 200 <= answer.status < 300 else f"status {answer.status}"

    async def ready(request: Request) -> JSONResponse:
        names = sorted(settings.upstreams)
        store_check = asyncio.to_thread(_check_store, settings.state_url, stores)
        results = await asyncio.gather(
            store_check, *(upstream(name, settings.upstreams[name]) for name in names)
        )
        checks = {"store": results[0]}
        checks.update((f"upstream:{n}", r) for n, r in zip(names, results[1:], strict=True))
        ok = all(result == "ok" for result in checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "not ready", "checks": checks},
            status_code=200 if ok else 503,
        )

    return Starlette(
        routes=[
            Route("/health/live", live, methods=["GET", "HEAD"]),
            Route("/health/ready", ready, methods=["GET", "HEAD"]),
        ]
    )
