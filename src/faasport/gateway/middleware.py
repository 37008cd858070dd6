"""Policies as ASGI and WSGI middleware, so a function behind any front end (Google Cloud,
Azure, a bare Lambda Function URL) enforces what API Gateway would::

    from faasport import gateway

    app = gateway.asgi(app, gateway.Cors(origins=[...]), gateway.JwtAuthorizer(...))

The request body is read before the policies run (idempotency may hash it) and the app's
response is collected before it is sent (policies add headers, idempotency stores it): a
function's response is buffered by the platform anyway. ``scope`` / ``environ`` get
``"faasport.authorizer"`` and ``"faasport.session"`` when a policy set them.
"""

from __future__ import annotations

from faasport.gateway.pipeline import Pipeline
from faasport.gateway.request import Policy, Request, Response

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable
    from typing import Any

    Scope = dict[str, Any]
    Message = dict[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]
    ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
    WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: What reaches the app from ``Request.context``: context key -> scope / environ key.
EXPOSED = {"authorizer": "faasport.authorizer", "session": "faasport.session"}


def asgi(app: ASGIApp, *policies: Policy) -> ASGIApp:
    """``app`` behind ``policies`` (run in this order); non-HTTP scopes pass through."""
    pipeline = Pipeline(policies)

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        headers: dict[str, str] = {}
        for key, value in scope.get("headers", ()):
            _add(headers, key.decode("latin-1").lower(), value.decode("latin-1"))
        client = scope.get("client")
        # Routes are matched without the prefix in front of the app (stage, routePrefix).
        path, root = scope.get("path", "/"), scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        request = Request(
            scope["method"],
            path,
            headers,
            client[0] if client else "",
            scope.get("query_string", b"").decode("latin-1"),
            body,
        )

        async def call(request: Request) -> Response:
            inner = dict(scope)
            for name, key in EXPOSED.items():
                if name in request.context:
                    inner[key] = request.context[name]
            sent = False

            async def replay() -> Message:
                nonlocal sent
                if sent:
                    return await receive()
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            response = Response(500)
            parts: list[bytes] = []

            async def collect(message: Message) -> None:
                if message["type"] == "http.response.start":
                    response.status = message["status"]
                    response.headers = [
                        (k.decode("latin-1").lower(), v.decode("latin-1"))
                        for k, v in message.get("headers", ())
                    ]
                elif message["type"] == "http.response.body":
                    parts.append(message.get("body", b""))

            await app(inner, replay, collect)
            response.body = b"".join(parts)
            return response

        answer = await pipeline.run_async(request, call)
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers],
            }
        )
        await send({"type": "http.response.body", "body": answer.body})

    return middleware


def wsgi(app: WSGIApp, *policies: Policy) -> WSGIApp:
    """``app`` behind ``policies`` (run in this order)."""
    from io import BytesIO

    pipeline = Pipeline(policies)

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        headers: dict[str, str] = {}
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                _add(headers, key[5:].replace("_", "-").lower(), value)
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = environ[key]
        request = Request(
            environ.get("REQUEST_METHOD", "GET"),
            environ.get("PATH_INFO", "/"),
            headers,
            environ.get("REMOTE_ADDR", ""),
            environ.get("QUERY_STRING", ""),
            body,
        )

        def call(request: Request) -> Response:
            inner = dict(environ)
            inner["wsgi.input"] = BytesIO(body)
            for name, key in EXPOSED.items():
                if name in request.context:
                    inner[key] = request.context[name]
            response = Response(500)
            written: list[bytes] = []

            def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                response.status = int(status.split(" ", 1)[0])
                response.headers = [(k.lower(), v) for k, v in headers]
                return written.append

            result = app(inner, start)
            try:
                response.body = b"".join([*written, *result])
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            return response

        answer = pipeline.run(request, call)
        from http import HTTPStatus

        try:
            reason = HTTPStatus(answer.status).phrase
        except ValueError:
            reason = "Unknown"
        start_response(f"{answer.status} {reason}", answer.headers)
        return [answer.body]

    return middleware


def _add(headers: dict[str, str], name: str, value: str) -> None:
    if name in headers:
        headers[name] += ("; " if name == "cookie" else ", ") + value
    else:
        headers[name] = value


def authorizer(carrier: dict[str, Any]) -> dict[str, Any] | None:
    """What the authorizer said about this request, as API Gateway's
    ``requestContext.authorizer`` (``{"jwt": {"claims": ..., "scopes": ...}}``): from the
    middleware, or from the Lambda event when API Gateway authorized it. ``carrier`` is the
    ASGI scope or the WSGI environ."""
    found = carrier.get("faasport.authorizer")
    if found is not None:
        return dict(found)
    event = carrier.get("aws.event") or carrier.get("faasport.event")
    if isinstance(event, dict):
        context = event.get("requestContext")
        if isinstance(context, dict) and isinstance(context.get("authorizer"), dict):
            return dict(context["authorizer"])
    return None


def session(carrier: dict[str, Any]) -> Any:
    """The :class:`~faasport.gateway.sessions.Session` of this request (ASGI scope or
    WSGI environ), or None without the sessions policy."""
    return carrier.get("faasport.session")
