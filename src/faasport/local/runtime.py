"""The local serverless runtime: one event loop thread that owns every function's pool.

``LocalRuntime.invoke`` may be called from any thread and blocks until the invocation
ends; coroutines already on the runtime's loop use ``invoke_async``.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, TypeVar

from faasport.core.errors import FaasportError
from faasport.local.environment import MEMORY_CHECK_SECONDS
from faasport.local.outcome import Outcome
from faasport.local.pool import FunctionPool
from faasport.local.spec import FunctionSpec

T = TypeVar("T")


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop when it is installed (it moves socket I/O into C), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class UnknownFunctionError(FaasportError, LookupError):
    """The name is not one of the project's functions."""


class LocalRuntime:
    def __init__(
        self,
        specs: Iterable[FunctionSpec],
        log: Callable[[str], None] = _stderr,
    ) -> None:
        self.specs = {spec.name: spec for spec in specs}
        #: Lambda's names for the functions (``phoney-api``) -> our names (``api``).
        self.aliases = {spec.function_name: spec.name for spec in self.specs.values()}
        self.log = log
        self.loop = new_event_loop()
        self.pools: dict[str, FunctionPool] = {}
        self._thread = threading.Thread(target=self._run, name="faasport-runtime", daemon=True)
        self._background: set[asyncio.Task[Any]] = set()
        self._memory_timer: asyncio.TimerHandle | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the runtime's loop and wait for its result (from another thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> None:
        """Start the loop and the ``warm`` environments of every function."""
        self._thread.start()
        self.call(self._start())

    async def _start(self) -> None:
        for name, spec in self.specs.items():
            self.pools[name] = FunctionPool(spec, self._prefixed(name), self.log)
        await asyncio.gather(*(pool.start() for pool in self.pools.values()))
        self._watch_memory()

    def _watch_memory(self) -> None:
        """One timer for every environment, rather than one per invocation."""
        for pool in self.pools.values():
            for env in list(pool.environments):
                env.check_memory()
        self._memory_timer = self.loop.call_later(MEMORY_CHECK_SECONDS, self._watch_memory)

    def _prefixed(self, name: str) -> Callable[[str], None]:
        log = self.log
        return lambda line: log(f"[{name}] {line}")

    def pool(self, name: str) -> FunctionPool:
        try:
            return self.pools[self.aliases.get(name, name)]
        except KeyError:
            known = ", ".join(self.pools) or "none"
            raise UnknownFunctionError(
                f'unknown function "{name}"; the functions are: {known}'
            ) from None

    async def invoke_async(
        self,
        name: str,
        payload: bytes,
        *,
        client_context: str | None = None,
        trace_id: str | None = None,
    ) -> Outcome:
        return await self.pool(name).invoke(
            payload, client_context=client_context, trace_id=trace_id
        )

    def invoke(self, name: str, payload: bytes, *, client_context: str | None = None) -> Outcome:
        return self.call(self.invoke_async(name, payload, client_context=client_context))

    def invoke_later(self, name: str, payload: bytes) -> None:
        """An asynchronous ("Event") invocation: queued, run when an environment is free."""
        pool = self.pool(name)

        def schedule() -> None:
            task = self.loop.create_task(pool.invoke(payload, wait=True))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

        self.loop.call_soon_threadsafe(schedule)

    def reload(self) -> None:
        """Fresh environments for every function from the next invocation on."""

        def retire_all() -> None:
            for pool in self.pools.values():
                pool.reload()

        self.loop.call_soon_threadsafe(retire_all)

    def stop(self) -> None:
        """Stop every environment (no orphans) and the loop."""
        if not self._thread.is_alive():
            return
        self.call(self._close(), timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()

    async def _close(self) -> None:
        if self._memory_timer is not None:
            self._memory_timer.cancel()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*(pool.close() for pool in self.pools.values()))
