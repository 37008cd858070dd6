"""CORS as API Gateway HTTP APIs answer it: preflight requests are answered here, never
reach the app; other responses get the allow headers when their ``Origin`` is allowed.

Origins are exact (``https://app.example.com``), ``*`` (any), or patterns with ``*`` for one
label or more (``https://*.example.com``). Credentials are allowed only with origins that are
not ``*``, and then the request's own origin is sent back; ``Vary: Origin`` tells caches the
answer depends on it.

A WebSocket handshake from a browser (it carries ``Origin``) whose origin is not allowed
gets 403: browsers let any page open a WebSocket, so this is the only check such a
connection gets (cross-site WebSocket hijacking). Clients that send no ``Origin`` pass.
"""

from __future__ import annotations

from faasport.core.errors import ConfigError
from faasport.gateway.request import Policy, Request, Response

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


class Cors(Policy):
    def __init__(
        self,
        *,
        origins: Sequence[str],
        methods: Sequence[str] = ("*",),
        headers: Sequence[str] = ("*",),
        expose_headers: Sequence[str] = (),
        credentials: bool = False,
        max_age: int | None = None,
    ) -> None:
        import re

        if not origins:
            raise ConfigError("cors.origins is empty: list the allowed origins, or '*'")
        if credentials and "*" in origins:
            raise ConfigError(
                "cors: credentials need explicit origins; '*' cannot be used with credentials"
            )
        self.any_origin = "*" in origins
        self.exact = {o.lower() for o in origins if "*" not in o}
        self.patterns = [
            re.compile("[^/]+".join(re.escape(part) for part in o.lower().split("*")))
            for o in origins
            if "*" in o and o != "*"
        ]
        self.methods = [m.upper() for m in methods]
        self.headers = [h.lower() for h in headers]
        self.expose_headers = ", ".join(expose_headers)
        self.credentials = credentials
        self.max_age = max_age

    def allowed(self, origin: str) -> bool:
        origin = origin.lower()
        return (
            self.any_origin
            or origin in self.exact
            or any(p.fullmatch(origin) for p in self.patterns)
        )

    def _origin_headers(self, origin: str) -> list[tuple[str, str]]:
        if self.any_origin and not self.credentials:
            found = [("access-control-allow-origin", "*")]
        else:
            found = [("access-control-allow-origin", origin)]
        if self.credentials:
            found.append(("access-control-allow-credentials", "true"))
        return found

    def check(self, request: Request) -> Response | None:
        origin = request.headers.get("origin")
        if (
            origin is not None
            and request.method == "GET"
            and request.headers.get("upgrade", "").lower() == "websocket"
            and not self.allowed(origin)
        ):
            # Browsers apply no CORS to WebSockets: a page from any site may open one with
            # the user's cookies. Only the server can refuse a foreign origin.
            return Response.message(403, "Forbidden")
        wanted = request.headers.get("access-control-request-method")
        if request.method != "OPTIONS" or origin is None or wanted is None:
            return None
        # A preflight: answered here, with the allow headers only when all is allowed.
        answer = Response(204, [("vary", "Origin")])
        request.context[self] = "preflight"
        asked = [
            h.strip().lower()
            for h in request.headers.get("access-control-request-headers", "").split(",")
            if h.strip()
        ]
        if not self.allowed(origin):
            return answer
        if "*" not in self.methods and wanted.upper() not in self.methods:
            return answer
        if "*" not in self.headers and not set(asked) <= set(self.headers):
            return answer
        answer.headers += self._origin_headers(origin)
        methods = wanted.upper() if "*" in self.methods else ",".join(self.methods)
        answer.headers.append(("access-control-allow-methods", methods))
        if asked:
            allowed = ",".join(asked) if "*" in self.headers else ",".join(self.headers)
            answer.headers.append(("access-control-allow-headers", allowed))
        if self.max_age is not None:
            answer.headers.append(("access-control-max-age", str(self.max_age)))
        return answer

    def finish(self, request: Request, response: Response) -> None:
        if request.context.get(self) == "preflight":
            return
        origin = request.headers.get("origin")
        response.headers.append(("vary", "Origin"))
        if origin is None or not self.allowed(origin):
            return
        # The app's own CORS headers give way to the configured ones, as on API Gateway.
        response.headers[:] = [
            (k, v) for k, v in response.headers if not k.startswith("access-control-")
        ]
        response.headers += self._origin_headers(origin)
        if self.expose_headers:
            response.headers.append(("access-control-expose-headers", self.expose_headers))
