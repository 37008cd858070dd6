"""The execution environments of one function: reuse, cold starts, limits, scale to zero.

At most ``concurrency`` environments run at once. A free environment is reused (the most
recently used first, as Lambda does); otherwise a new one is started (a cold start, with
Init Duration); at the limit a synchronous invocation is throttled and an asynchronous one
waits its turn. ``warm`` environments are started ahead and kept; others stop after
``idle_timeout`` seconds unused. ``reload()`` retires every environment: idle ones at once,
busy ones when their invocation ends.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Coroutine
from typing import Any

from faasport.local.environment import Environment, InitFailed, Invocation, Log
from faasport.local.outcome import Outcome, Status, error_payload
from faasport.local.spec import FunctionSpec


class FunctionPool:
    def __init__(self, spec: FunctionSpec, log: Log, report: Log) -> None:
        self.spec = spec
        self.log = log
        self.report = report
        self.generation = 0
        self.environments: set[Environment] = set()
        self.idle: list[Environment] = []
        self._starting = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._reapers: dict[Environment, asyncio.TimerHandle] = {}
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()

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
    ) -> Outcome:
        invocation = Invocation(
            payload,
            deadline_ms=int((time.time() + self.spec.timeout) * 1000),
            client_context=client_context,
        )
        if trace_id:
            invocation.trace_id = trace_id
        try:
            env = await self._acquire(wait)
        except Throttled:
            return self._outcome(
                invocation,
                Status.THROTTLED,
                error_payload("Rate Exceeded.", "TooManyRequestsException"),
            )
        except InitFailed as failed:
            self.report(f"START RequestId: {invocation.request_id} Version: $LATEST")
            outcome = self._outcome(invocation, Status.CRASH, failed.payload)
            self._log_end(outcome)
            return outcome
        # Environments started ahead (warm) did their init before anyone waited for it.
        cold = env.invocations == 0 and not env.provisioned
        self.report(f"START RequestId: {invocation.request_id} Version: $LATEST")
        status, result, duration = await env.invoke(invocation)
        outcome = self._outcome(invocation, status, result)
        outcome.duration_ms = duration
        outcome.init_ms = env.init_ms if cold else None
        outcome.max_memory_mb = env.memory.read(b"VmHWM") if env.alive else self.spec.memory
        if status is Status.TIMEOUT:
            self.log(json_line(result))
        self._log_end(outcome)
        self._release(env)
        return outcome

    def _outcome(self, invocation: Invocation, status: Status, payload: bytes) -> Outcome:
        return Outcome(invocation.request_id, status, payload, memory_mb=self.spec.memory)

    def _log_end(self, outcome: Outcome) -> None:
        self.report(f"END RequestId: {outcome.request_id}")
        self.report(outcome.report())

    # -- environments -------------------------------------------------------------------

    async def _acquire(self, wait: bool) -> Environment:
        while True:
            while self.idle:
                env = self.idle.pop()
                reaper = self._reapers.pop(env, None)
                if reaper is not None:
                    reaper.cancel()
                if env.alive:
                    return env
                self.environments.discard(env)
            if self.size < self.spec.concurrency:
                return await self._new_environment()
            if not wait:
                raise Throttled
            turn = asyncio.get_running_loop().create_future()
            self._waiters.append(turn)
            await turn

    async def _new_environment(self, provisioned: bool = False) -> Environment:
        self._starting += 1
        env = Environment(self.spec, self.generation, self.log, provisioned)
        try:
            await env.start()
        except BaseException:
            await env.close()
            raise
        finally:
            self._starting -= 1
        self.environments.add(env)
        return env

    def _release(self, env: Environment) -> None:
        if not env.alive or env.generation != self.generation or self._closed:
            self._retire(env)
        else:
            self.idle.append(env)
            if len(self.idle) > self.spec.warm:
                loop = asyncio.get_running_loop()
                self._reapers[env] = loop.call_later(self.spec.idle_timeout, self._reap, env)
        self._wake_one()

    def _wake_one(self) -> None:
        while self._waiters:
            turn = self._waiters.popleft()
            if not turn.done():
                turn.set_result(None)
                return

    def _reap(self, env: Environment) -> None:
        self._reapers.pop(env, None)
        if env in self.idle and len(self.idle) > self.spec.warm:
            self.idle.remove(env)
            self._retire(env)

    def _retire(self, env: Environment) -> None:
        self.environments.discard(env)
        if env in self.idle:
            self.idle.remove(env)
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
        for env in list(self.idle):
            self._retire(env)

    async def close(self) -> None:
        self._closed = True
        for reaper in self._reapers.values():
            reaper.cancel()
        self._reapers.clear()
        self.idle.clear()
        envs = list(self.environments)
        self.environments.clear()
        await asyncio.gather(*(env.close() for env in envs), return_exceptions=True)


def json_line(payload: bytes) -> str:
    import json

    try:
        message = json.loads(payload).get("errorMessage", "")
    except (ValueError, AttributeError):
        message = payload.decode("utf-8", "replace")
    return str(message)


class Throttled(Exception):
    pass
