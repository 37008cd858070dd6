"""ASGI lifespan, once per execution environment.

Startup runs before the first request that needs the app; the lifespan task then stays
suspended in the environment's loop until shutdown (SIGTERM, or an explicit call).
"""

from __future__ import annotations

import asyncio
from typing import Any

from faasport.core.errors import LifespanError
from faasport.core.logs import logger
from faasport.core.scope import ASGI_VERSION

TYPE_CHECKING = False
if TYPE_CHECKING:
    from faasport.core.loop import EnvironmentLoop
    from faasport.core.options import LifespanMode
    from faasport.core.types import ASGIApp, Message

_RUNNING: set[asyncio.Task[None]] = set()


class Lifespan:
    def __init__(self, app: ASGIApp, mode: LifespanMode, loop: EnvironmentLoop) -> None:
        self.app = app
        self.mode = mode
        self.loop = loop
        self.state: dict[str, Any] = {}
        self.supported = False
        self.started = False
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self._inbox: asyncio.Queue[Message] | None = None
        self._startup: asyncio.Future[None] | None = None
        self._shutdown: asyncio.Future[None] | None = None
        self._starting: asyncio.Future[None] | None = None
        self.stopping = False

    def startup(self) -> None:
        if self.started:
            return
        if self.mode != "off":
            self.loop.run(self._run_startup())
        self.started = True

    async def startup_async(self) -> None:
        """Startup on the running loop, which then serves the requests (Azure). Concurrent
        first requests wait for the one startup."""
        if self.started:
            return
        pending = self._starting
        if pending is None:
            pending = self._starting = asyncio.ensure_future(self._startup_once())
        await asyncio.shield(pending)

    async def _startup_once(self) -> None:
        if self.mode != "off":
            await self._run_startup()
        self.started = True

    def shutdown(self, timeout: float = 5.0) -> None:
        if not self.supported or self._task is None or self._task.done():
            return
        self.loop.run(self._run_shutdown(timeout))

    async def _run_startup(self) -> None:
        loop = asyncio.get_running_loop()
        self._inbox = asyncio.Queue()
        self._startup = loop.create_future()
        self._shutdown = loop.create_future()
        self._inbox.put_nowait({"type": "lifespan.startup"})
        self._task = loop.create_task(self._main())
        # The loop keeps only a weak reference to tasks: hold this one until it ends, so it
        # is never garbage-collected while pending (its close would run app code at an
        # arbitrary point of some other computation).
        _RUNNING.add(self._task)
        self._task.add_done_callback(_RUNNING.discard)
        await asyncio.wait([self._startup, self._task], return_when=asyncio.FIRST_COMPLETED)
        if self._startup.done():
            self._startup.result()  # raises LifespanError on startup.failed
            self.supported = True
            return
        # The app returned or raised before answering startup: it does not speak lifespan.
        if self.mode == "on":
            exc = self._error
            raise LifespanError(
                "lifespan='on' but the app did not complete lifespan startup"
                + (f": {exc!r}" if exc else "")
            ) from exc

    async def _run_shutdown(self, timeout: float) -> None:
        assert self._inbox is not None and self._shutdown is not None and self._task is not None
        self.stopping = True
        self._inbox.put_nowait({"type": "lifespan.shutdown"})
        done, _ = await asyncio.wait([self._shutdown, self._task], timeout=timeout)
        if not done:
            logger().warning("lifespan shutdown did not complete within %.1f s", timeout)
        elif self._shutdown.done() and self._shutdown.exception() is not None:
            logger().error("lifespan shutdown failed: %s", self._shutdown.exception())

    async def _main(self) -> None:
        scope = {"type": "lifespan", "asgi": ASGI_VERSION, "state": self.state}
        try:
            await self.app(scope, self._receive, self._send)
        except Exception as exc:
            # In "auto" mode an app without lifespan support ends up here, quietly.
            self._error = exc
            if self.mode == "on" or self.supported:
                logger().exception("lifespan task raised")

    async def _receive(self) -> Message:
        assert self._inbox is not None
        return await self._inbox.get()

    async def _send(self, message: Message) -> None:
        assert self._startup is not None and self._shutdown is not None
        kind = message["type"]
        if kind == "lifespan.startup.complete":
            self._startup.set_result(None)
        elif kind == "lifespan.startup.failed":
            self._startup.set_exception(
                LifespanError(f"lifespan startup failed: {message.get('message', '')}")
            )
        elif kind == "lifespan.shutdown.complete":
            self._shutdown.set_result(None)
        elif kind == "lifespan.shutdown.failed":
            if self._shutdown.done():
                return
            if not self.stopping:
                # Not asked to shut down: the loop itself is ending (a host that owns the
                # loop closed it) and cancelled the lifespan task. Nothing waits for this.
                self._shutdown.set_result(None)
                return
            self._shutdown.set_exception(
                LifespanError(f"lifespan shutdown failed: {message.get('message', '')}")
            )
