from __future__ import annotations

import sys
from pathlib import Path

import pytest

from faasport import aws
from faasport.testing import LambdaClient


@pytest.mark.parametrize(
    ("initialization", "imported_at_once"),
    [("provisioned-concurrency", True), ("on-demand", False), (None, False)],
)
def test_provisioned_environments_import_the_app_during_init(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    initialization: str | None,
    imported_at_once: bool,
) -> None:
    module = f"provisioned_{initialization or 'unset'}".replace("-", "_")
    (tmp_path / f"{module}.py").write_text(
        "from starlette.applications import Starlette\n"
        "from starlette.responses import PlainTextResponse\n"
        "from starlette.routing import Route\n"
        "async def hi(request):\n    return PlainTextResponse('hi')\n"
        "app = Starlette(routes=[Route('/', hi)])\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    if initialization is None:
        monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE", raising=False)
    else:
        monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", initialization)
    try:
        handler = aws.handler(f"{module}:app")
        assert (module in sys.modules) is imported_at_once
        assert LambdaClient(handler).get("/").text == "hi"
    finally:
        sys.modules.pop(module, None)
