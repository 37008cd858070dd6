"""``websocket = {...}`` on a function."""

from __future__ import annotations

from pathlib import Path

import pytest

from config_text import config_error, load_config
from faasport.config import load_project
from faasport.config.model import WebSocketApi

BASE = 'name = "chat"\n[functions.chat]\nhandler = "chat:ws"\n'


def load(tmp_path: Path, extra: str, base: str = BASE) -> WebSocketApi | None:
    return load_config(tmp_path, base + extra).functions["chat"].websocket


def error(tmp_path: Path, extra: str, base: str = BASE) -> str:
    return config_error(tmp_path, base + extra)


def test_defaults_and_explicit_values(tmp_path: Path) -> None:
    assert load(tmp_path, "") is None
    assert load(tmp_path, "websocket = {}\n") == WebSocketApi(
        ("$connect", "$disconnect", "$default"), "$request.body.action"
    )
    found = load(
        tmp_path,
        'websocket = { routes = ["$connect", "join", "send"], selection = "$request.body.a.b" }\n',
    )
    assert found == WebSocketApi(("$connect", "join", "send"), "$request.body.a.b")
    assert load_project(tmp_path).functions["chat"].routes == ()  # no HTTP routes


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('websocket = { routes = ["$open"] }\n', 'websocket.routes: "$open": the only routes'),
        ('websocket = { routes = ["a b"] }\n', 'websocket.routes: "a b": a route key is'),
        ('websocket = { routes = ["x", "x"] }\n', "websocket.routes: lists a route twice"),
        ('websocket = { routes = "x" }\n', "websocket.routes: must be an array"),
        ('websocket = { selection = "$request.header.x" }\n', "websocket.selection: must be"),
        ('websocket = { selecton = "x" }\n', "websocket.selecton: unknown key; did you mean"),
        ("websocket = true\n", "functions.chat.websocket: must be a table"),
    ],
)
def test_bad_values_name_key_and_file(tmp_path: Path, extra: str, message: str) -> None:
    found = error(tmp_path, extra)
    assert found.startswith(f"{tmp_path / 'faasport.toml'}: functions.chat.websocket")
    assert message in found


def test_an_app_alone_cannot_serve_a_websocket_api(tmp_path: Path) -> None:
    base = 'name = "chat"\n[functions.chat]\napp = "chat:app"\n'
    assert 'websocket: needs handler = "module:attr"' in error(tmp_path, "websocket = {}\n", base)
