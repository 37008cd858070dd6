"""Resolve ``"module:attr"`` strings late and tell ASGI apps, WSGI apps and handlers apart."""

from __future__ import annotations

import importlib
from typing import Any, Literal

from faasport.core.errors import AppError

AppKind = Literal["asgi", "wsgi", "handler"]


def import_from_string(target: str) -> Any:
    """Import ``"package.module:attr.sub"`` and return the attribute."""
    module_name, sep, attrs = target.partition(":")
    if not sep or not module_name or not attrs:
        raise AppError(f"app import string must look like 'module:attribute', got {target!r}")
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise AppError(
                f"could not import module {module_name!r} for app {target!r}: "
                "check the spelling and that the project root is on sys.path"
            ) from exc
        raise
    for attr in attrs.split("."):
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            raise AppError(f"module {module_name!r} has no attribute {attrs!r}") from None
    return obj


def _positional_names(func: Any) -> list[str]:
    import inspect

    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]


def detect_kind(app: Any) -> AppKind:
    """ASGI 3 app, WSGI app, or plain ``handler(event, context)``, from the callable's shape."""
    # inspect costs more import time than a runtime client's whole init: only when needed.
    import inspect

    if not callable(app):
        raise AppError(f"the app must be callable, got {type(app).__name__}")
    # Callable objects can say what they are (a WebSocket router is a handler, though its
    # (event, context) looks like WSGI's two arguments).
    declared = getattr(app, "faasport_kind", None)
    if declared in ("asgi", "wsgi", "handler"):
        return declared  # type: ignore[no-any-return]
    call = app if inspect.isroutine(app) else type(app).__call__
    if inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(app):
        return "asgi"
    names = _positional_names(app)
    if len(names) == 3:
        return "asgi"
    if len(names) == 2:
        if "start_response" in names[1]:
            return "wsgi"
        if inspect.isroutine(app):
            return "handler"
        # Callable objects taking two arguments are WSGI apps (Flask, Django, Falcon...).
        return "wsgi"
    raise AppError(
        f"cannot tell what kind of app {app!r} is: expected an ASGI app (scope, receive, send), "
        "a WSGI app (environ, start_response) or a handler (event, context)"
    )
