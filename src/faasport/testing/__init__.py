"""Helpers for testing functions with real events: ``faasport.testing``.

from faasport import aws
from faasport.testing import LambdaClient

client = LambdaClient(aws.handler(app), source="apigw-v2")
response = client.get("/items", query={"page": "2"})
assert response.status == 200 and response.json() == [...]
assert client.invoke(sqs_event("hello")) == {"batchItemFailures": []}
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from faasport.aws import context as aws_context
from faasport.testing.azure import AzureClient
from faasport.testing.events import (
    SOURCES,
    codec_for,
    event,
    http_request,
    s3_event,
    schedule_event,
    sns_event,
    sqs_event,
)
from faasport.testing.gcp import GcpClient
from faasport.testing.result import HttpClient, HttpResult

__all__ = [
    "SOURCES",
    "AzureClient",
    "GcpClient",
    "HttpClient",
    "HttpResult",
    "LambdaClient",
    "LambdaContext",
    "event",
    "http_request",
    "s3_event",
    "schedule_event",
    "sns_event",
    "sqs_event",
]


class LambdaContext(aws_context.LambdaContext):
    """The Lambda context, with test-friendly defaults and a fresh request id each time."""

    def __init__(
        self,
        function_name: str = "test-function",
        memory_limit_in_mb: int = 512,
        timeout_seconds: float = 30.0,
        aws_request_id: str | None = None,
    ) -> None:
        import time

        super().__init__(
            aws_request_id=aws_request_id or str(uuid.uuid4()),
            deadline_ms=int((time.time() + timeout_seconds) * 1000),
            invoked_function_arn=(
                f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
            ),
            function_name=function_name,
            memory_limit_in_mb=memory_limit_in_mb,
            log_group_name=f"/aws/lambda/{function_name}",
            log_stream_name=time.strftime("%Y/%m/%d") + "/[$LATEST]" + uuid.uuid4().hex,
        )


class LambdaClient(HttpClient):
    """Sends HTTP requests to a Lambda handler as ``source`` would, and reads its answer back
    the way that source does (case-insensitive ``Set-Cookie`` spellings, base64 bodies...)."""

    def __init__(self, handler: Callable[[Any, Any], Any], source: str = "apigw-v2") -> None:
        self.handler = handler
        self.source = source
        self.codec, self.stage = codec_for(source)

    def request(self, method: str, path: str = "/", **kwargs: Any) -> HttpResult:
        stage = kwargs.pop("stage", self.stage)
        payload = self.codec.build_event(http_request(method, path, **kwargs), stage)
        raw = self.handler(payload, LambdaContext())
        response = self.codec.parse_result(raw)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers]
        return HttpResult(response.status, headers, response.body, raw)

    def invoke(self, event: Any) -> Any:
        """Invoke the handler with a non-HTTP ``event`` (``sqs_event(...)``...) as Lambda
        does; its result, such as the ``batchItemFailures`` of ``events.process``."""
        return self.handler(event, LambdaContext())
