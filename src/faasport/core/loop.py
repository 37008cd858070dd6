"""One asyncio event loop per execution environment, entered cheaply on every invocation.

``loop.run_until_complete`` costs tens of microseconds per call (a Task, run_forever set-up,
a selector poll per iteration, a stop callback), and most ASGI requests never wait for I/O.
So :meth:`EnvironmentLoop.run` drives the app's coroutine directly, in a fresh context, with
the loop marked running and a long-lived *host* task marked current, so that
``get_running_loop()``, ``current_task()``, anyio and ``asyncio.timeout`` behave as inside a
task. When the coroutine waits on a real future (I/O, a timer, another task), it is handed to
the host task, which resumes it in the same context while the loop runs until it finishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sys
import threading
from asyncio import events, tasks
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from contextvars import copy_context
from types import CoroutineType
from typing import Any, TypeVar

T = TypeVar("T")

_enter_task = getattr(tasks, "_enter_task", None)
_leave_task = getattr(tasks, "_leave_task", None)
enter_task: Callable[[Any, Any], None] = _enter_task or (lambda loop, task: None)
leave_task: Callable[[Any, Any], None] = _leave_task or (lambda loop, task: None)
set_running_loop = events._set_running_loop
get_asyncgen_hooks = sys.get_asyncgen_hooks
set_asyncgen_hooks = sys.set_asyncgen_hooks
get_ident = threading.get_ident


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


class _Resume:
    """Awaitable that carries on a coroutine that already yielded ``pending``, running each
    step in the coroutine's own context, as its task would."""

    __slots__ = ("context", "coro", "pending")

    def __init__(
        self, coro: Coroutine[Any, Any, Any], pending: Any, context: contextvars.Context
    ) -> None:
        self.coro = coro
        self.pending = pending
        self.context = context

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, run, value = self.coro, self.context.run, self.pending
        while True:
            try:
                sent = yield value
            except BaseException as exc:  # thrown in by the task: cancellation
                try:
                    value = run(coro.throw, exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    value = run(coro.send, sent)
                except StopIteration as done:
                    return done.value


class EnvironmentLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        ready = getattr(self.loop, "_ready", None)
        self._ready: deque[asyncio.Handle] | None = ready if isinstance(ready, deque) else None
        self._direct = self._ready is not None and _enter_task is not None
        self._hooks = (
            self.loop._asyncgen_firstiter_hook,  # type: ignore[attr-defined]
            self.loop._asyncgen_finalizer_hook,  # type: ignore[attr-defined]
        )
        self._host: asyncio.Task[None] | None = None
        self._handoff: asyncio.Future[Any] | None = None
        self._before_close: list[Callable[[], None]] = []
        # Threaded servers (functions-framework) may call in from several threads; the loop
        # and whatever the app bound to it at startup serve them one at a time.
        self._lock = threading.Lock()

    def run(self, awaitable: Awaitable[T]) -> T:
        coro: Coroutine[Any, Any, T] = (
            awaitable if type(awaitable) is CoroutineType else _as_coroutine(awaitable)
        )
        lock = self._lock
        lock.acquire()
        try:
            if not self._direct or events._get_running_loop() is not None:
                return self._run_full(coro)
            return self._run_direct(coro)
        finally:
            lock.release()

    def _run_direct(self, coro: Coroutine[Any, Any, T]) -> T:
        loop = self.loop
        host = self._host or self._start_host()
        context = copy_context()
        hooks = get_asyncgen_hooks()
        set_asyncgen_hooks(*self._hooks)
        loop._thread_id = get_ident()  # type: ignore[attr-defined]
        set_running_loop(loop)
        enter_task(loop, host)
        try:
            pending = context.run(coro.send, None)
        except StopIteration as done:
            leave_task(loop, host)
            if self._ready:
                self._drain()
            return done.value  # type: ignore[no-any-return]
        except BaseException:
            leave_task(loop, host)
            self._drain()
            raise
        finally:
            set_running_loop(None)
            loop._thread_id = None  # type: ignore[attr-defined]
            set_asyncgen_hooks(*hooks)
        leave_task(loop, host)
        # The coroutine waits on a real future: the host task carries on with it.
        outcome: asyncio.Future[T] = loop.create_future()
        assert self._handoff is not None
        self._handoff.set_result((_Resume(coro, pending, context), outcome))
        return loop.run_until_complete(outcome)

    def _drain(self) -> None:
        """Run the callbacks the request scheduled (tasks it started) that are ready now."""
        ready = self._ready
        assert ready is not None
        for _ in range(len(ready)):
            ready.popleft()._run()

    def _start_host(self) -> asyncio.Task[None]:
        loop = self.loop
        hooks = get_asyncgen_hooks()
        set_asyncgen_hooks(*self._hooks)
        set_running_loop(loop)
        try:
            host = self._host = loop.create_task(self._host_main(), name="faasport-host")
            self._drain()  # the host runs until it waits for its first coroutine
        finally:
            set_running_loop(None)
            set_asyncgen_hooks(*hooks)
        return host

    async def _host_main(self) -> None:
        loop = self.loop
        while True:
            self._handoff = loop.create_future()
            resume, outcome = await self._handoff
            try:
                result = await resume
            except BaseException as exc:
                if not outcome.done():
                    outcome.set_exception(exc)
                host = self._host
                while host is not None and host.cancelling():
                    host.uncancel()
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
            else:
                if not outcome.done():
                    outcome.set_result(result)

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

    def before_close(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` (ASGI lifespan shutdown) when the environment ends."""
        self._before_close.append(callback)

    def close(self) -> None:
        """End the environment: shutdown callbacks, then the host task, then the loop.

        Ending the host task matters beyond tidiness: anyio stops its worker threads when
        the task it takes for the root finishes, and the interpreter waits for them.
        """
        if self.loop.is_closed():
            return
        with self._lock:
            callbacks, self._before_close = self._before_close, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                from faasport.core.logs import logger

                logger().exception("shutdown callback failed")
        with self._lock:
            host = self._host
            if host is not None and not host.done():
                host.cancel()
                with contextlib.suppress(BaseException):
                    self.loop.run_until_complete(host)
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()


_shared: list[EnvironmentLoop] = []


def environment_loop() -> EnvironmentLoop:
    """The loop of this execution environment (one per process, created on first use)."""
    if not _shared:
        env = EnvironmentLoop()
        _shared.append(env)
        # Runs before the interpreter joins non-daemon threads (atexit would be too late).
        register = getattr(threading, "_register_atexit", None)
        if register is not None:
            register(env.close)
        else:  # pragma: no cover
            import atexit

            atexit.register(env.close)
    return _shared[0]
