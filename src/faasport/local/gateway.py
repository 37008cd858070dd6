"""The local HTTP gateway: the API Gateway API the project deploys, in front of the functions.

An HTTP API (payload format 2.0, stage ``$default``, served at ``/``) or, with ``[api] type =
"rest"``, a REST API (payload format 1.0, served under its stage, ``/prod``). Each request is
matched to a deployed route, turned into the event API Gateway would send by the same codec
that decodes it inside the function, handed to an :class:`~faasport.local.invoker.Invoker`,
and the function's result is turned back into HTTP the way API Gateway does it.

Constructing a :class:`Gateway` does nothing; :meth:`Gateway.start` starts the functions'
environments (unless an invoker is given) and binds the socket. It serves on the local
runtime's event loop, so a request reaches the waiting execution environment without
changing threads. Connections (limits, timeouts, shutdown) are handled by
:mod:`faasport.local.connections`.
"""

from __future__ import annotations

import asyncio
import json
import threading
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from faasport.aws.apigw_build import request_id
from faasport.aws.apigw_v1 import ApiGatewayV1
from faasport.aws.apigw_v2 import ApiGatewayV2
from faasport.core.http import HttpRequest, HttpResponse
from faasport.gateway.lambda_authorizer import Verdict
from faasport.gateway.request import Request as PolicyRequest
from faasport.gateway.request import Response as PolicyResponse
from faasport.gateway.request import StreamedBody
from faasport.local import local_only
from faasport.local.authorizers import Authorizers
from faasport.local.body_capture import captured
from faasport.local.connections import Limits, Server
from faasport.local.invoker import InvocationError, Log, RuntimeInvoker, result_of, stderr_line
from faasport.local.offload import Offload
from faasport.local.outcome import Outcome
from faasport.local.policies import Policies
from faasport.local.pool import error_message
from faasport.local.proxy import Failed, Upstreams, proxy_pipeline
from faasport.local.routes import Match, Router
from faasport.local.runtime_api import MAX_PAYLOAD
from faasport.local.streaming import StreamedResponse, http_response, invoke_streaming
from faasport.local.websocket.server import WebSocketApis

if TYPE_CHECKING:
    from faasport.config.model import Project
    from faasport.gateway.pipeline import Pipeline
    from faasport.local.http11 import Request

#: HTTP API's payload limit.
MAX_BODY = 10 * 1024 * 1024
#: Lambda's limit on a synchronous invocation's event (6 MB), measured on the JSON event.
MAX_EVENT = 6 * 1024 * 1024
#: The stage of a REST API, as deploy names it (``deploy.aws.model.REST_STAGE``).
REST_STAGE = "prod"
#: What API Gateway answers itself, by status.
_MESSAGES = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    502: "Internal Server Error",
    503: "Service Unavailable",
    504: "Endpoint request timed out",
}
_HOP_BY_HOP = frozenset(
    [b"connection", b"keep-alive", b"transfer-encoding", b"upgrade", b"te", b"trailer"]
)


def gateway_response(
    status: int, message: str | None = None, id_header: bytes = b"apigw-requestid"
) -> HttpResponse:
    text = message or _MESSAGES.get(status, "Internal Server Error")
    body = json.dumps({"message": text}, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (id_header, _request_id())]
    return HttpResponse(status, headers, body)


def _check(response: HttpResponse) -> None:
    """Refuse what cannot be sent; drop the hop-by-hop headers API Gateway does not pass."""
    if not 100 <= response.status <= 599:
        raise ValueError(f"statusCode {response.status} is not an HTTP status")
    hop = False
    for name, value in response.headers:
        if b"\r" in value or b"\n" in value or b"\r" in name or b"\n" in name:
            raise ValueError(f"header {name!r} contains a line break")
        if name in _HOP_BY_HOP:
            hop = True
    if hop:
        response.headers[:] = [(k, v) for k, v in response.headers if k not in _HOP_BY_HOP]


@dataclass(frozen=True)
class _Flavour:
    """What differs between the two APIs: stage, event format, answers for unknown paths."""

    stage: str
    prefix: str
    codec: ApiGatewayV1 | ApiGatewayV2
    #: (status, message) for a request under the stage that no route matches.
    unrouted: tuple[int, str]
    #: The response header carrying the request id.
    id_header: bytes


