"""One asyncio event loop per execution environment, entered cheaply on every invocation.

``loop.run_until_complete`` costs tens of microseconds per call (a Task, run_forever set-up,
a selector poll per iteration, a stop callback), and most ASGI requests never wait for I/O.
So :meth:`EnvironmentLoop.run` drives the app's coroutine directly, in a fresh context, with
the loop marked running and a long-lived *host* task marked current, so that
``get_running_loop()``, ``current_task()``, anyio and ``asyncio.timeout`` behave as inside a
task. When the coroutine waits on a real future (I/O, a timer, another task), it is handed to
the host task, which resumes it in the same context while the loop runs until it finishes.

The host stands in for the coroutine's task, so a ``cancel()`` that reaches it (from
``asyncio.timeout``, a task group, or the request itself) is passed on to the coroutine as
its own task would receive it, and the host's cancellation count starts from zero for each
invocation. The host belongs to the environment (anyio keeps its worker threads while it
lives), never to an invocation. :meth:`EnvironmentLoop.respond` stops as soon as the
response is complete and hands back the rest (:mod:`faasport.core.remainder`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import os
import sys
import threading
from asyncio import CancelledError, events, tasks
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from contextvars import copy_context
from types import CoroutineType, FrameType
from typing import Any, TypeVar

from faasport.core.remainder import Remainder, Responding

T = TypeVar("T")

_enter_task = getattr(tasks, "_enter_task", None)
_leave_task = getattr(tasks, "_leave_task", None)
enter_task: Callable[[Any, Any], None] = _enter_task or (lambda loop, task: None)
leave_task: Callable[[Any, Any], None] = _leave_task or (lambda loop, task: None)
set_running_loop = events._set_running_loop
get_asyncgen_hooks = sys.get_asyncgen_hooks
set_asyncgen_hooks = sys.set_asyncgen_hooks
get_ident = threading.get_ident
#: A thread's async generator hooks while no event loop has set any.
_NO_HOOKS = (None, None)


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


class _Resume:
    """Awaitable that carries on a coroutine that already yielded ``pending``, running each
    step in the coroutine's own context, as its task would.

    ``cancelled`` says that a cancellation reached the host task while the coroutine ran
    directly: it is delivered as a task delivers it, by cancelling the future the coroutine
    waits on (or by throwing CancelledError in when it waits on none)."""

    __slots__ = ("cancelled", "context", "coro", "pending")

    def __init__(
        self,
        coro: Coroutine[Any, Any, Any],
        pending: Any,
        context: contextvars.Context,
        cancelled: bool,
    ) -> None:
        self.coro = coro
        self.pending = pending
        self.context = context
        self.cancelled = cancelled

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, run, value = self.coro, self.context.run, self.pending
        if self.cancelled and (value is None or not value.cancel()):
            try:
                value = run(coro.throw, CancelledError())
            except StopIteration as done:
                return done.value
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


#: The interpreters whose asyncio internals the direct path relies on (``Task`` entering
#: and leaving, ``loop._ready``) and which the test suite runs it on.
DIRECT_VERSIONS = ((3, 11), (3, 12), (3, 13))
_DIRECT_SUPPORTED = (
    sys.implementation.name == "cpython"
    and sys.version_info[:2] in DIRECT_VERSIONS
    and _enter_task is not None
)


class EnvironmentLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        ready = getattr(self.loop, "_ready", None)
        self._ready: deque[asyncio.Handle] | None = ready if isinstance(ready, deque) else None
        #: Drive coroutines directly (see the module docstring); False runs every one as a
        #: task with ``run_until_complete``. Tests switch it to run both paths.
        self.direct = _DIRECT_SUPPORTED and self._ready is not None
        self._hooks = (
            self.loop._asyncgen_firstiter_hook,  # type: ignore[attr-defined]
            self.loop._asyncgen_finalizer_hook,  # type: ignore[attr-defined]
        )
        self._host: asyncio.Task[None] | None = None
        #: What the host task waits on between coroutines; done when one is handed over
        #: (``_job`` set) or when a cancellation reached the host.
        self._wake: asyncio.Future[None] | None = None
        self._job: tuple[_Resume, asyncio.Future[Any]] | None = None
        self._before_close: list[Callable[[], None]] = []
        self._terminate_requested = False
        self._sigterm_installed = False
        self._closing = False
        #: Tasks started during the current :meth:`respond` (and its remainder), and the
        #: remainders not finished yet: kept here, finished by :mod:`faasport.core.remainder`.
        self.owned_tasks: list[asyncio.Task[Any]] | None = None
        self.remainders: list[Remainder] = []
        #: Seconds the tasks an invocation started may run on once its app has returned.
        self.task_grace = 1.0
        self.loop.set_task_factory(self._task_factory)  # type: ignore[arg-type]
        # Threaded servers (functions-framework) may call in from several threads; the loop
        # and whatever the app bound to it at startup serve them one at a time.
        self._lock = threading.Lock()
        #: The thread running the loop for good once :meth:`serve_in_thread` started it.
        self._thread: threading.Thread | None = None

    def serve_in_thread(self) -> None:
        """Run the loop on a thread of its own from now on, for an environment that takes
        several invocations at once (``AWS_LAMBDA_MAX_CONCURRENCY``): each invocation's
        thread hands its coroutine over, and they all run concurrently on this one loop."""
        if self._thread is not None:
            return
        started = threading.Event()

        def main() -> None:
            self.loop.call_soon(started.set)
            self.loop.run_forever()

        self._thread = threading.Thread(target=main, name="faasport-loop", daemon=True)
        self._thread.start()
        started.wait()

    def _submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        thread = self._thread
        assert thread is not None
        if thread.ident == get_ident():
            coro.close()
            raise RuntimeError("a synchronous call cannot wait for the loop from inside it")
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, awaitable: Awaitable[T]) -> T:
        coro: Coroutine[Any, Any, T] = (
            awaitable if type(awaitable) is CoroutineType else _as_coroutine(awaitable)
        )
        if self._thread is not None:
            return self._submit(coro).result()
        self._lock.acquire()
        try:
            if not self.direct or events._get_running_loop() is not None:
                return self._run_full(coro)
            outcome, value = self._start_direct(coro)
            return value if outcome is None else self.loop.run_until_complete(outcome)
        finally:
            self.release()

    def respond(self, coro: Coroutine[Any, Any, Any], exchange: Responding) -> Remainder | None:
        """Run an app's request coroutine until it returns or ``exchange`` holds the
        complete response; what is left of it then (and of the tasks it started) comes
        back as a :class:`Remainder` to finish, now or once the response is sent.

        Raises what the coroutine raised when it ended with nothing left to finish.
        """
        if self._thread is not None:
            self._respond_threaded(coro, exchange)
            return None
        self._lock.acquire()
        try:
            if events._get_running_loop() is not None:
                self._run_full(coro)
                return None
            loop = self.loop
            finished: asyncio.Future[Any] | None
            owned: list[asyncio.Task[Any]]
            if self.direct:
                self.owned_tasks = owned = []
                try:
                    finished, _ = self._start_direct(coro)
                except BaseException as exc:
                    finished = loop.create_future()
                    finished.set_exception(exc)
                else:
                    if finished is None and not owned:  # the usual request: nothing left
                        self.owned_tasks = None
                        return None
            else:
                finished = loop.create_task(coro)
                self.owned_tasks = owned = []
            if finished is not None and not finished.done() and not exchange.done:
                stop = loop.create_future()

                def wake(*_: Any) -> None:
                    if not stop.done():
                        stop.set_result(None)

                exchange.on_done = wake
                finished.add_done_callback(wake)
                # While the app waits, the loop also wakes every 50 ms: a thread's result
                # (anyio's worker threads post theirs with call_soon_threadsafe) whose wake-up
                # write is lost then arrives late instead of never. Such a loss was seen in
                # the test suite after a long sequence of in-process tests; its cause is open.
                beat: list[asyncio.TimerHandle] = []

                def heartbeat() -> None:
                    if not stop.done():
                        beat[:] = [loop.call_later(0.05, heartbeat)]

                heartbeat()
                try:
                    loop.run_until_complete(stop)
                finally:
                    exchange.on_done = None
                    for handle in beat:
                        handle.cancel()
            if (finished is None or finished.done()) and (
                not owned or all(task.done() for task in owned)
            ):
                self.owned_tasks = None
                if finished is not None:
                    finished.result()
                return None
            rest = Remainder(self, finished, owned)
            self.remainders.append(rest)
            return rest
        finally:
            self._lock.release()
            if self._terminate_requested:
                self._terminate_soon()

    def _respond_threaded(self, coro: Coroutine[Any, Any, Any], exchange: Responding) -> None:
        """:meth:`respond` with the loop on its own thread: wait until the response is
        complete; the rest of the coroutine runs on there, a failure after it is logged."""
        complete = threading.Event()
        exchange.on_done = lambda *_: complete.set()
        future = self._submit(coro)
        future.add_done_callback(lambda _: complete.set())
        complete.wait()
        if future.done():
            future.result()
        else:
            future.add_done_callback(_log_late_failure)

    def acquire(self) -> None:
        """Take the loop for one piece of work (invocations run one at a time)."""
        self._lock.acquire()

    def release(self) -> None:
        """Give the loop back; a SIGTERM that arrived meanwhile closes it now, or once the
        response is sent."""
        self._lock.release()
        if self._terminate_requested:
            self._terminate_soon()

    def _terminate_soon(self) -> None:
        """Close after a SIGTERM that arrived while the loop was taken: now, or once the
        response is sent."""
        if self._terminate_requested:
            self._terminate_requested = False
            from faasport.core import deferred

            # With a response still to be posted, close only once it is.
            if not deferred.defer(self._terminate):
                self._terminate()

    def _task_factory(
        self, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], **kwargs: Any
    ) -> asyncio.Task[Any]:
        task = asyncio.Task(coro, loop=loop, **kwargs)
        owned = self.owned_tasks
        if owned is not None:
            owned.append(task)
        return task

    def _start_direct(self, coro: Coroutine[Any, Any, T]) -> tuple[asyncio.Future[T] | None, T]:
        """Drive ``coro`` until it first waits on a real future: ``(None, its result)`` if
        it returned before that, else ``(a future of its result, None)`` with the host task
        carrying it on once the loop runs."""
        loop = self.loop
        host, wake = self._host, self._wake
        if host is None or wake is None or wake.done() or host.done():
            host = self._settle_host()
            wake = self._wake
            assert wake is not None
        if host.cancelling():
            # Cancellations requested in earlier invocations (and caught there) are not
            # this one's: a fresh task would start at zero, and asyncio.timeout counts them.
            while host.uncancel():
                pass
        context = copy_context()
        hooks, ours = get_asyncgen_hooks(), self._hooks
        theirs = hooks != ours
        if theirs:
            set_asyncgen_hooks(*ours)
        loop._thread_id = get_ident()  # type: ignore[attr-defined]
        set_running_loop(loop)
        enter_task(loop, host)
        try:
            pending = context.run(coro.send, None)
        except StopIteration as done:
            leave_task(loop, host)
            if self._ready:
                cancelled = wake.cancelled()
                self._drain()
                if cancelled:
                    # Cancelled, then returned without waiting again: a task ends cancelled.
                    raise CancelledError() from None
            return None, done.value
        except BaseException:
            leave_task(loop, host)
            self._drain()
            raise
        finally:
            set_running_loop(None)
            loop._thread_id = None  # type: ignore[attr-defined]
            if theirs and hooks != _NO_HOOKS:
                set_asyncgen_hooks(*hooks)
            # Else this loop's hooks stay, for the next invocation to find in place: an
            # async generator started on this thread in between is registered with this
            # loop, which finalizes it; close() takes the hooks away.
        leave_task(loop, host)
        # The coroutine waits on a real future: the host task carries on with it. A
        # cancellation that reached the host meanwhile left ``_wake`` cancelled; the host
        # then passes it on to the coroutine.
        outcome: asyncio.Future[T] = loop.create_future()
        self._job = (_Resume(coro, pending, context, wake.cancelled()), outcome)
        if not wake.done():
            wake.set_result(None)
        return outcome, None  # type: ignore[return-value]

    def _drain(self) -> None:
        """Run the callbacks the request scheduled (tasks it started) that are ready now."""
        ready = self._ready
        assert ready is not None
        for _ in range(len(ready)):
            ready.popleft()._run()

    def _settle_host(self) -> asyncio.Task[None]:
        """The host task, waiting for the next coroutine: started on first use (or again
        if something killed it), and past any cancellation that reached it while idle."""
        loop = self.loop
        hooks = get_asyncgen_hooks()
        set_asyncgen_hooks(*self._hooks)
        set_running_loop(loop)
        owned, self.owned_tasks = self.owned_tasks, None  # the host belongs to no invocation
        try:
            host = self._host
            if host is None or host.done():
                host = self._host = loop.create_task(self._host_main(), name="faasport-host")
            # The host runs until it waits on a fresh ``_wake``.
            while self._ready and (self._wake is None or self._wake.done()):
                self._drain()
        finally:
            self.owned_tasks = owned
            set_running_loop(None)
            set_asyncgen_hooks(*hooks)
        return host

    async def _host_main(self) -> None:
        loop = self.loop
        while True:
            wake = self._wake = loop.create_future()
            try:
                await wake
                cancelled = False
            except CancelledError:
                cancelled = True
            job, self._job = self._job, None
            if job is None:
                if self._closing:
                    return
                continue  # a cancellation of the idle host: nobody's to deliver
            resume, outcome = job
            if cancelled:
                resume.cancelled = True
            try:
                result = await resume
            except BaseException as exc:
                if not outcome.done():
                    outcome.set_exception(exc)
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
            else:
                if not outcome.done():
                    host = self._host
                    if host is not None and host._must_cancel:  # type: ignore[attr-defined]
                        # Cancelled in its last step, then returned: a task ends cancelled.
                        outcome.set_exception(CancelledError())
                    else:
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
        thread = self._thread
        for rest in list(self.remainders):
            try:
                rest.finish()
            except Exception:
                from faasport.core.logs import logger

                logger().exception("work after the response failed")
        with self._lock:
            callbacks, self._before_close = self._before_close, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                from faasport.core.logs import logger

                logger().exception("shutdown callback failed")
        if thread is not None and thread.ident != get_ident():
            self.loop.call_soon_threadsafe(self.loop.stop)
            thread.join()
            self._thread = None
        with self._lock:
            if self.loop.is_closed():
                return
            host = self._host
            if host is not None and not host.done():
                self._closing = True
                host.cancel()
                with contextlib.suppress(BaseException):
                    self.loop.run_until_complete(host)
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()
            if get_asyncgen_hooks() == self._hooks:
                set_asyncgen_hooks(*_NO_HOOKS)

    def close_on_sigterm(self) -> None:
        """Close the environment on SIGTERM, then let the signal do what it did before.

        The handler runs between two bytecodes of whatever the main thread is doing, maybe
        inside :meth:`run`: then it only notes the request, and the invocation closes the
        environment once it lets go of the loop (closing from the handler would wait for
        the lock that the interrupted invocation holds, forever).
        """
        if self._sigterm_installed or threading.current_thread() is not threading.main_thread():
            return
        import signal

        self._sigterm_installed = True
        previous = signal.getsignal(signal.SIGTERM)

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            if not self.loop.is_closed():
                if not self._lock.acquire(blocking=False):
                    self._terminate_requested = True
                    return
                self._lock.release()
                self._close_logged()
            if callable(previous):
                previous(signum, frame)
            elif previous != signal.SIG_IGN:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                os.kill(os.getpid(), signal.SIGTERM)

        signal.signal(signal.SIGTERM, on_sigterm)

    def _terminate(self) -> None:
        """Close after a SIGTERM that arrived during an invocation, then deliver it again:
        the handler, finding the loop closed, does what the signal did before."""
        import signal

        self._close_logged()
        os.kill(os.getpid(), signal.SIGTERM)

    def _close_logged(self) -> None:
        try:
            self.close()
        except Exception:
            from faasport.core.logs import logger

            logger().exception("closing the event loop failed")


def _log_late_failure(future: concurrent.futures.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        from faasport.core.logs import logger

        error = future.exception()
        logger().error(
            "exception in app after its response was sent",
            exc_info=(type(error), error, error.__traceback__) if error else None,
        )


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
