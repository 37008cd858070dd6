"""Route selection as API Gateway HTTP APIs do it: most specific path first, then a route
with a method before ANY."""

from __future__ import annotations

import pytest

from faasport.config import parse_route
from faasport.local.routes import Router

ROUTES = [
    ("any_root", "ANY /{proxy+}"),
    ("pets_greedy", "GET /pets/{proxy+}"),
    ("dog_param", "GET /pets/dog/{id}"),
    ("dog_one", "GET /pets/dog/1"),
    ("any_dog_one", "ANY /pets/dog/1"),
    ("two_params", "GET /pets/{kind}/{id}"),
    ("home", "GET /"),
]


@pytest.fixture(scope="module")
def router() -> Router:
    return Router((name, parse_route(key)) for name, key in ROUTES)


@pytest.mark.parametrize(
    ("method", "path", "function", "params"),
    [
        ("GET", "/pets/dog/1", "dog_one", {}),
        ("POST", "/pets/dog/1", "any_dog_one", {}),
        ("GET", "/pets/dog/2", "dog_param", {"id": "2"}),
        ("GET", "/pets/cat/2", "two_params", {"kind": "cat", "id": "2"}),
        ("GET", "/pets/cat/2/toys", "pets_greedy", {"proxy": "cat/2/toys"}),
        ("POST", "/pets/cat/1", "any_root", {"proxy": "pets/cat/1"}),
        ("GET", "/", "home", {}),
        ("DELETE", "/", "any_root", {}),
        ("GET", "/pets/dog/hello world", "dog_param", {"id": "hello world"}),
    ],
)
def test_most_specific_route_wins(
    router: Router, method: str, path: str, function: str, params: dict[str, str]
) -> None:
    match = router.match(method, path)
    assert match is not None
    assert (match.function, dict(match.params)) == (function, params)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/items"), ("GET", "/items/"), ("POST", "/items/7"), ("GET", "/Items/7")],
)
def test_no_match(method: str, path: str) -> None:
    router = Router(
        [("a", parse_route("GET /items/{id}")), ("b", parse_route("GET /items/{id}/{rest+}"))]
    )
    assert router.match(method, path) is None


def test_greedy_parameter_takes_at_least_one_segment() -> None:
    router = Router([("files", parse_route("ANY /files/{path+}"))])
    assert router.match("GET", "/files") is None
    match = router.match("GET", "/files/a/b.txt")
    assert match is not None and dict(match.params) == {"path": "a/b.txt"}
