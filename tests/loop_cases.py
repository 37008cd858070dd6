"""Cancellation and timeout cases for ``EnvironmentLoop``, on its direct and fallback paths.

Standard library only, so that ``test_loop.py`` can also run them under every CPython the
direct path is enabled on: ``python loop_cases.py`` runs all of them on both paths and
prints one line per case.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Callable
from typing import Any

from faasport.core.loop import EnvironmentLoop

#: Seconds a case may take before it counts as hung.
LIMIT = 5.0


def run_bounded(env: EnvironmentLoop, make: Callable[[], Any]) -> Any:
    """``env.run(make())`` on a daemon thread: a hang fails the case instead of the run."""
    outcome: list[tuple[bool, Any]] = []

    def target() -> None:
        try:
            outcome.append((True, env.run(make())))
        except BaseException as exc:
            outcome.append((False, exc))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(LIMIT)
    assert outcome, f"hung for {LIMIT} s"
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


async def _past_deadline() -> str:
    try:
        async with asyncio.timeout(0):
            await asyncio.sleep(1)
    except TimeoutError:
        return "timed out"
    return "not timed out"


async def _deadline_already_passed() -> str:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout_at(loop.time() - 1):
            await asyncio.sleep(0)
            await asyncio.sleep(1)
    except TimeoutError:
        return "timed out"
    return "not timed out"


async def _wait_for_zero() -> str:
    try:
        await asyncio.wait_for(asyncio.sleep(1), 0)
    except TimeoutError:
        return "timed out"
    return "not timed out"


def case_timeout_zero(env: EnvironmentLoop) -> None:
    for _ in range(3):
        assert run_bounded(env, _past_deadline) == "timed out"
        assert run_bounded(env, _deadline_already_passed) == "timed out"
        assert run_bounded(env, _wait_for_zero) == "timed out"


async def _cancel_self(wait: Callable[[], Any]) -> str:
    task = asyncio.current_task()
    assert task is not None
    task.cancel()
    try:
        await wait()
    except asyncio.CancelledError:
        # Caught, as some apps do; uncancel() keeps the task's count as a fresh one's.
        task.uncancel()
        return "caught"
    return "not delivered"


async def _plain() -> str:
    await asyncio.sleep(0)
    await asyncio.sleep(0.001)
    return "ok"


async def _timeout_later() -> str:
    try:
        async with asyncio.timeout(0.01):
            await asyncio.sleep(1)
    except TimeoutError:
        return "timed out"
    return "not timed out"


def case_self_cancel_is_delivered_and_forgotten(env: EnvironmentLoop) -> None:
    waits: list[Callable[[], Any]] = [
        lambda: asyncio.sleep(0),
        lambda: asyncio.sleep(0.01),
        lambda: asyncio.get_running_loop().create_future(),
    ]
    for wait in waits:
        assert run_bounded(env, lambda w=wait: _cancel_self(w)) == "caught"  # type: ignore[misc]
        assert run_bounded(env, _plain) == "ok"
        assert run_bounded(env, _timeout_later) == "timed out"


async def _cancel_self_uncaught_count() -> int:
    task = asyncio.current_task()
    assert task is not None
    task.cancel()
    # Caught without uncancel(): the count stays raised within this invocation.
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.sleep(0)
    return task.cancelling()


def case_cancel_count_does_not_leak(env: EnvironmentLoop) -> None:
    assert run_bounded(env, _cancel_self_uncaught_count) == 1
    assert run_bounded(env, _cancel_self_uncaught_count) == 1

    async def count() -> int:
        task = asyncio.current_task()
        assert task is not None
        return task.cancelling()

    assert run_bounded(env, count) == 0


async def _cancelled_by_other_task() -> str:
    me = asyncio.current_task()
    assert me is not None
    asyncio.get_running_loop().call_later(0.01, me.cancel)
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        me.uncancel()
        return "caught"
    return "not delivered"


def case_cancel_from_a_callback(env: EnvironmentLoop) -> None:
    assert run_bounded(env, _cancelled_by_other_task) == "caught"
    assert run_bounded(env, _plain) == "ok"


async def _cancel_then_return() -> str:
    task = asyncio.current_task()
    assert task is not None
    task.cancel()
    return "returned"


def case_cancel_then_return_ends_cancelled(env: EnvironmentLoop) -> None:
    # As a task that is cancelled and returns before it waits again.
    try:
        run_bounded(env, _cancel_then_return)
    except asyncio.CancelledError:
        pass
    else:
        raise AssertionError("expected CancelledError")
    assert run_bounded(env, _plain) == "ok"


async def _task_group_failure() -> str:
    async def fail() -> None:
        await asyncio.sleep(0)
        raise ValueError("child")

    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(fail())
            group.create_task(asyncio.sleep(1))
    except ExceptionGroup as group_error:
        return "child failed" if group_error.subgroup(ValueError) else "other failure"
    return "no failure"


def case_task_group_cancels_siblings(env: EnvironmentLoop) -> None:
    for _ in range(2):
        assert run_bounded(env, _task_group_failure) == "child failed"
        assert run_bounded(env, _plain) == "ok"


class _Response:
    """The ``Responding`` side of an exchange, as the ASGI bridge keeps it."""

    def __init__(self) -> None:
        self.done = False
        self.on_done: Callable[[], None] | None = None

    def complete(self) -> None:
        self.done = True
        if self.on_done is not None:
            self.on_done()


async def _respond_then_work(response: _Response, log: list[str], wait_first: bool) -> None:
    if wait_first:
        await asyncio.sleep(0.01)
    response.complete()
    task = asyncio.get_running_loop().create_task(asyncio.sleep(0.02))
    task.add_done_callback(lambda _: log.append("task"))
    await asyncio.sleep(0.02)
    log.append("rest")


def case_respond_returns_at_the_response_then_finishes(env: EnvironmentLoop) -> None:
    for wait_first in (False, True):
        response = _Response()
        log: list[str] = []
        rest = env.respond(_respond_then_work(response, log, wait_first), response)
        assert rest is not None and log == [], log
        rest.finish()
        assert sorted(log) == ["rest", "task"], log


CASES: dict[str, Callable[[EnvironmentLoop], None]] = {
    name.removeprefix("case_"): case
    for name, case in list(globals().items())
    if name.startswith("case_") and callable(case)
}


def new_loop(direct: bool) -> EnvironmentLoop:
    env = EnvironmentLoop()
    env.direct = direct and env.direct
    return env


def main() -> int:
    failed = 0
    for direct in (True, False):
        for name, case in CASES.items():
            env = new_loop(direct)
            path = "direct" if env.direct else "fallback"
            try:
                case(env)
            except BaseException as exc:  # report every case, then fail
                failed += 1
                print(f"FAIL {path} {name}: {exc!r}")
            else:
                print(f"ok {path} {name}")
                env.close()
    print(f"python {sys.version_info[0]}.{sys.version_info[1]}: {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
