"""One execution environment: a supervised child process running a Lambda runtime client
against its own Runtime API, with the function's timeout and memory limit enforced.

Inert until :meth:`Environment.start`. Stopping follows Lambda's shutdown: when the runtime
registered an extension it gets SIGTERM and ``shutdown_grace`` seconds (ASGI lifespan
shutdown runs then), otherwise it is killed at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
import uuid
from pathlib import Path

from faasport.aws.runtime_client import SOCKET_VARIABLE
from faasport.core.errors import FaasportError
from faasport.local.outcome import Status, error_payload
from faasport.local.runtime_api import Invocation, RuntimeApi
from faasport.local.spec import FunctionSpec
from faasport.local.supervisor import Log, Supervisor
from faasport.secrets.local import local_environment

#: What the shell passes on to every environment, as Lambda passes its own.
_INHERITED = ("PATH", "HOME", "LANG", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE")


class InitFailed(Exception):
    def __init__(self, payload: bytes) -> None:
        super().__init__(payload.decode("utf-8", "replace"))
        self.payload = payload


class Environment:
    def __init__(
        self,
        spec: FunctionSpec,
        generation: int,
        log: Log,
        *,
        provisioned: bool = False,
        shutdown_grace: float = 0.5,
        socket_path: Path | None = None,
    ) -> None:
        self.spec = spec
        #: Started ahead of demand (``warm``): Lambda's provisioned concurrency.
        self.provisioned = provisioned
        self.generation = generation
        self.shutdown_grace = shutdown_grace
        self.socket_path = socket_path
        self.api = RuntimeApi(spec.arn, spec.function_name, spec.handler)
        self._log = log
        self.supervisor = Supervisor(self._output)
        self.supervisor.on_exit(self._exited)
        self.init_ms: float | None = None
        self.invocations = 0
        #: Invocations running in it now (up to the function's ``max_concurrency``).
        self.active = 0
        self._killed = False
        #: The loop it was started on (asking for the running loop costs a system call).
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def alive(self) -> bool:
        return self.supervisor.running and not self._killed

    @property
    def pid(self) -> int:
        return self.supervisor.pid

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Spawn the runtime and wait for its first ``/next`` (the end of init).

        Raises :class:`InitFailed` with Lambda's error payload when init fails.
        """
        self._loop = asyncio.get_running_loop()
        started = time.perf_counter()
        try:  # read at every start, so edits reach the next new environment
            secrets = local_environment(self.spec.task_root, os.environ, self.spec.secrets)
        except FaasportError as exc:
            raise InitFailed(error_payload(str(exc), type(exc).__name__)) from None
        environ = self._environ(await self.api.serve_tcp())
        if self.socket_path is not None and self.spec.runtime_client == "faasport":
            await self.api.serve_unix(str(self.socket_path))
            environ[SOCKET_VARIABLE] = str(self.socket_path)
        await self.supervisor.start(self._command(), {**environ, **secrets}, self.spec.task_root)
        ready = asyncio.ensure_future(self.api.ready.wait())
        exited = asyncio.ensure_future(self.supervisor.exited.wait())
        await asyncio.wait([ready, exited], return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        exited.cancel()
        if not self.api.ready.is_set() or not self.supervisor.running:
            raise InitFailed(
                self.api.init_error
                or error_payload(
                    f"Runtime exited with error: {self.supervisor.exit_text()}",
                    "Runtime.ExitError",
                )
            )
        self.init_ms = (time.perf_counter() - started) * 1000

    def kill(self) -> None:
        self._killed = True
        self.supervisor.kill()

    async def close(self) -> None:
        """Lambda's shutdown phase: SIGTERM and a grace period when an extension registered
        (Lambda signals the runtime only then), else SIGKILL."""
        grace = self.shutdown_grace if self.api.extensions and not self._killed else 0.0
        # The runtime's long-poll stays open through the grace period, as on Lambda.
        await self.supervisor.stop(grace)
        self._killed = True
        self.api.close()
        if self.socket_path is not None:
            with contextlib.suppress(OSError):
                self.socket_path.unlink()

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
            if k in _INHERITED
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
        if spec.max_concurrency > 1:
            # Lambda Managed Instances: the runtime may poll /next this many times at once.
            environ["AWS_LAMBDA_MAX_CONCURRENCY"] = str(spec.max_concurrency)
        environ.update(spec.environment)
        return environ

    def _output(self, line: str) -> None:
        current = self.api.current
        if current is not None and current.log is not None:
            current.log.append(line)
        self._log(line)

    def _exited(self) -> None:
        self.api.close()
        for current in list(self.api.inflight.values()):
            if current.result is not None and not current.result.done():
                current.result.set_result(
                    (
                        Status.CRASH,
                        error_payload(
                            f"RequestId: {current.request_id} Error: Runtime exited with error: "
                            f"{self.supervisor.exit_text()}",
                            "Runtime.ExitError",
                        ),
                    )
                )

    # -- invocations --------------------------------------------------------------------

    async def invoke(self, invocation: Invocation) -> tuple[Status, bytes, float]:
        """Run one invocation; returns its status, payload and duration in ms."""
        loop = self._loop or asyncio.get_running_loop()
        result = invocation.result = loop.create_future()
        self.invocations += 1
        started = time.perf_counter()
        timer = loop.call_later(self.spec.timeout, self._time_out, invocation)
        self.api.submit(invocation)
        try:
            status, payload = await result
            # What the runtime printed before it answered may still sit in the pipe: read
            # now, the function's lines come before its END and REPORT (and before the
            # one-line summary), in the log as in LogType=Tail.
            self.supervisor.drain()
        finally:
            timer.cancel()
            self.api.finished(invocation)
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
        limit = self.spec.memory
        if not self.api.inflight or self.supervisor.rss() <= limit:
            return
        for invocation in list(self.api.inflight.values()):
            result = invocation.result
            if result is not None and not result.done():
                result.set_result(
                    (
                        Status.CRASH,
                        error_payload(
                            f"RequestId: {invocation.request_id} Error: Runtime exited with "
                            f"error: signal: killed (memory limit of {limit} MB exceeded)",
                            "Runtime.OutOfMemory",
                        ),
                    )
                )
        self.kill()
