from __future__ import annotations

from typing import Any

import pytest

from apps import APPS
from faasport.core.errors import AppError
from faasport.core.loader import detect_kind


async def asgi_function(scope: Any, receive: Any, send: Any) -> None:
    pass


class AsgiClass:
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        pass


def wsgi_function(environ: Any, start_response: Any) -> list[bytes]:
    return []


def handler(event: Any, context: Any) -> None:
    pass


@pytest.mark.parametrize(
    ("app", "kind"),
    [
        (asgi_function, "asgi"),
        (AsgiClass(), "asgi"),
        (APPS["starlette"](), "asgi"),
        (APPS["fastapi"](), "asgi"),
        (wsgi_function, "wsgi"),
        (APPS["flask"](), "wsgi"),
        (handler, "handler"),
        (lambda event, context: None, "handler"),
    ],
)
def test_detect_kind(app: Any, kind: str) -> None:
    assert detect_kind(app) == kind


def test_not_callable() -> None:
    with pytest.raises(AppError, match="must be callable"):
        detect_kind(42)
    with pytest.raises(AppError, match="cannot tell what kind of app"):
        detect_kind(lambda: None)
