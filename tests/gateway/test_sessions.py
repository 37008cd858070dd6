"""Server-side sessions through the middleware: the app changes the session, the cookie
carries only a signed id, the data lives in the store with a time to live."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from faasport import gateway, state
from faasport.core.errors import ConfigError
from faasport.testing import HttpClient

SECRET = "s" * 40


async def counter(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Counts visits in the session; ``/logout`` empties it."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    session = gateway.session(scope)
    if scope["path"].endswith("/logout"):
        session.clear()
    else:
        session["visits"] = session.get("visits", 0) + 1
    body = json.dumps(dict(session)).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def store(tmp_path: Path) -> state.Store:
    return state.open(f"sqlite:///{tmp_path}/state.db")


def cookie_of(result: Any) -> str:
    (cookie,) = result.cookies
    return cookie.split(";", 1)[0].split("=", 1)[1]


@pytest.mark.parametrize("entry", ["function-url", "gcp", "azure"])
def test_a_session_lives_in_the_store(
    entry: str, store: state.Store, make_client: Callable[..., HttpClient]
) -> None:
    sessions = gateway.Sessions(store, secret=SECRET, ttl=60)
    client = make_client(entry, [sessions], asgi_app=counter)
    first = client.get("/")
    assert first.json() == {"visits": 1}
    assert "HttpOnly" in first.cookies[0] and "Secure" in first.cookies[0]
    assert "Max-Age=60" in first.cookies[0]
    value = cookie_of(first)
    session_id = value.split(".")[0]
    # Only the id travels; the data is in the store.
    assert "visits" not in value
    assert json.loads(store.get("session:" + session_id) or b"") == {"visits": 1}
    second = client.get("/", cookies={"session": value})
    assert second.json() == {"visits": 2}
    assert cookie_of(second) == value

    logout = client.get("/logout", cookies={"session": value})
    assert logout.json() == {}
    assert "Max-Age=0" in logout.cookies[0]
    assert store.get("session:" + session_id) is None
    assert client.get("/", cookies={"session": value}).json() == {"visits": 1}


def test_forged_and_expired_ids_start_afresh(
    store: state.Store, make_client: Callable[..., HttpClient]
) -> None:
    sessions = gateway.Sessions(store, secret=SECRET, ttl=0.3)
    client = make_client("function-url", [sessions], asgi_app=counter)
    value = cookie_of(client.get("/"))
    session_id, signature = value.split(".")
    store.set("session:guessed", b'{"visits": 100}')
    for forged in (f"guessed.{signature}", f"{session_id}.AAAA", session_id, "garbage\x7f"):
        assert client.get("/", cookies={"session": forged}).json() == {"visits": 1}
    time.sleep(0.4)
    assert client.get("/", cookies={"session": value}).json() == {"visits": 1}


def test_settings_are_checked(store: state.Store) -> None:
    with pytest.raises(ConfigError, match="at least 32 characters"):
        gateway.Sessions(store, secret="short")
    with pytest.raises(ConfigError, match="same_site"):
        gateway.Sessions(store, secret=SECRET, same_site="lax")


async def cart(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Adds an item to a list in the session: a change inside a value."""
    session = gateway.session(scope)
    session.setdefault("cart", []).append(len(session.get("cart", [])))
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": json.dumps(dict(session)).encode()})


def test_a_change_inside_a_value_is_stored(
    store: state.Store, make_client: Callable[..., HttpClient]
) -> None:
    client = make_client("function-url", [gateway.Sessions(store, secret=SECRET)], cart)
    value = cookie_of(client.get("/"))
    assert client.get("/", cookies={"session": value}).json() == {"cart": [0, 1]}
    assert client.get("/", cookies={"session": value}).json() == {"cart": [0, 1, 2]}


def test_another_cookie_a_strict_parser_refuses_does_not_lose_the_session(
    store: state.Store, make_client: Callable[..., HttpClient]
) -> None:
    sessions = gateway.Sessions(store, secret=SECRET)
    client = make_client("function-url", [sessions], asgi_app=counter)
    value = cookie_of(client.get("/"))
    for other in ('prefs={"theme":"dark"}', "a=b c", "x=\\\\\\\\"):
        header = {"cookie": f"{other}; session={value}"}
        assert client.get("/", headers=header).json()["visits"] > 1
