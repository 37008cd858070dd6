"""One execution environment: a child process running a Lambda runtime client against its
own Runtime API endpoint, served here on a loopback port.

Everything runs on the local runtime's event loop. An invocation is handed to the waiting
``/next`` long-poll through a queue (no polling), and its outcome comes back through a
future resolved by ``/response``, ``/error`` or the process's exit.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faasport.core.errors import FaasportError
from faasport.local.http11 import BadRequest, Request, read_request, response
from faasport.local.metric_lines import readable
from faasport.local.outcome import Status, error_payload
from faasport.local.spec import FunctionSpec
from faasport.secrets.local import local_environment

PREFIX = "/2018-06-01/runtime"
MAX_PAYLOAD = 6 * 1024 * 1024
#: Bodies past this are refused unread and the connection is closed.
MAX_READ = 64 * 1024 * 1024
#: How often busy environments' resident memory is compared with their limit.
MEMORY_CHECK_SECONDS = 0.02

Log = Callable[[str], None]


@dataclass(slots=True)
class Invocation:
    payload: bytes
    deadline_ms: int
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_context: str | None = None
    trace_id: str = field(
        default_factory=lambda: f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()};Sampled=0"
    )
    result: asyncio.Future[tuple[Status, bytes]] | None = None


def _json_error(status: int, message: str, error_type: str) -> bytes:
    return response(
        status, [("content-type", "application/json")], error_payload(message, error_type)
    )


def _accepted() -> bytes:
    return response(202, [("content-type", "application/json")], b'{"status":"OK"}')


class ProcessMemory:
    """Resident memory of a process from ``/proc/<pid>/status``, kept open: re-reading an
    open proc file from offset 0 gives fresh numbers without an open() per look."""

    def __init__(self, pid: int) -> None:
        try:
            self._fd: int | None = os.open(f"/proc/{pid}/status", os.O_RDONLY)
        except OSError:  # not Linux, or already gone
            self._fd = None

    def read(self, field_name: bytes) -> int:
        """``b"VmRSS"`` or ``b"VmHWM"`` in MB; 0 when unknown."""
        if self._fd is None:
            return 0
        try:
            status = os.pread(self._fd, 8192, 0)
            start = status.index(field_name + b":") + len(field_name) + 1
            return int(status[start : status.index(b"kB", start)]) // 1024
        except (OSError, ValueError):
            return 0

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    os.setsid()
    if sys.platform == "linux":
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: no orphans if we are killed


class Environment:
    def __init__(
        self, spec: FunctionSpec, generation: int, log: Log, provisioned: bool = False
    ) -> None:
        self.spec = spec
        #: Started ahead of demand (``warm``): Lambda's provisioned concurrency.
        self.provisioned = provisioned
        self.generation = generation
        self.log = log
        self.process: asyncio.subprocess.Process | None = None
        self.server: asyncio.Server | None = None
        #: None is the sentinel close() sends to end a /next long-poll.
        self.inbox: asyncio.Queue[Invocation | None] = asyncio.Queue()
        self.current: Invocation | None = None
        self.ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.exited: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.init_ms: float | None = None
        self.invocations = 0
        self._init_error: bytes | None = None
        self.memory = ProcessMemory(-1)
        self._killed = False
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def alive(self) -> bool:
        return self.process is not None and not self._killed and not self.exited.done()

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else 0

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Spawn the runtime and wait for its first ``/next`` (the end of init).

        Raises :class:`InitFailed` with Lambda's error payload when init fails.
        """
        started = time.perf_counter()
        try:  # read at every start, so edits reach the next new environment
            secrets = local_environment(self.spec.task_root, os.environ)
        except FaasportError as exc:
            raise InitFailed(error_payload(str(exc), type(exc).__name__)) from None
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.process = await asyncio.create_subprocess_exec(
            *self._command(),
            env={**self._environ(f"127.0.0.1:{port}"), **secrets},
            cwd=str(self.spec.task_root),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        self.memory = ProcessMemory(self.process.pid)
        self._spawn(self._watch_exit())
        self._spawn(self._forward_output())
        await asyncio.wait([self.ready, self.exited], return_when=asyncio.FIRST_COMPLETED)
        if not self.ready.done():
            detail = self._init_error or error_payload(
                f"Runtime exited with error: {self._exit_text()}", "Runtime.ExitError"
            )
            raise InitFailed(detail)
        self.init_ms = (time.perf_counter() - started) * 1000

    def kill(self) -> None:
        self._killed = True
        if self.process is not None and self.process.returncode is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.process.kill()

    async def close(self) -> None:
        self.inbox.put_nowait(None)
        self.kill()
        if self.process is not None:
            await self.exited
        if self.server is not None:
            self.server.close()
        for task in list(self._tasks):
            task.cancel()

    def _command(self) -> list[str]:
        if self.spec.runtime_client == "awslambdaric":
            return [sys.executable, "-m", "awslambdaric", self.spec.handler]
        return [sys.executable, "-m", "faasport.aws.runtime_client"]

    def _environ(self, api: str) -> dict[str, str]:
        spec = self.spec
        path = [str(spec.task_root), *(str(p) for p in spec.extra_path)]
        inherited = {
            k: v
            for k, v in os.environ.items()
            if k in ("PATH", "HOME", "LANG", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE")
            or k.startswith(("AWS_ACCESS_KEY", "AWS_SECRET", "AWS_SESSION", "AWS_PROFILE"))
        }
        stream = time.strftime("%Y/%m/%d") + "/[$LATEST]" + uuid.uuid4().hex
        environ = {
            **inherited,
            "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_LAMBDA_RUNTIME_API": api,
            "AWS_LAMBDA_INITIALIZATION_TYPE": (
                "provisioned-concurrency" if self.provisioned else "on-demand"
            ),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info[0]}.{sys.version_info[1]}",
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "LAMBDA_TASK_ROOT": str(spec.task_root),
            "LAMBDA_RUNTIME_DIR": str(Path(sys.executable).parent),
            "_HANDLER": spec.handler,
            "TZ": ":UTC",
            "PYTHONPATH": os.pathsep.join(path),
            "PYTHONUNBUFFERED": "1",
        }
        environ.update(spec.environment)
        return environ

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _watch_exit(self) -> None:
        assert self.process is not None
        code = await self.process.wait()
        self.exited.set_result(code)
        self.memory.close()
        current = self.current
        if current is not None and current.result is not None and not current.result.done():
            current.result.set_result(
                (
                    Status.CRASH,
                    error_payload(
                        f"RequestId: {current.request_id} Error: Runtime exited with error: "
                        f"{self._exit_text()}",
                        "Runtime.ExitError",
                    ),
                )
            )
        if self.server is not None:
            self.server.close()

    def _exit_text(self) -> str:
        code = self.process.returncode if self.process else None
        if code is None:
            return "unknown"
        if code < 0:
            return f"signal: {signal.Signals(-code).name.lower().removeprefix('sig')}"
        return f"exit status {code}"

    async def _forward_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        stdout = self.process.stdout
        while line := await stdout.readline():
            self.log(readable(line.decode("utf-8", "replace").rstrip("\n")))

    # -- invocations --------------------------------------------------------------------

    async def invoke(self, invocation: Invocation) -> tuple[Status, bytes, float]:
        """Run one invocation; returns its status, payload and duration in ms."""
        loop = asyncio.get_running_loop()
        result = invocation.result = loop.create_future()
        self.invocations += 1
        started = time.perf_counter()
        timer = loop.call_later(self.spec.timeout, self._time_out, invocation)
        self.inbox.put_nowait(invocation)
        try:
            status, payload = await result
        finally:
            timer.cancel()
            self.current = None
        return status, payload, (time.perf_counter() - started) * 1000

    def _time_out(self, invocation: Invocation) -> None:
        result = invocation.result
        if result is None or result.done():
            return
        result.set_result(
            (
                Status.TIMEOUT,
                error_payload(
                    f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} "
                    f"{invocation.request_id} Task timed out after {self.spec.timeout:.2f} "
                    "seconds",
                    "Sandbox.Timedout",
                ),
            )
        )
        self.kill()

    def check_memory(self) -> None:
        """Kill the environment if its resident memory is over the function's limit."""
        invocation = self.current
        limit = self.spec.memory
        if invocation is None or self.memory.read(b"VmRSS") <= limit:
            return
        result = invocation.result
        if result is not None and not result.done():
            result.set_result(
                (
                    Status.CRASH,
                    error_payload(
                        f"RequestId: {invocation.request_id} Error: Runtime exited with error: "
                        f"signal: killed (memory limit of {limit} MB exceeded)",
                        "Runtime.OutOfMemory",
                    ),
                )
            )
        self.kill()

    # -- the Runtime API ------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A runtime client that pipelines (posts its response and asks for the next
        # invocation in one write) gets the 202 together with the next invocation: one send
        # instead of two. Answers wait only while the next request is already buffered, so
        # clients that wait for each answer are never kept waiting.
        pending = b""
        try:
            while True:
                if pending and not _buffered(reader):
                    writer.write(pending)
                    pending = b""
                try:
                    request = await read_request(reader, MAX_READ)
                except BadRequest as exc:
                    writer.write(pending + _json_error(exc.status, str(exc), "InvalidRequest"))
                    break
                if request is None:
                    break
                answer = pending + await self._route(request)
                if request.keep_alive and _buffered(reader):
                    pending = answer
                    continue
                pending = b""
                writer.write(answer)
                if not request.keep_alive:
                    break
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            if pending and not writer.is_closing():
                writer.write(pending)
            writer.close()

    async def _route(self, request: Request) -> bytes:
        path = request.path
        if not path.startswith(PREFIX):
            return _json_error(404, "not found", "NotFound")
        path = path[len(PREFIX) :]
        if path == "/invocation/next" and request.method == "GET":
            return await self._next()
        if path == "/init/error" and request.method == "POST":
            self._init_error = request.body or error_payload("init failed", "Runtime.Unknown")
            return _accepted()
        parts = path.split("/")
        if len(parts) == 4 and parts[1] == "invocation" and request.method == "POST":
            return self._finish(parts[2], parts[3], request)
        return _json_error(404, f"no such Runtime API route: {request.method} {path}", "NotFound")

    async def _next(self) -> bytes:
        if not self.ready.done():
            self.ready.set_result(None)
        invocation = await self.inbox.get()
        if invocation is None:
            raise ConnectionAbortedError("environment closed")
        self.current = invocation
        headers = [
            ("content-type", "application/json"),
            ("lambda-runtime-aws-request-id", invocation.request_id),
            ("lambda-runtime-deadline-ms", str(invocation.deadline_ms)),
            ("lambda-runtime-invoked-function-arn", self.spec.arn),
            ("lambda-runtime-trace-id", invocation.trace_id),
        ]
        if invocation.client_context:
            headers.append(("lambda-runtime-client-context", invocation.client_context))
        return response(200, headers, invocation.payload)

    def _finish(self, request_id: str, kind: str, request: Request) -> bytes:
        current = self.current
        if kind not in ("response", "error"):
            return _json_error(404, f"no such Runtime API route: {kind}", "NotFound")
        if current is None or current.result is None or current.result.done():
            return _json_error(
                403, "no invocation is in progress in this environment", "InvalidStateTransition"
            )
        if request_id != current.request_id:
            return _json_error(
                400, f"request id {request_id} is not the current invocation", "InvalidRequestID"
            )
        if kind == "error":
            current.result.set_result((Status.FUNCTION_ERROR, request.body))
            return _accepted()
        if len(request.body) > MAX_PAYLOAD:
            current.result.set_result(
                (
                    Status.TOO_LARGE,
                    error_payload(
                        f"Response payload size ({len(request.body)} bytes) exceeded maximum "
                        f"allowed payload size ({MAX_PAYLOAD} bytes).",
                        "Function.ResponseSizeTooLarge",
                    ),
                )
            )
            return _json_error(
                413,
                f"Exceeded maximum allowed payload size ({MAX_PAYLOAD} bytes).",
                "RequestEntityTooLarge",
            )
        current.result.set_result((Status.OK, request.body))
        return _accepted()


def _buffered(reader: asyncio.StreamReader) -> bool:
    """Whether the client has already sent more than the request just read."""
    buffer = getattr(reader, "_buffer", None)
    return bool(buffer)


class InitFailed(Exception):
    def __init__(self, payload: bytes) -> None:
        super().__init__(payload.decode("utf-8", "replace"))
        self.payload = payload
