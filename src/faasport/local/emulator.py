"""The emulator: one event loop thread that owns every function's pool of execution
environments and the queue of asynchronous invocations.

Inert until :meth:`Emulator.start`. :meth:`Emulator.invoke` may be called from any thread
and blocks until the invocation ends; coroutines on the emulator's loop use
:meth:`Emulator.invoke_async`; :meth:`Emulator.invoke_later` queues an asynchronous
("Event") invocation. These three are how the gateway, the Invoke API and event sources
reach functions.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any, TypeVar

from faasport.core.errors import FaasportError
from faasport.local.activity import Observer
from faasport.local.async_invocations import AsyncInvocations
from faasport.local.outcome import Outcome
from faasport.local.pool import FunctionPool
from faasport.local.spec import EmulatorSettings, FunctionSpec

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

    def __init__(
        self, name: str, known: Iterable[str], where: str = "", deployed: str = ""
    ) -> None:
        names = ", ".join(known) or "none"
        place = f" in {where}" if where else ""
        also = f' (or as deployed: "{deployed}")' if deployed else ""
        super().__init__(f'unknown function "{name}"; the functions{place} are: {names}{also}')


class Emulator:
    def __init__(
        self,
        specs: Iterable[FunctionSpec],
        log: Callable[[str], None] = _stderr,
        settings: EmulatorSettings | None = None,
        source: str = "",
    ) -> None:
        self.specs = {spec.name: spec for spec in specs}
        #: Lambda's names for the functions (``phoney-api``) -> our names (``api``).
        self.aliases = {spec.function_name: spec.name for spec in self.specs.values()}
        self.log = log
        self.settings = settings or EmulatorSettings()
        #: The configuration file the functions come from, for error messages.
        self.source = source
        self.loop = new_event_loop()
        self.pools: dict[str, FunctionPool] = {}
        self.async_invocations = AsyncInvocations(self, self.settings)
        self._thread = threading.Thread(target=self._run, name="faasport-emulator", daemon=True)
        self._memory_timer: asyncio.TimerHandle | None = None
        self._sockets: Path | None = None
        #: Shared by every pool: add observers before :meth:`start`.
        self.observers: list[Observer] = []

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the emulator's loop and wait for its result (from another thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> None:
        """Start the loop, the ``warm`` environments of every function, and the
        asynchronous invocations left queued by the previous run."""
        # Short paths: a Unix socket's path is limited to about 100 bytes.
        self._sockets = Path(tempfile.mkdtemp(prefix="faasport-"))
        self._thread.start()
        self.call(self._start())

    async def _start(self) -> None:
        assert self._sockets is not None
        for name, spec in self.specs.items():
            self.pools[name] = FunctionPool(
                spec, self._prefixed(name), self.log, self.settings, self._sockets
            )
            self.pools[name].observers = self.observers
        await asyncio.gather(*(pool.start() for pool in self.pools.values()))
        self._watch_memory()
        self.async_invocations.resume()

    def _watch_memory(self) -> None:
        """One timer for every environment, rather than one per invocation."""
        for pool in self.pools.values():
            for env in list(pool.environments):
                env.check_memory()
        self._memory_timer = self.loop.call_later(
            self.settings.memory_check_seconds, self._watch_memory
        )

    def _prefixed(self, name: str) -> Callable[[str], None]:
        log = self.log
        return lambda line: log(f"[{name}] {line}")

    def name(self, name: str) -> str:
        """Our name for a function given by our name or Lambda's; raises if unknown."""
        name = self.aliases.get(name, name)
        if name not in self.specs:
            raise UnknownFunctionError(name, self.specs, self.source)
        return name

    def pool(self, name: str) -> FunctionPool:
        return self.pools[self.name(name)]

    async def invoke_async(
        self,
        name: str,
        payload: bytes,
        *,
        client_context: str | None = None,
        trace_id: str | None = None,
    ) -> Outcome:
        """A synchronous ("RequestResponse") invocation, from the emulator's loop."""
        return await self.pool(name).invoke(
            payload, client_context=client_context, trace_id=trace_id
        )

    def invoke(self, name: str, payload: bytes, *, client_context: str | None = None) -> Outcome:
        """A synchronous invocation from any other thread."""
        return self.call(self.invoke_async(name, payload, client_context=client_context))

    def invoke_later(self, name: str, payload: bytes) -> None:
        """An asynchronous ("Event") invocation, from any thread: queued (durably when the
        emulator has a state directory), retried on failure, then sent to the function's
        on-failure destination."""
        name = self.name(name)
        self.loop.call_soon_threadsafe(self.async_invocations.submit, name, payload)

    def reload(self) -> None:
        """Fresh environments for every function from the next invocation on."""

        def retire_all() -> None:
            for pool in self.pools.values():
                pool.reload()

        self.loop.call_soon_threadsafe(retire_all)

    def stop(self) -> None:
        """Stop every environment (Lambda's shutdown: no orphans) and the loop; queued
        asynchronous invocations stay in the state directory for the next start."""
        if not self._thread.is_alive():
            return
        self.call(self._close(), timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()
        if self._sockets is not None:
            shutil.rmtree(self._sockets, ignore_errors=True)

    async def _close(self) -> None:
        if self._memory_timer is not None:
            self._memory_timer.cancel()
        await self.async_invocations.close()
        await asyncio.gather(*(pool.close() for pool in self.pools.values()))
