"""Policies inside a deployed function: the same :class:`~faasport.gateway.pipeline.Pipeline`
around the canonical request, for platforms with no gateway applying them (Google Cloud,
Azure) and for what API Gateway cannot do (per-client rate limits, idempotency)::

    from faasport import gateway, gcp

    api = gcp.handler("shop.web:app", policies=gateway.policies(gateway.JwtAuthorizer(...)))

Every provider entry point takes ``policies=``, so they run the same way for an ASGI or a
WSGI app, after the health check and before the app is imported. What the policies learn
reaches the app as ``scope["faasport.authorizer"]`` / ``environ["faasport.authorizer"]``
(and ``faasport.session``), which :func:`faasport.gateway.authorizer` reads. Behind API
Gateway, the authorizer context it sends in the event is what a rate limit by ``sub`` counts.
"""

from __future__ import annotations

import os

from faasport.gateway.middleware import EXPOSED
from faasport.gateway.pipeline import Finishing, Pipeline
from faasport.gateway.request import Request, Response, note_deadline

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from typing import Any

    from faasport.core.http import HttpRequest, HttpResponse
    from faasport.core.streaming import ResponseSink
    from faasport.gateway.request import Policy

#: Overrides the store URL written into a generated entry module.
STATE_URL_VARIABLE = "FAASPORT_STATE_URL"


class FunctionPolicies:
    """``policies`` run in this order around the app of a provider entry point."""

    def __init__(self, *policies: Policy) -> None:
        self.pipeline = Pipeline(policies)

    def run(
        self, request: HttpRequest, serve: Callable[[HttpRequest], HttpResponse]
    ) -> HttpResponse:
        def call(view: Request) -> Response:
            _expose(view, request)
            return _view_response(serve(request))

        return _canonical(self.pipeline.run(_view(request), call))

    async def run_async(
        self, request: HttpRequest, serve: Callable[[HttpRequest], Awaitable[HttpResponse]]
    ) -> HttpResponse:
        """:meth:`run` on an event loop: the policies' own work (a store, a key set fetch)
        runs in the loop's default executor, so it never holds the loop."""
        import asyncio

        loop = asyncio.get_running_loop()

        async def call(view: Request) -> Response:
            _expose(view, request)
            return _view_response(await serve(request))

        async def off_loop(function: Callable[..., Any], *args: Any) -> Any:
            return await loop.run_in_executor(None, function, *args)

        answer = await self.pipeline.run_threaded(_view(request), call, off_loop)
        return _canonical(answer)

    def stream(
        self, request: HttpRequest, sink: ResponseSink, serve: Callable[[ResponseSink], None]
    ) -> None:
        """:meth:`run` for a streamed response: ``serve(sink)`` hands the app's response to
        ``sink`` as it comes. The policies finish it when its head is known (a policy that
        needs the body, as idempotency does, gets it once the stream has ended whole, see
        :class:`~faasport.gateway.request.StreamedBody`); the body goes on as it comes."""
        view = _view(request)
        pipeline = self.pipeline
        entered, answer = pipeline.enter(view)
        if answer is not None:
            whole = _canonical(pipeline.leave(entered, view, answer))
            sink.start(whole.status, whole.headers)
            if whole.body:
                sink.write(whole.body)
            sink.end()
            return
        _expose(view, request)
        finishing = Finishing(pipeline, entered, view)
        try:
            serve(_FinishingSink(sink, finishing))
        finally:
            finishing.ended(whole=False)  # unless the sink ended it whole


class _FinishingSink:
    """The sink the app streams into behind the policies: they finish the response when its
    head comes (``start``), and a policy that asked for the body gets it at the end."""

    def __init__(self, sink: ResponseSink, finishing: Finishing) -> None:
        self.sink = sink
        self.finishing = finishing

    @property
    def started(self) -> bool:
        return self.sink.started

    def start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        text = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
        answer = self.finishing.head(Response(status, text), streams=True)
        self.sink.start(
            answer.status, [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
        )

    def write(self, chunk: bytes) -> None:
        self.finishing.keep(chunk)
        self.sink.write(chunk)

    def end(self) -> None:
        self.sink.end()
        self.finishing.ended(whole=True)


def policies(*policies: Policy) -> FunctionPolicies:
    """``policies`` as the ``policies=`` option of ``aws.handler``, ``gcp.handler`` and
    ``azure.function_app``."""
    return FunctionPolicies(*policies)


def store_url(configured: str) -> str:
    """The store policies keep their state in: ``FAASPORT_STATE_URL`` when it is set, else
    ``configured``; a relative SQLite path goes under the temporary directory, the one
    place a function may write (each instance then counts alone)."""
    url = os.environ.get(STATE_URL_VARIABLE) or configured
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        path = url[len(prefix) :]
        if not path.startswith(":memory:"):
            import tempfile

            return prefix + os.path.join(tempfile.gettempdir(), "faasport", path)
    return url


def _view(request: HttpRequest) -> Request:
    headers: dict[str, str] = {}
    text = request.text_headers
    if text is not None:
        pairs = text.items() if isinstance(text, dict) else text
        for name, value in pairs:
            _add(headers, name.lower(), value)
    else:
        for raw_name, raw_value in request.headers:
            _add(headers, raw_name.decode("latin-1"), raw_value.decode("latin-1"))
    client = request.client
    view = Request(
        request.method,
        request.path,
        headers,
        client[0] if client else "",
        request.query_string.decode("latin-1"),
        request.body,
    )
    note_deadline(view, request.extras.get("aws.context"))
    # Behind API Gateway its authorizer has run and a REST API's usage plan has checked the
    # key: a rate limit by subject or key counts their verdicts.
    event = request.extras.get("aws.event")
    if isinstance(event, dict):
        context = event.get("requestContext")
        if isinstance(context, dict):
            if isinstance(context.get("authorizer"), dict):
                view.context["authorizer"] = context["authorizer"]
            identity = context.get("identity")
            if isinstance(identity, dict) and isinstance(identity.get("apiKey"), str):
                view.context["api_key"] = {
                    "apiKey": identity["apiKey"],
                    "apiKeyId": identity.get("apiKeyId"),
                }
    return view


def _add(headers: dict[str, str], name: str, value: str) -> None:
    if name in headers:
        headers[name] += ("; " if name == "cookie" else ", ") + value
    else:
        headers[name] = value


def _expose(view: Request, request: HttpRequest) -> None:
    for name, key in EXPOSED.items():
        if name in view.context:
            request.extras[key] = view.context[name]


def _view_response(response: HttpResponse) -> Response:
    text = response.text_headers
    if text is not None:
        headers = list(text)
    else:
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers]
    return Response(response.status, headers, response.body)


def _canonical(response: Response) -> HttpResponse:
    from faasport.core.http import HttpResponse

    return HttpResponse(response.status, body=response.body, text_headers=response.headers)
