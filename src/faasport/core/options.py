"""Options shared by every provider entry point (``aws.handler``, ``gcp.handler``...)."""

from __future__ import annotations

from faasport.core.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal

    LifespanMode = Literal["auto", "on", "off"]


class AppOptions:
    """``health_path``: a GET or HEAD of it is answered 200 without importing the app.
    ``lifespan``: "auto" runs ASGI lifespan when the app supports it, "on" requires it,
    "off" skips it. ``base_path``: a prefix (custom-domain base path mapping) moved from
    ``path`` to ``root_path``. ``text_mime_types``: extra content types sent as text."""

    __slots__ = ("base_path", "health_path", "lifespan", "text_mime_types")

    def __init__(
        self,
        health_path: str | None = None,
        lifespan: LifespanMode = "auto",
        base_path: str = "",
        text_mime_types: tuple[str, ...] = (),
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
        self.health_path = health_path
        self.lifespan: LifespanMode = lifespan
        self.base_path = base_path
        self.text_mime_types = tuple(t.lower() for t in text_mime_types)
