"""Running one invocation of a configured function.

:class:`RuntimeInvoker`, what the gateway and ``faasport invoke`` use, runs each function
in child-process execution environments (:mod:`faasport.local.emulator`) that import the
generated ``faasport_handler`` module, so local runs have Lambda's init, reuse, limits
and environment variables.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from faasport.core.errors import FaasportError
from faasport.core.json_text import reused_encoder
from faasport.local.activity import trigger_of
from faasport.local.emulator import Emulator, UnknownFunctionError
from faasport.local.entry import MODULE, write_entry
from faasport.local.outcome import Outcome, Status
from faasport.local.policies import STATE_VARIABLE, store_url
from faasport.local.spec import EmulatorSettings, FunctionSpec, RuntimeClientKind
from faasport.local.streaming import gathered

if TYPE_CHECKING:
    from faasport.config.model import Function, Project

Log = Callable[[str], None]

__all__ = ["InvocationError", "RuntimeInvoker", "UnknownFunctionError"]

_encode = reused_encoder(compact=True, check_circular=False)
_decode = json.JSONDecoder().decode

#: What API Gateway answers when the invocation itself failed.
GATEWAY_STATUS = {Status.TIMEOUT: 504, Status.THROTTLED: 429}


class _StderrLines:
    """Log lines for ``sys.stderr``, written at the end of the event loop's turn in one
    write with the others logged in that turn: a busy ``faasport dev`` logs three lines per
    invocation, and a write (a system call) for each cost more than the rest of the log.
    The turn that answers a request writes its lines right after the answer. Lines logged
    off an event loop are written at once (after those still held), and whatever is held
    is written at exit and by :func:`flush_stderr`."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._lock = threading.Lock()
        #: The loop that will write the held lines, and its thread.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0

    def __call__(self, line: str) -> None:
        thread = threading.get_ident()
        with self._lock:
            self._lines.append(line)
            # Its flush is due on this thread's running loop: the usual case, answered
            # without asking for the running loop (a system call per look).
            loop = self._loop
            if thread == self._thread and loop is not None and loop.is_running():
                return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        with self._lock:
            if loop is None:
                self._write()
            elif loop is not self._loop:
                self._loop, self._thread = loop, thread
                loop.call_soon(self.flush)

    def flush(self) -> None:
        with self._lock:
            self._write()

    def _write(self) -> None:
        self._loop, self._thread = None, 0
        if not self._lines:
            return
        text = "\n".join(self._lines) + "\n"
        self._lines.clear()
        stream = sys.stderr  # whatever it is now: test runners swap it
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):
            pass  # a closed terminal loses log lines, never an invocation


#: Write one log line to ``sys.stderr`` (held to the end of the turn on an event loop).
stderr_line = _StderrLines()
#: Write the log lines :func:`stderr_line` still holds.
flush_stderr = stderr_line.flush
atexit.register(flush_stderr)


class InvocationError(FaasportError):
    """The invocation failed: ``payload`` is the error document Lambda returns, and
    ``status`` what API Gateway answers for it (502 function error, 504 timeout...)."""

    def __init__(self, function: str, payload: dict[str, Any], status: int = 502) -> None:
        super().__init__(
            f'function "{function}" failed: {payload.get("errorType")}: '
            f"{payload.get('errorMessage')}"
        )
        self.function = function
        self.payload = payload
        self.status = status


def function_spec(
    project: Project, function: Function, entry: Any, runtime_client: RuntimeClientKind
) -> FunctionSpec:
    return FunctionSpec(
        name=function.name,
        handler=f"{MODULE}.{function.name}",
        task_root=project.root,
        memory=function.memory,
        timeout=float(function.timeout),
        concurrency=function.concurrency,
        warm=function.warm,
        max_concurrency=function.max_concurrency,
        # [state] url, so the function's own policies count where the gateway's do; the
        # function's environment may name another store.
        environment={STATE_VARIABLE: store_url(project), **function.environment},
        region=project.region,
        runtime_client=runtime_client,
        extra_path=(entry,),
        lambda_name=f"{project.name}-{function.name}",
        secrets=function.secrets,
        on_failure=function.on_failure,
        alias=function.alias,
    )


class RuntimeInvoker:
    def __init__(
        self,
        project: Project,
        log: Log = stderr_line,
        runtime_client: RuntimeClientKind = "faasport",
        settings: EmulatorSettings | None = None,
    ) -> None:
        self.project = project
        entry = write_entry(project)
        self.emulator = Emulator(
            [function_spec(project, f, entry, runtime_client) for f in project.functions.values()],
            log=log,
            settings=settings or EmulatorSettings(),
            source=project.source.name,
        )

    def start(self) -> None:
        self.emulator.start()

    def invoke(self, function: str, event: Any) -> Any:
        """The function's JSON result; raises :class:`InvocationError` (any thread)."""
        return self.emulator.call(self.invoke_async(function, event))

    async def invoke_async(self, function: str, event: Any) -> Any:
        """:meth:`invoke`, for coroutines running on the emulator's loop."""
        # Straight to the pool, and what invoked it read from the dict: the log need not
        # parse the encoded event again.
        cause = trigger_of(event) if isinstance(event, dict) else None
        outcome = await self.emulator.pool(function).invoke(_encode(event).encode(), trigger=cause)
        return result_of(function, outcome)

    def reload(self) -> None:
        """Fresh environments from the next invocation on (in-flight ones finish first)."""
        self.emulator.reload()

    def close(self) -> None:
        self.emulator.stop()
        flush_stderr()


def result_of(function: str, outcome: Outcome) -> Any:
    """The JSON result of an invocation; raises :class:`InvocationError` for a failure."""
    try:
        # Lambda's payloads are UTF-8: json.loads would first guess the encoding of bytes.
        payload = _decode(outcome.payload.decode()) if outcome.payload else None
        outcome.decoded = (payload,)
    except ValueError:  # not JSON, or not UTF-8 (UnicodeDecodeError)
        payload = gathered(outcome.payload) if outcome.ok else None
        if outcome.ok and payload is None:
            raise InvocationError(
                function,
                {"errorType": "Runtime.MarshalError", "errorMessage": "result is not JSON"},
            ) from None
    if outcome.ok:
        return payload
    if not isinstance(payload, dict):
        payload = {"errorType": "Runtime.Unknown", "errorMessage": str(payload)}
    raise InvocationError(function, payload, GATEWAY_STATUS.get(outcome.status, 502))
