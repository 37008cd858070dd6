"""The dashboard's memory of the local runtime: execution environments and recent
invocations, bounded, and a live feed of their changes for Server-Sent Events clients.

It is an :class:`~faasport.local.activity.Observer` and runs on the emulator's loop, like
the gateway and the dashboard's own requests, so nothing here needs a lock. Its cost per
invocation with nobody watching is two small objects and a ring buffer append; events and
results are kept as the bytes the runtime already holds and decoded only when shown.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from faasport.local.activity import EnvState, Trigger, http_status, trigger

if TYPE_CHECKING:
    from faasport.local.environment import Environment
    from faasport.local.outcome import Outcome
    from faasport.local.runtime_api import Invocation

#: Invocations remembered (the timeline), environments remembered after they stopped.
HISTORY = 200
STOPPED = 20
#: What one invocation keeps of its event, its response and its log.
MAX_PAYLOAD = 64 * 1024
MAX_LOG_LINES = 200
#: Messages a slow feed client may fall behind by before it is dropped (it reconnects).
BACKLOG = 500


@dataclass(slots=True)
class EnvRecord:
    number: int
    function: str
    env: Environment
    state: EnvState = "starting"
    started: float = field(default_factory=time.time)

    def summary(self) -> dict[str, Any]:
        supervisor = self.env.supervisor
        running = supervisor.running
        return {
            "id": f"{self.function}-{self.number}",
            "function": self.function,
            "state": self.state,
            "pid": self.env.pid,
            "started": self.started,
            "memory_mb": supervisor.rss() if running else 0,
            "peak_mb": supervisor.peak_mb,
            "limit_mb": self.env.spec.memory,
            "invocations": self.env.invocations,
            "init_ms": self.env.init_ms,
        }


@dataclass(slots=True)
class InvocationRecord:
    request_id: str
    function: str
    env: str | None
    event: bytes
    started: float = field(default_factory=time.time)
    status: str = "running"
    response: bytes = b""
    duration_ms: float | None = None
    init_ms: float | None = None
    max_memory_mb: int | None = None
    logs: list[str] = field(default_factory=list)
    _trigger: Trigger | None = None

    def summary(self) -> dict[str, Any]:
        if self._trigger is None:
            self._trigger = trigger(self.event)
        answered = None
        if (
            self._trigger.kind == "http"
            and self.status == "ok"
            and len(self.response) <= MAX_PAYLOAD
        ):
            answered = http_status(self.response, True, 502)
        return {
            "id": self.request_id,
            "function": self.function,
            "env": self.env,
            "trigger": self._trigger.text(),
            "started": self.started,
            "status": self.status,
            "http_status": answered,
            "duration_ms": self.duration_ms,
            "init_ms": self.init_ms,
            "max_memory_mb": self.max_memory_mb,
        }

    def details(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "event": _text(self.event),
            "response": _text(self.response),
            "logs": self.logs,
        }


def _cut(payload: bytes) -> bytes:
    if len(payload) <= MAX_PAYLOAD:
        return payload
    return payload[:MAX_PAYLOAD] + b"\n... (%d bytes in all)" % len(payload)


def _text(payload: bytes) -> str:
    """Pretty JSON when it is JSON, else the text as it is."""
    try:
        return json.dumps(json.loads(payload), indent=2, ensure_ascii=False)
    except ValueError:
        return payload.decode("utf-8", "replace")


class Feed:
    def __init__(self) -> None:
        self.invocations: deque[InvocationRecord] = deque(maxlen=HISTORY)
        self._by_id: dict[str, InvocationRecord] = {}
        self.environments: dict[Environment, EnvRecord] = {}
        self.stopped: deque[EnvRecord] = deque(maxlen=STOPPED)
        self._numbers: dict[str, int] = {}
        self._current: dict[Environment, InvocationRecord] = {}
        self._clients: set[Client] = set()

    # -- the observer -------------------------------------------------------------------

    def environment_changed(self, function: str, env: Environment, state: EnvState) -> None:
        record = self.environments.get(env)
        if record is None:
            if state == "killed":
                return  # never seen starting: nothing to show
            number = self._numbers[function] = self._numbers.get(function, 0) + 1
            record = self.environments[env] = EnvRecord(number, function, env)
        record.state = state
        if state == "killed":
            del self.environments[env]
            self._current.pop(env, None)
            self.stopped.append(record)
        if self._clients:
            self.publish("environment", record.summary())

    def invocation_started(
        self, function: str, env: Environment | None, invocation: Invocation
    ) -> None:
        env_record = self.environments.get(env) if env is not None else None
        if env_record is not None:
            env_record.state = "busy"
        record = InvocationRecord(
            invocation.request_id,
            function,
            f"{function}-{env_record.number}" if env_record else None,
            _cut(invocation.payload),
        )
        if len(self.invocations) == self.invocations.maxlen:
            self._by_id.pop(self.invocations[0].request_id, None)
        self.invocations.append(record)
        self._by_id[record.request_id] = record
        if env is not None:
            self._current[env] = record
        if self._clients:
            self.publish("invocation", record.summary())

    def invocation_ended(
        self, function: str, env: Environment | None, invocation: Invocation, outcome: Outcome
    ) -> None:
        if env is not None and env.active <= 1:  # its last invocation: released after this
            env_record = self.environments.get(env)
            if env_record is not None and env_record.state == "busy":
                env_record.state = "idle"
        record = self._by_id.get(invocation.request_id)
        if record is None:
            return
        record.status = outcome.status.value
        record.response = _cut(outcome.payload)
        record.duration_ms = outcome.duration_ms
        record.init_ms = outcome.init_ms
        record.max_memory_mb = outcome.max_memory_mb
        if self._clients:
            self.publish("invocation", record.summary())

    def output(self, function: str, env: Environment, line: str) -> None:
        # Until the environment's next invocation: what the runtime wrote before posting the
        # result is read from its pipe a little after the result.
        record = self._current.get(env)
        if record is not None and len(record.logs) < MAX_LOG_LINES:
            record.logs.append(line)
            if self._clients:
                self.publish("log", {"id": record.request_id, "line": line})

    # -- reading ------------------------------------------------------------------------

    def invocation(self, request_id: str) -> InvocationRecord | None:
        return self._by_id.get(request_id)

    def snapshot(self) -> dict[str, Any]:
        return {
            "environments": [r.summary() for r in (*self.stopped, *self.environments.values())],
            "invocations": [r.summary() for r in self.invocations],
        }

    # -- the live feed ------------------------------------------------------------------

    def subscribe(self) -> Client:
        client = Client()
        self._clients.add(client)
        return client

    def unsubscribe(self, client: Client) -> None:
        self._clients.discard(client)

    @property
    def watchers(self) -> int:
        """Live clients now."""
        return len(self._clients)

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """One Server-Sent Event to every client; a client too far behind is ended (its
        page reconnects and reloads the state) and dropped."""
        message = b"event: %s\ndata: %s\n\n" % (kind.encode(), json.dumps(data).encode())
        for client in list(self._clients):
            if not client.push(message):
                self._clients.discard(client)

    def close(self) -> None:
        for client in list(self._clients):
            self._clients.discard(client)
            client.end()


class Client:
    """The messages one live client has yet to be sent: a deque and one waiter, cheaper per
    message than an :class:`asyncio.Queue`."""

    __slots__ = ("_waiter", "ended", "messages")

    def __init__(self) -> None:
        self.messages: deque[bytes] = deque()
        self.ended = False
        self._waiter: asyncio.Future[None] | None = None

    def push(self, message: bytes) -> bool:
        """Queue ``message``; False (and the client ended) when it is too far behind."""
        if len(self.messages) >= BACKLOG:
            self.end()
            return False
        self.messages.append(message)
        self._wake()
        return True

    def end(self) -> None:
        self.ended = True
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def wait(self, timeout: float) -> list[bytes] | None:
        """What queued up, after waiting up to ``timeout`` seconds for something; None once
        the client is ended."""
        if not self.messages and not self.ended and timeout > 0:
            loop = asyncio.get_running_loop()
            self._waiter = waiter = loop.create_future()
            timer = loop.call_later(timeout, self._wake)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        if self.ended:
            return None
        batch = list(self.messages)
        self.messages.clear()
        return batch
