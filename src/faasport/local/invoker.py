"""Running one invocation of a configured function.

:class:`Invoker` is what the gateway and ``faasport invoke`` depend on. :class:`InProcessInvoker`
runs every function inside this process: one ``aws.handler`` per function, created on its
first invocation (Lambda's init phase) and then reused, one invocation at a time, like a
single warm execution environment. The child-process pool (:mod:`faasport.local.runtime`)
can stand behind the same protocol.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from faasport.core.errors import FaasportError
from faasport.local.outcome import Outcome, Status

if TYPE_CHECKING:
    from faasport.aws import LambdaHandler
    from faasport.config.model import Function, Project

Log = Callable[[str], None]


def stderr_line(line: str) -> None:
    """Write one log line to whatever ``sys.stderr`` is now (test runners swap it)."""
    stream = sys.stderr
    stream.write(line + "\n")
    stream.flush()


class UnknownFunctionError(FaasportError, LookupError):
    """The name is not one of the project's functions."""


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


class Invoker(Protocol):
    def invoke(self, function: str, event: Any) -> Any:
        """The function's JSON-compatible result; raises :class:`InvocationError`."""

    def close(self) -> None:
        """Stop every environment (ASGI lifespan shutdown...)."""


def max_memory_used_mb() -> int:
    """Peak resident memory of this process in MB (0 where the platform cannot say)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return peak // (1024 * 1024) if sys.platform == "darwin" else peak // 1024


class _Environment:
    def __init__(self, function: Function, handler: LambdaHandler, init_ms: float) -> None:
        self.function = function
        self.handler = handler
        self.init_ms: float | None = init_ms
        self.lock = threading.Lock()


def _error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    stack = traceback.format_list(traceback.extract_tb(exc.__traceback__))
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": [frame.rstrip("\n") for frame in stack],
    }


class InProcessInvoker:
    def __init__(self, project: Project, log: Log = stderr_line) -> None:
        self.project = project
        self.log = log
        self._environments: dict[str, _Environment] = {}
        self._lock = threading.Lock()
        root = str(project.root)
        if root not in sys.path:
            # "phoney.main:app" is imported relative to the project root, as on Lambda.
            sys.path.insert(0, root)

    def function(self, name: str) -> Function:
        function = self.project.functions.get(name)
        if function is None:
            known = ", ".join(self.project.functions) or "none"
            raise UnknownFunctionError(
                f'unknown function "{name}"; the functions in {self.project.source.name} '
                f"are: {known}"
            )
        return function

    def _environment(self, name: str) -> _Environment:
        env = self._environments.get(name)
        if env is not None:
            return env
        function = self.function(name)
        with self._lock:
            env = self._environments.get(name)
            if env is None:
                from faasport import aws

                started = time.perf_counter()
                handler = aws.handler(function.target, health_path=function.health)
                if function.handler is not None:
                    # Lambda imports a plain handler's module during init; an app stays
                    # lazy (aws.handler imports it on the first request that needs it).
                    handler.runner.load()
                init_ms = (time.perf_counter() - started) * 1000
                env = self._environments[name] = _Environment(function, handler, init_ms)
        return env

    def invoke(self, function: str, event: Any) -> Any:
        from faasport.testing import LambdaContext

        env = self._environment(function)
        config = env.function
        with env.lock:
            request_id = str(uuid.uuid4())
            context = LambdaContext(
                function_name=f"{self.project.name}-{config.name}",
                memory_limit_in_mb=config.memory,
                timeout_seconds=config.timeout,
                aws_request_id=request_id,
            )
            init_ms, env.init_ms = env.init_ms, None
            self.log(f"START RequestId: {request_id} Version: $LATEST")
            started = time.perf_counter()
            result, error = self._call(env.handler, event, context, request_id)
            outcome = Outcome(
                request_id=request_id,
                status=Status.OK if error is None else Status.FUNCTION_ERROR,
                payload=b"",
                duration_ms=(time.perf_counter() - started) * 1000,
                init_ms=init_ms,
                max_memory_mb=max_memory_used_mb(),
                memory_mb=config.memory,
            )
            self.log(f"END RequestId: {request_id}")
            self.log(outcome.report())
        if error is not None:
            raise InvocationError(function, error)
        return result

    def _call(
        self, handler: LambdaHandler, event: Any, context: Any, request_id: str
    ) -> tuple[Any, dict[str, Any] | None]:
        try:
            raw = handler(event, context)
        except Exception as exc:
            error = _error_payload(exc, request_id)
            self.log(f"[ERROR] {error['errorType']}: {error['errorMessage']}")
            self.log("".join(traceback.format_exception(exc)).rstrip())
            return None, error
        try:
            # Lambda sends results as JSON: what does not survive that is an error.
            return json.loads(json.dumps(raw)), None
        except (TypeError, ValueError) as exc:
            message = f"Unable to marshal response: {exc}"
            self.log(f"[ERROR] Runtime.MarshalError: {message}")
            error = {
                "errorMessage": message,
                "errorType": "Runtime.MarshalError",
                "requestId": request_id,
                "stackTrace": [],
            }
            return None, error

    def close(self) -> None:
        with self._lock:
            environments = list(self._environments.values())
            self._environments.clear()
        for env in environments:
            env.handler.runner.shutdown()
