"""The gateway: ``/<service>/...`` forwarded to the upstream ``UPSTREAM_<SERVICE>`` behind
CORS, a JWT authorizer, a global throttle, a per-client rate limit and sessions, all kept in
the state store at ``FAASPORT_STATE_URL``; ``/health/live`` and ``/health/ready`` outside
them."""

from __future__ import annotations

import logging
from typing import Any, cast

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api_gateway import health
from api_gateway.settings import Settings
from api_gateway.tracing import outgoing, request_id
from api_gateway.upstreams import (
    Upstreams,
    UpstreamTimeout,
    UpstreamUnreachable,
    request_headers,
    response_headers,
)
from faasport import gateway

log = logging.getLogger("api_gateway")

Scope = dict[str, Any]
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _error(status: int, message: str, rid: str, **extra: str) -> JSONResponse:
    return JSONResponse(
        {"message": message, "requestId": rid, **extra},
        status_code=status,
        headers={"x-request-id": rid},
    )


def _scope(request: Request) -> Scope:
    # Starlette types the scope as a MutableMapping; faasport's helpers read a dict.
    return cast(Scope, request.scope)


def _client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def create_app(settings: Settings) -> Any:
    """The ASGI app for ``settings``: no connection is opened before a request needs it."""
    upstreams = Upstreams(settings.timeout)

    async def forward(request: Request) -> Response:
        service = request.path_params["service"]
        rid = request_id(_scope(request), request.headers.get("x-request-id"))
        base = settings.upstreams.get(service)
        if base is None:
            return _error(404, "Not Found", rid)
        rest = request.path_params.get("rest", "")
        url = f"{base}/{rest}" if rest else base
        if request.url.query:
            url = f"{url}?{request.url.query}"
        claims = (gateway.authorizer(_scope(request)) or {}).get("jwt", {}).get("claims", {})
        added = {
            "x-request-id": rid,
            "x-forwarded-for": _client_address(request),
            "x-forwarded-proto": request.headers.get("x-forwarded-proto", request.url.scheme),
            "x-forwarded-host": request.headers.get("host", ""),
            "x-authenticated-subject": str(claims.get("sub", "")),
            **outgoing(request.headers.get("traceparent")),
        }
        headers = request_headers(
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]],
            added,
        )
        session = gateway.session(_scope(request))
        session["requests"] = int(session.get("requests", 0)) + 1
        session["last_service"] = service
        try:
            answer = await upstreams.forward(request.method, url, headers, await request.body())
        except UpstreamTimeout:
            log.warning(
                "upstream %s timed out after %ss (request %s)", service, settings.timeout, rid
            )
            return _error(504, "Upstream timed out", rid, upstream=service)
        except UpstreamUnreachable:
            log.warning("upstream %s unreachable (request %s)", service, rid)
            return _error(502, "Upstream unreachable", rid, upstream=service)
        response = Response(answer.body, status_code=answer.status)
        for name, value in response_headers(answer.headers):
            response.headers.append(name, value)
        response.headers["x-request-id"] = rid
        return response

    async def show_session(request: Request) -> Response:
        session = gateway.session(_scope(request))
        if request.method == "DELETE":
            session.clear()
            return Response(status_code=204)
        return JSONResponse(dict(session))

    routed = Starlette(
        routes=[
            Route("/session", show_session, methods=["GET", "DELETE"]),
            Route("/{service}", forward, methods=METHODS),
            Route("/{service}/{rest:path}", forward, methods=METHODS),
        ]
    )
    policies: list[gateway.Policy] = []
    if settings.cors_origins:
        policies.append(
            gateway.Cors(
                origins=list(settings.cors_origins),
                methods=METHODS,
                headers=["authorization", "content-type", "x-request-id", "traceparent"],
                expose_headers=["x-request-id", "ratelimit-limit", "ratelimit-remaining"],
                credentials=True,
            )
        )
    policies += [
        gateway.JwtAuthorizer(
            issuer=settings.jwt_issuer, audience=list(settings.jwt_audience), jwks=settings.jwks
        ),
        gateway.Throttle(
            settings.state_url, rate=settings.throttle_rate, burst=settings.throttle_burst
        ),
        gateway.RateLimit(settings.state_url, rate=settings.client_rate, per="minute", by="sub"),
        gateway.Sessions(
            settings.state_url, secret=settings.session_secret, secure=settings.secure_cookies
        ),
    ]

    async def routes(scope: Scope, receive: Any, send: Any) -> None:
        await routed(scope, receive, send)

    protected = gateway.asgi(routes, *policies)
    probes = health.app(settings, upstreams)

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, upstreams)
        elif scope["type"] == "http" and _route_path(scope).startswith("/health/"):
            await probes(scope, receive, send)
        else:
            await protected(scope, receive, send)

    return app


def _route_path(scope: Scope) -> str:
    path: str = scope.get("path", "/")
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


async def _lifespan(receive: Any, send: Any, upstreams: Upstreams) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await upstreams.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


def _lazy() -> Any:
    """The app for this environment's settings, built on the first request."""
    built: list[Any] = []

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if not built:
            built.append(create_app(Settings.from_env()))
        await built[0](scope, receive, send)

    return app


app = _lazy()
