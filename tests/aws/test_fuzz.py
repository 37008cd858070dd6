"""Every AWS HTTP codec, fuzzed from recorded events: whatever an event holds, the handler
answers (or raises UnsupportedEventError for an event no codec claims); a 400 names the
field in faasport's own words, never Python's; a wrong-typed field is never a 200."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from echo import ASGI, WSGI, asgi_echo, call, wsgi_echo
from faasport import aws
from faasport.core.errors import UnsupportedEventError
from faasport.testing import LambdaContext
from recorded import recorded

#: Per codec: a recorded event, and the fields its decoder reads with the JSON type each
#: must have ("?" allows null).
FIELDS: dict[str, tuple[str, dict[str, str]]] = {
    "apigw-v1": (
        "restApiDocsExample",
        {
            "httpMethod": "str",
            "path": "str?",
            "resource": "str?",
            "headers": "map?",
            "multiValueHeaders": "listmap?",
            "multiValueQueryStringParameters": "listmap?",
            "pathParameters": "map?",
            "requestContext": "object?",
            "requestContext.path": "str?",
            "requestContext.identity": "object?",
            "requestContext.identity.sourceIp": "str?",
            "body": "str?",
            "isBase64Encoded": "bool?",
        },
    ),
    "apigw-v2": (
        "httpApiDocsExample",
        {
            "headers": "map?",
            "cookies": "list?",
            "rawPath": "str?",
            "rawQueryString": "str?",
            "routeKey": "str?",
            "requestContext.http.method": "str",
            "requestContext.http.sourceIp": "str?",
            "requestContext.stage": "str?",
            "body": "str?",
            "isBase64Encoded": "bool?",
        },
    ),
    "function-url": (
        "lambdaFunctionUrlEvent",
        {
            "headers": "map?",
            "cookies": "list?",
            "rawPath": "str?",
            "rawQueryString": "str?",
            "requestContext.http.method": "str",
            "requestContext.http.sourceIp": "str?",
            "body": "str?",
            "isBase64Encoded": "bool?",
        },
    ),
    "alb": (
        "albMultiValueQueryStringEvent",
        {
            "httpMethod": "str",
            "path": "str?",
            "multiValueHeaders": "listmap?",
            "multiValueQueryStringParameters": "listmap?",
            "body": "str?",
            "isBase64Encoded": "bool?",
        },
    ),
}

SURROGATES = st.sampled_from(["\ud800", "a\udfffb"])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(), SURROGATES
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def fits(kind: str, value: Any) -> bool:
    if value is None:
        return kind.endswith("?")
    base = kind.rstrip("?")
    if base == "str":
        return type(value) is str
    if base == "bool":
        return type(value) is bool
    if base == "object":
        return type(value) is dict
    if base == "list":
        return type(value) is list and all(type(v) is str for v in value)
    if type(value) is not dict:
        return False
    if base == "map":
        return all(type(v) is str for v in value.values())
    return all(type(v) is list and all(type(x) is str for x in v) for v in value.values())


def put(event: dict[str, Any], field: str, value: Any) -> None:
    *parents, last = field.split(".")
    target = event
    for part in parents:
        target = target[part]
    target[last] = value


def leaf_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            paths += leaf_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths += leaf_paths(item, (*prefix, index))
    return paths


def no_python_text(body: Any) -> None:
    text = str(body)
    for marker in ("Traceback", "Error:", "object has no attribute", "object is not"):
        assert marker not in text


FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("source", list(FIELDS))
@FUZZ
@given(data=st.data())
def test_a_wrong_typed_field_is_a_400_naming_it(source: str, data: st.DataObject) -> None:
    name, fields = FIELDS[source]
    field = data.draw(st.sampled_from(sorted(fields)))
    value = data.draw(JSON.filter(lambda v: not fits(fields[field], v)))
    event = recorded(name)
    put(event, field, value)
    for handler in (ASGI, WSGI):
        status, body = call(handler, copy.deepcopy(event))
        assert status == 400, (field, value, body)
        assert body["message"].startswith(f"malformed {source} event: {field} must be ")
        no_python_text(body)


def mutated(source: str, data: st.DataObject) -> dict[str, Any]:
    """The source's recorded event with up to three values replaced (maybe a top-level
    field removed, maybe a header added with any name and value)."""
    event = recorded(FIELDS[source][0])
    paths = leaf_paths(event)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        target: Any = event
        try:
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = data.draw(JSON)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation replaced a parent
    if data.draw(st.booleans()):
        victim = data.draw(st.sampled_from(sorted(event)))
        del event[victim]
    headers = event.get("headers")
    if type(headers) is dict and data.draw(st.booleans()):
        headers[data.draw(st.one_of(st.text(max_size=8), SURROGATES))] = data.draw(JSON)
    return event


@pytest.mark.parametrize("source", list(FIELDS))
@FUZZ
@given(data=st.data())
def test_any_mutation_is_answered_or_unsupported(source: str, data: st.DataObject) -> None:
    event = mutated(source, data)
    for handler in (ASGI, WSGI):
        try:
            status, body = call(handler, copy.deepcopy(event))
        except UnsupportedEventError as exc:
            assert "not an HTTP event" in str(exc)
            continue
        except AssertionError:  # no codec claims it: the handler must say so itself
            with pytest.raises(UnsupportedEventError):
                handler(copy.deepcopy(event), None)
            continue
        assert status in (200, 400), body
        no_python_text(body)
        if status == 400:
            assert body["message"].startswith("malformed ")


#: Warm handlers (their app loaded): they build the WSGI environ or ASGI scope straight
#: from the event, on fast paths that leave the usual event's checks to the way they build
#: it, and hand anything unusual to the checking way.
WARM = {"asgi": aws.handler(asgi_echo, lifespan="off"), "wsgi": aws.handler(wsgi_echo)}
for _warm in WARM.values():
    _warm(recorded("httpApiDocsExample"), LambdaContext())


def _outcome(handler: Any, event: dict[str, Any]) -> Any:
    try:
        return handler(event, LambdaContext(aws_request_id="req-1"))
    except UnsupportedEventError as exc:
        return ("unsupported", str(exc))


@pytest.mark.parametrize("kind", list(WARM))
@pytest.mark.parametrize("source", ["apigw-v1", "apigw-v2", "function-url"])
@FUZZ
@given(data=st.data())
def test_the_direct_path_answers_every_mutation_as_the_canonical_request_does(
    kind: str, source: str, data: st.DataObject
) -> None:
    event = mutated(source, data)
    warm = WARM[kind]
    assert warm._asgi is not None or warm._wsgi is not None
    # A fresh handler serves its first request through the canonical request.
    fresh = aws.handler(asgi_echo, lifespan="off") if kind == "asgi" else aws.handler(wsgi_echo)
    assert _outcome(warm, copy.deepcopy(event)) == _outcome(fresh, copy.deepcopy(event))


#: Events the fast paths could take for usual ones: each must get the canonical answer.
EDGES: list[tuple[str, dict[str, Any]]] = [
    ("httpApiDocsExample", {"isBase64Encoded": 0}),
    ("httpApiDocsExample", {"isBase64Encoded": 1, "body": "aGk="}),
    ("httpApiDocsExample", {"cookies": "abc"}),
    ("httpApiDocsExample", {"cookies": {"a": "1"}}),
    ("httpApiDocsExample", {"cookies": ""}),
    ("httpApiDocsExample", {"cookies": ["a=\ud800"]}),
    ("httpApiDocsExample", {"cookies": ["a=é"]}),
    ("httpApiDocsExample", {"headers.É": "1"}),
    ("httpApiDocsExample", {"headers.x-a": 5}),
    ("httpApiDocsExample", {"headers.x-a": "\udfff"}),
    ("httpApiDocsExample", {"headers.x-a": "é"}),
    ("httpApiDocsExample", {"headers.Host": "b.example.com"}),
    ("httpApiDocsExample", {"rawPath": "/prod", "requestContext.stage": "prod"}),
    ("httpApiDocsExample", {"rawPath": "/prod/a b", "requestContext.stage": "prod"}),
    ("httpApiDocsExample", {"rawPath": "/%C3%A9"}),
    ("httpApiDocsExample", {"rawPath": ""}),
    ("httpApiDocsExample", {"routeKey": "GET /{proxy+}", "pathParameters": {"proxy": "x"}}),
    ("httpApiDocsExample", {"requestContext.http.sourceIp": None}),
    ("httpApiDocsExample", {"requestContext.http.sourceIp": 5}),
    ("httpApiDocsExample", {"requestContext.http.method": ["GET"]}),
    ("httpApiDocsExample", {"requestContext.stage": 5}),
    ("httpApiDocsExample", {"rawQueryString": "a=\ud800"}),
    ("httpApiDocsExample", {"rawQueryString": None}),
    ("httpApiDocsExample", {"body": 0}),
    ("lambdaFunctionUrlEvent", {"rawPath": "/a%20b"}),
    ("restApiDocsExample", {"multiValueHeaders.X-Two": ["1", "2"]}),
    ("restApiDocsExample", {"multiValueHeaders.X-A": "1"}),
    ("restApiDocsExample", {"multiValueHeaders.X-A": [1]}),
    ("restApiDocsExample", {"multiValueHeaders.X-A": []}),
    ("restApiDocsExample", {"multiValueHeaders.X-A": ["é"]}),
    ("restApiDocsExample", {"multiValueHeaders.X-A": ["\ud800"]}),
    ("restApiDocsExample", {"multiValueHeaders.É": ["1"]}),
    ("restApiDocsExample", {"multiValueHeaders.host": ["b.example.com"]}),
    ("restApiDocsExample", {"headers.X-Only-Single": "1"}),
    ("restApiDocsExample", {"headers.X-Only-Single": 1}),
    ("restApiDocsExample", {"headers": ["a"]}),
    ("restApiDocsExample", {"headers": None}),
    ("restApiDocsExample", {"multiValueHeaders": None}),
    ("restApiDocsExample", {"multiValueQueryStringParameters.b": None}),
    ("restApiDocsExample", {"multiValueQueryStringParameters.b": ["é", "a b"]}),
    ("restApiDocsExample", {"requestContext.identity.sourceIp": 5}),
]


@pytest.mark.parametrize("kind", list(WARM))
@pytest.mark.parametrize(("name", "changes"), EDGES)
def test_the_direct_path_answers_edge_events_as_the_canonical_request_does(
    kind: str, name: str, changes: dict[str, Any]
) -> None:
    event = recorded(name)
    for field, value in changes.items():
        put(event, field, value)
    fresh = aws.handler(asgi_echo, lifespan="off") if kind == "asgi" else aws.handler(wsgi_echo)
    expected = _outcome(fresh, copy.deepcopy(event))
    assert _outcome(WARM[kind], copy.deepcopy(event)) == expected
    assert _outcome(WARM[kind], copy.deepcopy(event)) == expected  # names now known
