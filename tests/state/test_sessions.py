"""Sessions on every store when several requests of one session run at once (a browser
sends them in parallel): each request's changes survive the others', key by key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from faasport import gateway, state
from faasport.gateway.sessions import Session

SECRET = "s" * 32


@pytest.fixture
def policy(store_url: str) -> Iterator[gateway.Sessions]:
    with state.open(store_url) as store:
        yield gateway.Sessions(store, secret=SECRET, secure=False)


def begin(policy: gateway.Sessions, cookie: str | None) -> tuple[gateway.Request, Session]:
    request = gateway.Request("GET", "/", {"cookie": cookie} if cookie else {})
    assert policy.check(request) is None
    session: Session = request.context["session"]
    return request, session


def end(policy: gateway.Sessions, request: gateway.Request) -> str | None:
    response = gateway.Response(200)
    policy.finish(request, response)
    cookie = response.header("set-cookie")
    return None if cookie is None else cookie.split(";")[0]


def test_concurrent_requests_keep_each_others_changes(policy: gateway.Sessions) -> None:
    request, session = begin(policy, None)
    session.update({"user": "ada", "draft": "x", "theme": "light"})
    cookie = end(policy, request)
    assert cookie is not None

    # Three requests read the session before any of them saves.
    first, one = begin(policy, cookie)
    second, two = begin(policy, cookie)
    third, three = begin(policy, cookie)
    one["cart"] = ["sku-1"]
    two.pop("draft")
    two["theme"] = "dark"
    three["theme"] = "blue"
    for request in (first, second, third):
        end(policy, request)

    _, seen = begin(policy, cookie)
    expected: dict[str, Any] = {"user": "ada", "cart": ["sku-1"], "theme": "blue"}
    assert dict(seen) == expected  # "theme": the last save wins


def test_a_session_emptied_meanwhile_is_begun_again_with_the_changes(
    policy: gateway.Sessions,
) -> None:
    request, session = begin(policy, None)
    session["user"] = "ada"
    cookie = end(policy, request)
    late, changing = begin(policy, cookie)
    logout, leaving = begin(policy, cookie)
    leaving.clear()
    assert end(policy, logout) is not None  # the cookie is expired
    changing["cart"] = ["sku-1"]
    end(policy, late)
    _, seen = begin(policy, cookie)
    assert dict(seen) == {"cart": ["sku-1"]}
