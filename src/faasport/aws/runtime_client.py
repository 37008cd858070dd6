"""faasport's own Lambda runtime client: ``python -m faasport.aws.runtime_client``.

It speaks the AWS Lambda Runtime API at ``$AWS_LAMBDA_RUNTIME_API`` over one keep-alive
connection, imports ``$_HANDLER`` once (the init phase), then loops: next invocation, call
the handler, post the response or the error. Pure standard library, so it runs anywhere
Python does — in ``faasport dev`` and as a custom runtime's bootstrap on Lambda itself.
"""

from __future__ import annotations

import http.client
import importlib
import json
import os
import sys
import traceback

from faasport.aws.context import LambdaContext

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

PREFIX = "/2018-06-01/runtime"


def load_handler(spec: str) -> Callable[[Any, Any], Any]:
    """``"pkg.module.attr"`` (Lambda's form) or ``"pkg.module:attr"``."""
    module_name, sep, attr = spec.partition(":")
    if not sep:
        module_name, _, attr = spec.rpartition(".")
    if not module_name or not attr:
        raise ValueError(f"bad handler {spec!r}: expected 'module.function'")
    handler: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        handler = getattr(handler, part)
    if not callable(handler):
        raise TypeError(f"handler {spec!r} is not callable")
    return handler  # type: ignore[no-any-return]


def error_body(exc: BaseException) -> bytes:
    return json.dumps(
        {
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "requestId": "",
            "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)),
        }
    ).encode()


class RuntimeClient:
    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.conn = http.client.HTTPConnection(host, int(port))

    def _post(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> int:
        all_headers = {"Content-Type": "application/json"}
        all_headers.update(headers or {})
        self.conn.request("POST", PREFIX + path, body=body, headers=all_headers)
        response = self.conn.getresponse()
        response.read()
        return response.status

    def next(self) -> tuple[bytes, http.client.HTTPMessage]:
        self.conn.request("GET", PREFIX + "/invocation/next")
        response = self.conn.getresponse()
        return response.read(), response.headers

    def respond(self, request_id: str, body: bytes) -> int:
        return self._post(f"/invocation/{request_id}/response", body)

    def fail(self, request_id: str, exc: BaseException) -> int:
        return self._post(
            f"/invocation/{request_id}/error",
            error_body(exc),
            {"Lambda-Runtime-Function-Error-Type": "Unhandled"},
        )

    def init_error(self, exc: BaseException) -> int:
        return self._post(
            "/init/error",
            error_body(exc),
            {"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"},
        )


def _context(headers: http.client.HTTPMessage) -> LambdaContext:
    env = os.environ
    client_context = headers.get("Lambda-Runtime-Client-Context")
    identity = headers.get("Lambda-Runtime-Cognito-Identity")
    return LambdaContext(
        aws_request_id=headers.get("Lambda-Runtime-Aws-Request-Id", ""),
        deadline_ms=int(headers.get("Lambda-Runtime-Deadline-Ms", "0")),
        invoked_function_arn=headers.get("Lambda-Runtime-Invoked-Function-Arn", ""),
        function_name=env.get("AWS_LAMBDA_FUNCTION_NAME", ""),
        function_version=env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        memory_limit_in_mb=int(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")),
        log_group_name=env.get("AWS_LAMBDA_LOG_GROUP_NAME", ""),
        log_stream_name=env.get("AWS_LAMBDA_LOG_STREAM_NAME", ""),
        identity=json.loads(identity) if identity else None,
        client_context=json.loads(client_context) if client_context else None,
    )


def run(address: str, handler_spec: str) -> None:
    client = RuntimeClient(address)
    task_root = os.environ.get("LAMBDA_TASK_ROOT")
    if task_root and task_root not in sys.path:
        sys.path.insert(0, task_root)
    try:
        handler = load_handler(handler_spec)
    except Exception as exc:
        traceback.print_exc()
        client.init_error(exc)
        sys.exit(1)
    while True:
        body, headers = client.next()
        request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        try:
            result = handler(json.loads(body), _context(headers))
            payload = json.dumps(result).encode()
        except Exception as exc:
            traceback.print_exc()
            client.fail(request_id, exc)
            continue
        client.respond(request_id, payload)


def main() -> None:
    run(os.environ["AWS_LAMBDA_RUNTIME_API"], os.environ["_HANDLER"])


if __name__ == "__main__":
    main()
