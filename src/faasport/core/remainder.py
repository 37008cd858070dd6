"""What is left of an invocation once its response is complete, and how it is finished."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Protocol


class Host(Protocol):
    """The part of :class:`~faasport.core.loop.EnvironmentLoop` a remainder runs on."""

    loop: asyncio.AbstractEventLoop
    task_grace: float
    owned_tasks: list[asyncio.Task[Any]] | None
    remainders: list[Remainder]

    def acquire(self) -> None: ...

    def release(self) -> None: ...


class Responding(Protocol):
    """What :meth:`EnvironmentLoop.respond` watches: the response being collected."""

    #: True once the response is complete.
    done: bool
    #: Called (on the loop) when it becomes complete, while the loop waits for that.
    on_done: Callable[[], None] | None


class Remainder:
    """What is left of an invocation once its response is complete: the rest of the app's
    coroutine, and the tasks the invocation started. :meth:`finish` runs the former to its
    end, lets the latter run on for ``task_grace`` seconds, then cancels those still
    running with a log line naming each, so none is carried into another invocation."""

    def __init__(
        self,
        env: Host,
        finished: asyncio.Future[Any] | None,
        owned: list[asyncio.Task[Any]],
    ) -> None:
        self.env = env
        self.finished = finished
        self.owned = owned

    def finish(self) -> None:
        """Run the remaining work; raise what the app's coroutine raised, if it did."""
        env, loop, finished = self.env, self.env.loop, self.finished
        env.acquire()
        try:
            if self not in env.remainders:
                return
            if finished is not None and not finished.done():
                with contextlib.suppress(BaseException):
                    loop.run_until_complete(finished)
            env.owned_tasks = None
            pending = [task for task in self.owned if not task.done()]
            if pending:
                loop.run_until_complete(asyncio.wait(pending, timeout=env.task_grace))
                left = [task for task in pending if not task.done()]
                if left:
                    from faasport.core.logs import logger

                    for task in left:
                        logger().warning(
                            "task %s was still running %.1f s after the app answered: "
                            "cancelled, so that it does not run on in a later invocation",
                            _describe(task),
                            env.task_grace,
                        )
                        task.cancel()
                    loop.run_until_complete(asyncio.wait(left, timeout=env.task_grace))
        finally:
            if self in env.remainders:
                env.remainders.remove(self)
            env.release()
        if finished is not None and not finished.cancelled():
            error = finished.exception()
            if error is not None:
                raise error


def _describe(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    name = getattr(coro, "__qualname__", None) or task.get_name()
    return f"{task.get_name()!r} ({name})"
