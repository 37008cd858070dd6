"""One asyncio event loop per execution environment, entered cheaply on every invocation.

``loop.run_until_complete`` costs tens of microseconds per call (run_forever set-up, a
selector poll per iteration, a stop callback). An ASGI request usually never waits for I/O,
so :meth:`EnvironmentLoop.run` first runs the task's ready callbacks directly, exactly as
``_run_once`` would, and only enters the full loop when the task really waits on I/O or a
timer. The task is a real ``asyncio.Task``: ``current_task()``, anyio, cancellation and
``get_running_loop()`` all behave as under ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from asyncio import events
from collections import deque
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class EnvironmentLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        ready = getattr(self.loop, "_ready", None)
        self._ready: deque[asyncio.Handle] | None = ready if isinstance(ready, deque) else None
        # Threaded servers (functions-framework) may call in from several threads; the loop
        # and whatever the app bound to it at startup serve them one at a time.
        self._lock = threading.Lock()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        with self._lock:
            return self._run(coro)

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        loop = self.loop
        ready = self._ready
        if ready is None or events._get_running_loop() is not None:
            return self._run_full(coro)
        hooks = sys.get_asyncgen_hooks()
        sys.set_asyncgen_hooks(
            firstiter=loop._asyncgen_firstiter_hook,  # type: ignore[attr-defined]
            finalizer=loop._asyncgen_finalizer_hook,  # type: ignore[attr-defined]
        )
        loop._thread_id = threading.get_ident()  # type: ignore[attr-defined]
        events._set_running_loop(loop)
        try:
            task = loop.create_task(coro)
            while ready and not task.done():
                ready.popleft()._run()
        finally:
            events._set_running_loop(None)
            loop._thread_id = None  # type: ignore[attr-defined]
            sys.set_asyncgen_hooks(*hooks)
        if task.done():
            return task.result()
        # The app awaits real I/O or a timer: let the event loop take over from here.
        return loop.run_until_complete(task)

    def _run_full(self, coro: Coroutine[Any, Any, T]) -> T:
        if events._get_running_loop() is not None:
            # Called from inside a running loop (a test or a server): run on a private
            # thread so this call can stay synchronous, as the provider runtimes expect.
            result: list[T] = []
            errors: list[BaseException] = []

            def target() -> None:
                try:
                    result.append(self.loop.run_until_complete(coro))
                except BaseException as exc:
                    errors.append(exc)

            thread = threading.Thread(target=target, name="faasport-loop")
            thread.start()
            thread.join()
            if errors:
                raise errors[0]
            return result[0]
        return self.loop.run_until_complete(coro)


_shared: list[EnvironmentLoop] = []


def environment_loop() -> EnvironmentLoop:
    """The loop of this execution environment (one per process, created on first use)."""
    if not _shared:
        _shared.append(EnvironmentLoop())
    return _shared[0]
