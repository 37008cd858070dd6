"""Options shared by every provider entry point (``aws.handler``, ``gcp.handler``...),
declared once: :class:`OptionArgs` types the keywords, :class:`AppOptions` checks them."""

from __future__ import annotations

from faasport.core.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable
    from typing import Literal, Protocol, TypedDict

    from faasport.core.http import HttpRequest, HttpResponse
    from faasport.core.streaming import ResponseSink

    LifespanMode = Literal["auto", "on", "off"]

    class RequestPolicies(Protocol):
        """Request policies run around the app (``faasport.gateway.policies(...)``): each
        method answers ``request``, calling ``serve`` unless a policy answers first."""

        def run(
            self, request: HttpRequest, serve: Callable[[HttpRequest], HttpResponse]
        ) -> HttpResponse: ...

        async def run_async(
            self, request: HttpRequest, serve: Callable[[HttpRequest], Awaitable[HttpResponse]]
        ) -> HttpResponse: ...

        def stream(
            self, request: HttpRequest, sink: ResponseSink, serve: Callable[[ResponseSink], None]
        ) -> None: ...

    class OptionArgs(TypedDict, total=False):
        """The keyword options of ``aws.handler``, ``gcp.handler`` and
        ``azure.function_app`` (see :class:`AppOptions`)."""

        health_path: str | None
        lifespan: LifespanMode
        base_path: str
        text_mime_types: Iterable[str]
        strip_root_path: bool
        policies: RequestPolicies | None


class AppOptions:
    """``health_path``: a GET or HEAD of it is answered 200 without importing the app.
    ``lifespan``: "auto" runs ASGI lifespan when the app supports it, "on" requires it,
    "off" skips it. ``base_path``: a prefix (custom-domain base path mapping) moved from
    ``path`` to ``root_path``. ``text_mime_types``: extra content types sent as text.
    ``strip_root_path``: the ASGI scope's ``path`` leaves out ``root_path`` (as Mangum
    does), for frameworks that route on ``path`` without removing ``root_path`` (Falcon's
    ASGI app, Sanic); by default ``path`` includes it, as the ASGI spec and uvicorn do.
    ``policies``: request policies (``faasport.gateway.policies(...)``) every request but a
    health check passes before it reaches the app, for platforms with no gateway doing it."""

    __slots__ = (
        "base_path",
        "health_path",
        "lifespan",
        "policies",
        "strip_root_path",
        "text_mime_types",
    )

    def __init__(
        self,
        health_path: str | None = None,
        lifespan: LifespanMode = "auto",
        base_path: str = "",
        text_mime_types: Iterable[str] = (),
        strip_root_path: bool = False,
        policies: RequestPolicies | None = None,
    ) -> None:
        if lifespan not in ("auto", "on", "off"):
            raise ConfigError(f"lifespan must be 'auto', 'on' or 'off', not {lifespan!r}")
        if health_path is not None and not health_path.startswith("/"):
            raise ConfigError(f"health_path must start with '/', not {health_path!r}")
        if base_path and (not base_path.startswith("/") or base_path.endswith("/")):
            raise ConfigError(
                f"base_path must start with '/' and not end with '/' (like '/api'), "
                f"not {base_path!r}"
            )
        if isinstance(text_mime_types, str):
            raise ConfigError(
                f"text_mime_types must be a list of content types, not the string "
                f"{text_mime_types!r}"
            )
        self.health_path = health_path
        self.lifespan: LifespanMode = lifespan
        self.base_path = base_path
        self.text_mime_types = tuple(t.lower() for t in text_mime_types)
        self.strip_root_path = bool(strip_root_path)
        self.policies = policies