_HTTP_API = _Flavour("$default", "", ApiGatewayV2(), (404, "Not Found"), b"apigw-requestid")
_REST_API = _Flavour(
    REST_STAGE,
    "/" + REST_STAGE,
    ApiGatewayV1(),
    (403, "Missing Authentication Token"),
    b"x-amzn-requestid",
)


class Gateway:
    def __init__(
        self,
        project: Project,
        *,
        host: str = "127.0.0.1",
        port: int = 3000,
        invoker: RuntimeInvoker | None = None,
        log: Log = stderr_line,
        limits: Limits | None = None,
        integration_timeout: float = 30.0,
    ) -> None:
        self.project = project
        self.host = host
        self.port = port
        #: ``[proxy]`` routes, answered by upstream HTTP servers.
        self.upstreams = Upstreams(project.proxies, log)
        functions = Router.for_functions(project.functions).entries
        self.router = Router([*functions, *self.upstreams.entries()])
        #: What API Gateway enforces before the function: CORS, JWT authorizers, throttles.
        self.policies = Policies(project)
        #: Where policy decisions run when a network store would block the loop.
        self.offload = Offload(project)
        #: Lambda authorizers, run once the request passed the policies above.
        self.authorizers = Authorizers(project)
        self.log = log
        self.invoker = invoker
        self.limits = limits or Limits()
        #: Seconds API Gateway waits for an integration before answering 504.
        self.integration_timeout = integration_timeout
        self.flavour = _REST_API if project.api.type == "rest" else _HTTP_API
        self.server: Server | None = None
        self._stopped = threading.Event()
        #: The functions' WebSocket APIs, at ``ws://HOST:PORT/{function}``.
        self.websockets = WebSocketApis(project.functions, log)
        #: (prefix, answer) pairs served before the API's routes: the dashboard.
        self.mounts: list[tuple[str, Callable[[Request], Awaitable[HttpResponse]]]] = []

    @property
    def url(self) -> str:
        """The API's base URL (with the REST stage), once started."""
        if self.server is None:
            raise RuntimeError("the gateway is not started")
        host, port = self.server.address
        base = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        return base + self.flavour.prefix

    @property
    def server_address(self) -> tuple[str, int]:
        if self.server is None:
            raise RuntimeError("the gateway is not started")
        return self.server.address

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the functions' environments (without an invoker given) and listen."""
        if self.invoker is None:
            self.invoker = RuntimeInvoker(self.project, self.log)
            self.invoker.start()
        server = Server(self._answer, self._reject, self.limits, self.log)
        try:
            self.invoker.emulator.call(server.start(self.host, self.port))
        except OSError:
            self.invoker.close()
            raise
        self.server = server
        self.websockets.invoker = self.invoker

    def serve_forever(self) -> None:
        """Block until :meth:`shutdown` (the gateway serves from the runtime's thread)."""
        self._stopped.wait()

    def shutdown(self) -> None:
        self._stopped.set()

    async def stop(self, grace: float = 0.0) -> None:
        """Stop accepting, let requests in flight finish for ``grace`` seconds and answer 503
        to those left (on the runtime's loop)."""
        if self.server is not None:
            await self.server.close(grace)
        await self.upstreams.close()
        self.offload.close()

    def close(self, grace: float = 0.0) -> None:
        """:meth:`stop`, then stop the functions' environments."""
        self._stopped.set()
        if self.invoker is None:
            return
        if self.invoker.emulator.loop.is_running():
            self.invoker.emulator.call(self.stop(grace))
        self.invoker.close()

    def __enter__(self) -> Gateway:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- requests --------------------------------------------------------------------------

    def _reject(self, status: int, message: str | None = None) -> HttpResponse:
        """What the API answers itself."""
        return gateway_response(status, message, self.flavour.id_header)

    async def _answer(self, request: Request, peer: tuple[str, int]) -> HttpResponse:
        websocket = self.websockets.function_for(request)
        if websocket is not None:
            host, port = self.server_address
            return await self.websockets.upgrade(
                websocket, request, peer, f"{host}:{port}", self._reject
            )
        for prefix, answer in self.mounts:
            target = request.target
            if target.startswith(prefix) and target[len(prefix) : len(prefix) + 1] in "/?":
                refused = local_only.refusal(
                    request.header("host"), request.header("origin"), self.host
                )
                if refused is not None:
                    self.log(f"[gateway] 403 {request.method} {prefix}: {refused}")
                    return self._reject(403, f"Forbidden: {refused}")
                return await answer(request)
        http_request = self._request(request, peer)
        if http_request is None:
            return self._reject(403)  # outside the REST API's stage
        return await self.respond(http_request)

    async def respond(self, request: HttpRequest) -> HttpResponse:
        """The answer to one request (its path without the stage); never raises."""
        match = self.router.match(request.method, request.path)
        if match is None:
            cors = self.policies.cors
            if cors is not None and request.method == "OPTIONS":
                # HTTP APIs answer a preflight themselves, whatever the routes.
                answer = cors.check(policy_request(request))
                if answer is not None:
                    return self._policy_answer(answer)
            return self._unrouted()
        if match.function in self.upstreams:
            pipeline, target = self.upstreams_pipeline, self._forward
        else:
            pipeline, target = self.policies.pipeline(match.function), self._invoke
        if pipeline is None:
            return await target(request, match, None)

        streamed: list[tuple[StreamedResponse, StreamedBody]] = []
        #: The function's own response as the policies see it, and its request id header.
        own: list[tuple[PolicyResponse, bytes]] = []
        id_header = self.flavour.id_header

        async def call(view: PolicyRequest) -> PolicyResponse:
            response = await target(
                request, match, view.context.get("authorizer"), view.context.get("api_key")
            )
            later = None
            if isinstance(response, StreamedResponse):
                later = StreamedBody(MAX_PAYLOAD)
                streamed.append((response, later))
            # The request id is API Gateway's, added after the policies: a replayed answer
            # carries the id of the request it answers, not the first one's.
            headers: list[tuple[str, str]] = []
            given = None
            for k, v in response.headers:
                if k == id_header:
                    given = v
                else:
                    headers.append((k.decode("latin-1"), v.decode("latin-1")))
            seen = PolicyResponse(response.status, headers, response.body, later)
            if given is not None:
                own.append((seen, given))
            return seen

        try:
            answer = await self.offload.run(pipeline, policy_request(request), call)
        except Exception as exc:  # e.g. a store that cannot be reached
            self.log(f"[gateway] {request.method} {request.path}: 500: policy failed: {exc}")
            if streamed:
                streamed[0][0].on_abandon()
                await self._body_ended(streamed[0][1], None)
            return self._reject(500)
        mine = own[0][1] if own and own[0][0] is answer else None
        response = self._policy_answer(answer, mine)
        if streamed:
            stream, later = streamed[0]
            if response.status == stream.status:
                # The policies added their headers; the body still comes from the function.
                source = (
                    captured(stream, later, self._body_ended) if later.awaited else stream.source
                )
                return StreamedResponse(
                    stream.status, response.headers, source, stream.failed, stream.on_abandon
                )
            # A policy answered in its place: nobody reads the function's stream.
            stream.on_abandon()
            await self._body_ended(later, None)
        return response

    async def _body_ended(self, body: StreamedBody, value: bytes | None) -> None:
        """Hand a streamed response's body to the policies that asked for it."""
        try:
            await self.offload.call(body.end, value)
        except Exception as exc:  # e.g. a store that cannot be reached
            self.log(f"[gateway] a policy could not take a streamed response's body: {exc}")

    def _unrouted(self) -> HttpResponse:
        response = self._reject(*self.flavour.unrouted)
        if self.flavour is _REST_API:  # as REST APIs type their 403 for an unknown resource
            response.headers.append((b"x-amzn-errortype", b"MissingAuthenticationTokenException"))
        return response

    @cached_property
    def upstreams_pipeline(self) -> Pipeline | None:
        """What API Gateway applies in front of a proxy route: CORS and the stage throttle."""
        return proxy_pipeline(self.policies)

    async def _forward(
        self,
        request: HttpRequest,
        match: Match,
        authorizer: dict[str, Any] | None,
        api_key: dict[str, str] | None = None,
    ) -> HttpResponse:
        """The upstream's answer to a request on a ``[proxy]`` route; never raises."""
        try:
            response = await self.upstreams.forward(request, match.function, match.params)
        except Failed as exc:
            self.log(f"[gateway] {request.method} {request.path}: {exc.status}: {exc}")
            return self._reject(exc.status)
        except Exception:
            self.log(f"[gateway] {request.method} {request.path}: 502: proxying failed")
            self.log(traceback.format_exc().rstrip())
            return self._reject(502)
        response.headers.append((self.flavour.id_header, _request_id()))
        return response

    def _policy_answer(
        self, answer: PolicyResponse, request_id: bytes | None = None
    ) -> HttpResponse:
        """The response of ``answer``, with the request id header: ``request_id`` (the
        function's, when ``answer`` is its response), else a new one."""
        id_header = self.flavour.id_header
        name = id_header.decode("latin-1")
        headers = [
            (k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers if k != name
        ]
        headers.append((id_header, request_id or _request_id()))
        return HttpResponse(answer.status, headers, answer.body)

    async def _invoke(
        self,
        request: HttpRequest,
        match: Match,
        authorizer: dict[str, Any] | None,
        api_key: dict[str, str] | None = None,
    ) -> HttpResponse:
        """The function's answer to a request the policies let through; never raises."""
        flavour = self.flavour
        try:
            event = flavour.codec.build_event(request, flavour.stage)
        except ValueError:  # e.g. header bytes that are not UTF-8
            return self._reject(400)
        _route(event, match.route.key, match.route.path, match.params)
        if authorizer is not None:
            _authorize(event, authorizer)
        if api_key is not None and "identity" in event["requestContext"]:
            event["requestContext"]["identity"].update(api_key)  # REST: apiKey, apiKeyId
        if len(request.body) > MAX_EVENT // 2 and _event_size(event) > MAX_EVENT:
            return self._reject(413)
        where = f"{request.method} {request.path}"
        invoker = self.invoker
        assert invoker is not None
        if match.function in self.authorizers:
            verdict = await self.authorizers.authorize(match.function, event, invoker, self.log)
            if not isinstance(verdict, Verdict):
                return self._policy_answer(verdict)
            event["requestContext"]["authorizer"] = verdict.authorizer
        function = self.project.functions.get(match.function)
        try:
            if function is not None and function.stream:
                streamed = await self._stream(match.function, event, where)
                if isinstance(streamed, HttpResponse):
                    return streamed
                result = streamed[0]
            elif invoker.emulator.specs[match.function].timeout <= self.integration_timeout:
                invocation = invoker.invoke_async(match.function, event)
                result = await invocation  # the function's own timeout comes first
            else:
                # API Gateway stops waiting after its integration timeout, whatever the
                # function's own timeout; the invocation itself runs on, as on AWS.
                invocation = invoker.invoke_async(match.function, event)
                result = await asyncio.wait_for(
                    asyncio.shield(invocation), self.integration_timeout
                )
        except TimeoutError:
            self.log(f"[gateway] {where}: 504: no answer within {self.integration_timeout:g} s")
            return self._reject(504)
        except InvocationError as exc:
            self.log(f"[gateway] {where}: {exc.status}: {exc}")
            return self._reject(exc.status)
        except Exception:
            self.log(f'[gateway] {where}: 502: invoking function "{match.function}" failed')
            self.log(traceback.format_exc().rstrip())
            return self._reject(502)
        try:
            response = flavour.codec.parse_result(result)
            _check(response)
        except Exception as exc:
            self.log(
                f'[gateway] {where}: 502: function "{match.function}" returned an invalid '
                f"response: {exc}"
            )
            return self._reject(502)
        response.headers.append(
            (flavour.id_header, str(event["requestContext"]["requestId"]).encode("latin-1"))
        )
        return response

    async def _stream(
        self, function: str, event: dict[str, Any], where: str
    ) -> HttpResponse | tuple[Any]:
        """A streaming function's response as it comes; or, when it did not stream, its
        result (in a 1-tuple) for the buffered path. Raises as ``invoke_async`` does."""
        invoker = self.invoker
        assert invoker is not None
        answer = await invoke_streaming(invoker.emulator, function, json.dumps(event).encode())
        if isinstance(answer, Outcome):
            return (result_of(function, answer),)
        response = await http_response(answer)
        if response is None:
            self.log(f'[gateway] {where}: 502: function "{function}" streamed a malformed prelude')
            answer.abandon()
            return self._reject(502)
        response.headers.append(
            (self.flavour.id_header, str(event["requestContext"]["requestId"]).encode("latin-1"))
        )
        failed = response.failed

        def logged() -> bool:
            if not failed():
                return False
            self.log(
                f'[gateway] {where}: function "{function}" failed mid-stream: '
                f"{answer.error_type}: {error_message(answer.error or b'')}"
            )
            return True

        response.failed = logged
        return response

    def _request(self, request: Request, peer: tuple[str, int]) -> HttpRequest | None:
        """The canonical request, its path relative to the stage; None outside the stage."""
        target = request.target
        if target.startswith("/"):
            raw_path, _, query = target.partition("?")
        else:  # absolute-form, as sent to proxies
            parts = urlsplit(target)
            raw_path, query = parts.path or "/", parts.query
        prefix = self.flavour.prefix
        if prefix:
            if raw_path != prefix and not raw_path.startswith(prefix + "/"):
                return None
            raw_path = raw_path[len(prefix) :] or "/"
        client_ip, client_port = str(peer[0]), int(peer[1])
        headers: list[tuple[str, str]] = []
        forwarded_for = client_ip
        for name, value in request.headers:
            if name == "x-forwarded-for":
                forwarded_for = f"{value}, {client_ip}"
            elif name != "x-forwarded-port" and name != "x-forwarded-proto":
                headers.append((name, value))
        host, port = self.server_address
        headers += [
            ("x-forwarded-for", forwarded_for),
            ("x-forwarded-port", str(port)),
            ("x-forwarded-proto", "http"),
        ]
        # An ASCII head's text is its bytes' text in any encoding: handed over as is, the
        # event is built without a round trip through bytes. Other bytes (latin-1 text here)
        # keep their exact bytes, for the codec to decode as UTF-8 or refuse.
        ascii_head = request.ascii
        return HttpRequest(
            method=request.method,
            path=unquote(raw_path) if "%" in raw_path else raw_path,
            query_string=query.encode("latin-1"),
            headers=None
            if ascii_head
            else [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            body=request.body,
            scheme="http",
            server=(host, port),
            client=(client_ip, client_port),
            raw_path=raw_path.encode("latin-1"),
            http_version=request.version.removeprefix("HTTP/"),
            text_headers=headers if ascii_head else None,
        )


def _route(event: dict[str, Any], key: str, resource: str, params: Any) -> None:
    """Record the matched route in the event, as each API does."""
    if "routeKey" in event:  # 2.0
        event["routeKey"] = event["requestContext"]["routeKey"] = key
    else:  # 1.0: the resource template instead of a route key
        event["resource"] = event["requestContext"]["resourcePath"] = resource
    event["pathParameters"] = dict(params) if params else None
    if event["pathParameters"] is None and "routeKey" in event:
        del event["pathParameters"]


def _authorize(event: dict[str, Any], authorizer: dict[str, Any]) -> None:
    """What the JWT authorizer learnt, where each API puts it: 2.0
    ``requestContext.authorizer.jwt``, 1.0 (a Cognito authorizer) ``authorizer.claims``."""
    if "routeKey" in event:
        event["requestContext"]["authorizer"] = authorizer
    elif "jwt" in authorizer:
        event["requestContext"]["authorizer"] = {"claims": authorizer["jwt"]["claims"]}


def policy_request(request: HttpRequest) -> PolicyRequest:
    """The view of ``request`` the policies read."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in request.headers:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        if name in headers:
            headers[name] += ("; " if name == "cookie" else ", ") + value
        else:
            headers[name] = value
    return PolicyRequest(
        request.method,
        request.path,
        headers,
        source_ip=request.client[0] if request.client else "",
        query=request.query_string.decode("latin-1"),
        body=request.body,
    )


def _event_size(event: dict[str, Any]) -> int:
    return len(json.dumps(event).encode())


def _request_id() -> bytes:
    return request_id().encode()
