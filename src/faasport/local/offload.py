"""Where the local gateway runs policy decisions: on its event loop when the state store is
local (memory, SQLite: microseconds), on a small thread pool when it is reached over the
network (Redis, PostgreSQL, DynamoDB), so that a slow or unreachable store delays only the
requests that wait on it, never the other routes the same loop serves."""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from faasport.local.policies import store_url

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from faasport.config.model import Project
    from faasport.gateway.pipeline import Pipeline
    from faasport.gateway.request import Request, Response

#: Store URL schemes whose every operation is a network round trip.
NETWORK = ("redis://", "rediss://", "postgresql://", "dynamodb://")
#: Threads deciding at once; more waiting requests queue for a thread.
THREADS = 16


class Offload:
    def __init__(self, project: Project) -> None:
        url = store_url(project)
        #: Whether decisions leave the event loop.
        self.threaded = url.startswith(NETWORK) or _remote_jwks(project)
        self._pool: ThreadPoolExecutor | None = None

    async def run(
        self,
        pipeline: Pipeline,
        request: Request,
        app: Callable[[Request], Awaitable[Response]],
    ) -> Response:
        return await pipeline.run_threaded(request, app, self.call)

    async def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` where policy decisions run: here, or on the pool."""
        if not self.threaded:
            return function(*args)
        return await self._call(function, *args)

    async def _call(self, function: Callable[..., Any], *args: Any) -> Any:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(THREADS, thread_name_prefix="faasport-policy")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(function, *args))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _remote_jwks(project: Project) -> bool:
    """An authorizer whose keys come over the network (a JWKS URL, or discovered from the
    issuer) may fetch them while deciding."""
    from faasport.config.model import JwtAuth

    return any(
        isinstance(auth, JwtAuth) and (auth.jwks is None or "://" in auth.jwks)
        for auth in project.auth.values()
    )
