"""The execution environments of one function: reuse, cold starts, limits, scale to zero.

At most ``concurrency`` environments run at once. A free environment is reused (the most
recently used first, as Lambda does); otherwise a new one is started (a cold start, with
Init Duration); at the limit a synchronous invocation is throttled and an asynchronous one
waits its turn. With ``max_concurrency = N`` (Lambda Managed Instances) an environment takes
up to N invocations at once: a busy one with a free slot is used first, and invocations
arriving while one starts wait for its free slots rather than start more. ``warm``
environments are started ahead and kept; others stop after ``idle_timeout`` seconds unused.
``reload()`` retires every environment: idle ones at once, busy ones when their invocations
end.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from faasport.aws.runtime_client import error_document
from faasport.local.activity import EnvState, Observer, Trigger
from faasport.local.durations import DurationLog
from faasport.local.environment import Environment, InitFailed
from faasport.local.outcome import Outcome, Status, error_payload, with_request_id
from faasport.local.runtime_api import Invocation
from faasport.local.spec import EmulatorSettings, FunctionSpec
from faasport.local.supervisor import Log

IMPORT_ERROR = "Runtime.ImportModuleError"


class FunctionPool:
    def __init__(
        self,
        spec: FunctionSpec,
        log: Log,
        report: Log,
        settings: EmulatorSettings | None = None,
        sockets: Path | None = None,
    ) -> None:
        self.spec = spec
        self.log = log
        self.report = report
        self.settings = settings or EmulatorSettings()
        #: Where the environments' Runtime API sockets go (None: TCP only).
        self.sockets = sockets
        self._numbers = itertools.count(1)
        self.durations = DurationLog(spec.task_root, spec.name)
        self.generation = 0
        self.environments: set[Environment] = set()
        self.idle: list[Environment] = []
        #: Busy environments with a free slot (``max_concurrency`` > 1 only).
        self.open: list[Environment] = []
        #: Environments starting for an invocation, with the slots others may still claim.
        self._boots: list[_Boot] = []
        self._starting = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        #: One idle timer per environment past the warm ones, left running while it is
        #: reused: when it fires early it is moved to the environment's last release.
        self._reapers: dict[Environment, asyncio.TimerHandle] = {}
        #: When each idle environment was last released (loop time).
        self._released: dict[Environment, float] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()
        #: Why the function cannot run, when a check found that its app does not import:
        #: its invocations then fail at once with that init error, no environment started.
        self.unavailable: str | None = None
        #: Who watches (the readable log, the dashboard); called on the emulator's loop.
        self.observers: list[Observer] = []

    @property
    def size(self) -> int:
        return len(self.environments) + self._starting

    async def start(self) -> None:
        await self._keep_warm()

    async def invoke(
        self,
        payload: bytes,
        *,
        wait: bool = False,
        client_context: str | None = None,
        trace_id: str | None = None,
        tail: bool = False,
        started: asyncio.Future[Any] | None = None,
        trigger: Trigger | None = None,
    ) -> Outcome:
        """One invocation; ``started`` gets the response's stream if the function streams
        it (:func:`faasport.local.streaming.invoke_streaming`)."""
        invocation = Invocation(
            payload,
            deadline_ms=int((time.time() + self.spec.timeout) * 1000),
            client_context=client_context,
            started=started,
            trigger=trigger,
        )
        if trace_id:
            invocation.trace_id = trace_id
        if tail:
            invocation.log = []
        if self.unavailable is not None:
            return self._unavailable(invocation, self.unavailable)
        try:
            env = await self._acquire(wait)
        except Throttled:
            return self._outcome(
                invocation,
                Status.THROTTLED,
                error_payload("Rate Exceeded.", "TooManyRequestsException"),
            )
        except InitFailed as failed:
            self._report(invocation, f"START RequestId: {invocation.request_id} Version: $LATEST")
            for observer in self.observers:
                observer.invocation_started(self.spec.name, None, invocation)
            error = with_request_id(failed.payload, invocation.request_id)
            if invocation.log is not None:  # the environment logged it before this START
                invocation.log.append(f"[ERROR] {error_type(error)}: {error_message(error)}")
            outcome = self._outcome(invocation, Status.CRASH, error)
            self._log_end(invocation, outcome)
            for observer in self.observers:
                observer.invocation_ended(self.spec.name, None, invocation, outcome)
            return outcome
        # Environments started ahead (warm) did their init before anyone waited for it.
        cold = env.invocations == 0 and not env.provisioned
        self._report(invocation, f"START RequestId: {invocation.request_id} Version: $LATEST")
        for observer in self.observers:
            observer.invocation_started(self.spec.name, env, invocation)
        status, result, duration = await env.invoke(invocation)
        outcome = self._outcome(invocation, status, result)
        outcome.duration_ms = duration
        if status is Status.OK:
            self.durations.record(duration)
        outcome.init_ms = env.init_ms if cold else None
        # Lambda cannot measure more than the limit; a crashed process keeps its last value.
        outcome.max_memory_mb = min(env.supervisor.peak(), self.spec.memory)
        if status is Status.TIMEOUT:
            self._output(invocation, error_message(result))
        self._log_end(invocation, outcome)
        for observer in self.observers:
            observer.invocation_ended(self.spec.name, env, invocation, outcome)
        self._release(env)
        return outcome

    def _unavailable(self, invocation: Invocation, message: str) -> Outcome:
        self._report(invocation, f"START RequestId: {invocation.request_id} Version: $LATEST")
        for observer in self.observers:
            observer.invocation_started(self.spec.name, None, invocation)
        self._output(invocation, f"[ERROR] {IMPORT_ERROR}: {message}")
        error = error_document(message, IMPORT_ERROR, invocation.request_id)
        outcome = self._outcome(invocation, Status.CRASH, error)
        self._log_end(invocation, outcome)
        for observer in self.observers:
            observer.invocation_ended(self.spec.name, None, invocation, outcome)
        return outcome

    def _outcome(self, invocation: Invocation, status: Status, payload: bytes) -> Outcome:
        return Outcome(invocation.request_id, status, payload, memory_mb=self.spec.memory)

    def _output(self, invocation: Invocation, line: str) -> None:
        if invocation.log is not None:
            invocation.log.append(line)
        self.log(line)

    def _report(self, invocation: Invocation, line: str) -> None:
        if invocation.log is not None:
            invocation.log.append(line)
        self.report(line)

    def _log_end(self, invocation: Invocation, outcome: Outcome) -> None:
        self._report(invocation, f"END RequestId: {outcome.request_id}")
        self._report(invocation, outcome.report())
        if invocation.log is not None:
            outcome.log = "".join(line + "\n" for line in invocation.log)

    def _changed(self, env: Environment, state: EnvState) -> None:
        for observer in self.observers:
            observer.environment_changed(self.spec.name, env, state)

    def _tee(self, cell: list[Environment]) -> Log:
        """The environment's output to the log and to the observers."""
        log, name, observers = self.log, self.spec.name, self.observers

        def write(line: str) -> None:
            log(line)
            for observer in observers:
                observer.output(name, cell[0], line)

        return write

    # -- environments -------------------------------------------------------------------

    async def _acquire(self, wait: bool) -> Environment:
        """An environment with a free slot, that slot taken."""
        capacity = self.spec.max_concurrency
        while True:
            env: Environment | None = self._open_slot() if capacity > 1 else None
            while env is None and self.idle:
                found = self.idle.pop()
                if found.alive:
                    env = found
                else:
                    self.environments.discard(found)
                    self._changed(found, "killed")
            if env is None:
                boot = next((b for b in self._boots if b.slots > 0), None)
                if boot is not None:
                    boot.slots -= 1
                    started = await asyncio.shield(boot.done)
                    if not started.alive or started.active >= capacity:
                        continue
                    env = started
            if env is not None:
                self._take(env)
                return env
            if self.size < self.spec.concurrency:
                return await self._boot(capacity)
            if not wait:
                raise Throttled
            turn = asyncio.get_running_loop().create_future()
            self._waiters.append(turn)
            await turn

    def _open_slot(self) -> Environment | None:
        for env in reversed(self.open):
            if env.alive and env.generation == self.generation and not self._closed:
                return env
        return None

    def _take(self, env: Environment) -> None:
        env.active += 1
        if env.active < self.spec.max_concurrency:
            if env not in self.open:
                self.open.append(env)
        elif env in self.open:
            self.open.remove(env)

    async def _boot(self, capacity: int) -> Environment:
        """A new environment for this invocation; the invocations arriving meanwhile wait
        for its other slots."""
        if capacity == 1:
            env = await self._new_environment()
            env.active = 1
            return env
        boot = _Boot(capacity - 1)
        self._boots.append(boot)
        try:
            env = await self._new_environment()
        except BaseException as exc:
            if isinstance(exc, Exception):
                boot.done.set_exception(exc)
            else:
                boot.done.cancel()
            raise
        finally:
            self._boots.remove(boot)
        boot.done.set_result(env)
        self._take(env)
        return env

    async def _new_environment(self, provisioned: bool = False) -> Environment:
        self._starting += 1
        socket = None
        if self.sockets is not None:
            socket = self.sockets / f"{self.spec.name}-{next(self._numbers)}.sock"
        cell: list[Environment] = []
        env = Environment(
            self.spec,
            self.generation,
            self._tee(cell) if self.observers else self.log,
            provisioned=provisioned,
            shutdown_grace=self.settings.shutdown_grace,
            socket_path=socket,
        )
        cell.append(env)
        self._changed(env, "starting")
        try:
            await env.start()
        except BaseException:
            self._starting -= 1
            # The slot this start held is free again: whoever waits for one may try.
            self._wake_one()
            await env.close()
            self._changed(env, "killed")
            raise
        self._starting -= 1
        self.environments.add(env)
        self._changed(env, "warm")
        return env

    def _release(self, env: Environment) -> None:
        env.active -= 1
        if env.active > 0:
            # Still busy, with a slot free again.
            if env.alive and env.generation == self.generation and env not in self.open:
                self.open.append(env)
            self._wake_one()
            return
        if env in self.open:
            self.open.remove(env)
        if not env.alive or env.generation != self.generation or self._closed:
            self._retire(env)
        else:
            self.idle.append(env)
            if len(self.idle) > self.spec.warm:
                loop = self._loop or asyncio.get_running_loop()
                self._loop = loop
                self._released[env] = released = loop.time()
                if env not in self._reapers:
                    self._reapers[env] = loop.call_at(
                        released + self.settings.idle_timeout, self._reap, env
                    )
        self._wake_one()

    def _wake_one(self) -> None:
        while self._waiters:
            turn = self._waiters.popleft()
            if not turn.done():
                turn.set_result(None)
                return

    def _reap(self, env: Environment) -> None:
        self._reapers.pop(env, None)
        if env not in self.idle or len(self.idle) <= self.spec.warm:
            self._released.pop(env, None)
            return  # busy (its next release arms a timer again), or one of the warm ones
        due = self._released.get(env, 0.0) + self.settings.idle_timeout
        assert self._loop is not None
        if self._loop.time() < due:  # used again since the timer was set
            self._reapers[env] = self._loop.call_at(due, self._reap, env)
            return
        self._released.pop(env, None)
        self.idle.remove(env)
        self._retire(env)

    def _retire(self, env: Environment) -> None:
        reaper = self._reapers.pop(env, None)
        if reaper is not None:
            reaper.cancel()
        self._released.pop(env, None)
        self.environments.discard(env)
        if env in self.open:
            self.open.remove(env)
        if env in self.idle:
            self.idle.remove(env)
        self._changed(env, "killed")
        self._background(env.close())
        if not self._closed:
            self._background(self._keep_warm())

    def _background(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _keep_warm(self) -> None:
        missing = self.spec.warm - self.size
        if missing <= 0 or self._closed:
            return
        results = await asyncio.gather(
            *(self._new_environment(provisioned=True) for _ in range(missing)),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, Environment):
                self.idle.append(result)
            else:
                self.log(f"could not start a warm environment for {self.spec.name}: {result}")
        self._wake_one()

    def reload(self) -> None:
        """Retire every environment: idle ones now, busy ones after their invocation."""
        self.generation += 1
        self.open.clear()
        for env in list(self.idle):
            self._retire(env)

    async def close(self) -> None:
        self._closed = True
        self.durations.flush()
        for reaper in self._reapers.values():
            reaper.cancel()
        self._reapers.clear()
        self._released.clear()
        self.idle.clear()
        envs = list(self.environments)
        self.environments.clear()
        await asyncio.gather(*(env.close() for env in envs), return_exceptions=True)
        for env in envs:
            self._changed(env, "killed")


def error_type(payload: bytes) -> str:
    """The ``errorType`` of a Lambda error payload."""
    try:
        return str(json.loads(payload).get("errorType", "Runtime.Unknown"))
    except (ValueError, AttributeError):
        return "Runtime.Unknown"


def error_message(payload: bytes) -> str:
    """The ``errorMessage`` of a Lambda error payload (the payload itself if it has none)."""
    try:
        message = json.loads(payload).get("errorMessage", "")
    except (ValueError, AttributeError):
        message = payload.decode("utf-8", "replace")
    return str(message)


class _Boot:
    """An environment starting for one invocation, and how many of its other slots are not
    yet claimed by invocations waiting for it."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.done: asyncio.Future[Environment] = asyncio.get_running_loop().create_future()
        # Nobody may be left waiting to read a failure.
        self.done.add_done_callback(lambda f: f.cancelled() or f.exception())


class Throttled(Exception):
    pass
