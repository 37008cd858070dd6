"""The Lambda authorizer's event, its reading of the answer, its cache and its statuses, on
AWS's documented examples (tests/fixtures/events) and on events the local codecs build."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from faasport.aws.apigw_v1 import ApiGatewayV1
from faasport.aws.apigw_v2 import ApiGatewayV2
from faasport.core.http import HttpRequest
from faasport.gateway.lambda_authorizer import (
    AuthorizerRaised,
    LambdaAuthorizer,
    Verdict,
)
from faasport.gateway.request import Response
from recorded import recorded


def request(
    path: str = "/items/7", headers: dict[str, str] | None = None, query: str = ""
) -> HttpRequest:
    return HttpRequest(
        method="GET",
        path=path,
        query_string=query.encode(),
        headers=[(k.encode(), v.encode()) for k, v in (headers or {}).items()],
        body=b"",
        scheme="https",
        server=("api.example.com", 443),
        client=("203.0.113.9", 50000),
    )


def v2_event(**kwargs: Any) -> dict[str, Any]:
    event = ApiGatewayV2().build_event(request(**kwargs))
    event["routeKey"] = event["requestContext"]["routeKey"] = "GET /items/{id}"
    event["pathParameters"] = {"id": "7"}
    return event


def v1_event(**kwargs: Any) -> dict[str, Any]:
    return ApiGatewayV1().build_event(request(**kwargs), "prod")


class Calls:
    """An authorizer function: answers ``result`` (or raises ``error``) and keeps its events."""

    def __init__(self, result: Any = None, error: str | None = None) -> None:
        self.result = result
        self.error = error
        self.events: list[dict[str, Any]] = []

    async def __call__(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        if self.error is not None:
            raise AuthorizerRaised(self.error)
        return self.result


def run(authorizer: LambdaAuthorizer, event: dict[str, Any], calls: Calls) -> Verdict | Response:
    return asyncio.run(authorizer.authorize(event, calls))


def body(response: Verdict | Response) -> Any:
    assert isinstance(response, Response)
    return json.loads(response.body)


def policy(effect: str, resource: str, **extra: Any) -> dict[str, Any]:
    statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
    return {
        "principalId": "user-1",
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        **extra,
    }


# -- the events ------------------------------------------------------------------------------


def test_the_2_0_request_event_has_the_documented_fields() -> None:
    documented = recorded("apiGatewayAuthorizerV2Event")
    authorizer = LambdaAuthorizer(api="http")
    calls = Calls({"isAuthorized": True})
    run(authorizer, v2_event(headers={"authorization": "abc"}, query="a=1"), calls)
    (sent,) = calls.events
    assert set(sent) == set(documented) - {"cookies", "stageVariables"}
    assert sent["type"] == "REQUEST" and sent["version"] == "2.0"
    assert sent["identitySource"] == ["abc"]
    assert sent["routeKey"] == "GET /items/{id}"
    assert (
        sent["routeArn"] == "arn:aws:execute-api:us-east-1:123456789012:local/$default/GET/items/7"
    )
    assert set(documented["requestContext"]) - set(sent["requestContext"]) <= {"authentication"}


def test_identity_is_read_from_a_recorded_event_as_api_gateway_would() -> None:
    documented = recorded("apiGatewayAuthorizerV2Event")
    authorizer = LambdaAuthorizer(
        api="http",
        identity=[
            "$request.header.Authorization",
            "$request.querystring.parameter2",
            "$context.http.sourceIp",
            "$stageVariables.stageVariable1",
        ],
    )
    assert authorizer.identity_values(documented) == ["value", "value", "10.10.10.10", "value1"]
    authorizer = LambdaAuthorizer(api="http", identity=["$request.header.X-Missing"])
    assert authorizer.identity_values(documented) is None


def test_the_rest_token_event_has_the_documented_fields() -> None:
    documented = recorded("apiGatewayAuthorizerTokenEvent")
    authorizer = LambdaAuthorizer(api="rest", event="token")
    calls = Calls(policy("Allow", "*"))
    run(authorizer, v1_event(headers={"Authorization": "allow"}), calls)
    (sent,) = calls.events
    assert set(sent) == set(documented)
    assert sent["authorizationToken"] == "allow"
    assert sent["methodArn"] == "arn:aws:execute-api:us-east-1:123456789012:local/prod/GET/items/7"


def test_the_rest_request_event_is_the_proxy_event_with_type_and_method_arn() -> None:
    authorizer = LambdaAuthorizer(api="rest", identity=["$request.querystring.key"])
    calls = Calls(policy("Allow", "*"))
    proxy = v1_event(query="key=k1")
    run(authorizer, proxy, calls)
    (sent,) = calls.events
    assert sent["type"] == "REQUEST" and sent["methodArn"].endswith("/prod/GET/items/7")
    assert "body" not in sent and sent["httpMethod"] == "GET"
    assert sent["queryStringParameters"] == {"key": "k1"}


# -- answers ---------------------------------------------------------------------------------


def test_a_simple_answer_passes_its_context_as_authorizer_lambda() -> None:
    answer = recorded("apiGatewayAuthorizerSimpleResponse")
    verdict = run(
        LambdaAuthorizer(api="http"), v2_event(headers={"authorization": "t"}), Calls(answer)
    )
    assert verdict == Verdict({"lambda": {"exampleKey": "exampleValue"}})


def test_a_simple_refusal_is_403_forbidden() -> None:
    answer = run(
        LambdaAuthorizer(api="http"),
        v2_event(headers={"authorization": "t"}),
        Calls({"isAuthorized": False}),
    )
    assert isinstance(answer, Response) and answer.status == 403
    assert body(answer) == {"message": "Forbidden"}


def test_the_documented_deny_policy_is_an_explicit_deny_on_rest() -> None:
    answer = recorded("apiGatewayAuthorizerPolicyResponse")
    authorizer = LambdaAuthorizer(api="rest", event="token", region="us-west-2")
    event = v1_event(headers={"Authorization": "allow"})
    event["requestContext"]["apiId"] = "ymy8tbxw7b"
    event["path"] = "/"
    result = run(authorizer, event, Calls(answer))
    assert isinstance(result, Response) and result.status == 403
    # Byte for byte what a REST API sends: "Message" with a capital M, no spaces.
    assert result.body == (
        b'{"Message":"User is not authorized to access this resource with an explicit deny"}'
    )


def test_the_documented_policy_turned_to_allow_passes_the_context_as_strings() -> None:
    answer = recorded("apiGatewayAuthorizerPolicyResponse")
    answer["policyDocument"]["Statement"][0]["Effect"] = "Allow"
    answer["policyDocument"]["Statement"][0]["Resource"] = "arn:aws:execute-api:*:*:*/prod/GET/*"
    answer["context"]["numberKey"] = 1
    answer["context"]["booleanKey"] = True
    verdict = run(
        LambdaAuthorizer(api="rest", event="token"),
        v1_event(headers={"Authorization": "x"}),
        Calls(answer),
    )
    assert isinstance(verdict, Verdict)
    assert verdict.authorizer["principalId"] == "user"
    assert {k: verdict.authorizer[k] for k in ("stringKey", "numberKey", "booleanKey")} == {
        "stringKey": "value",
        "numberKey": "1",
        "booleanKey": "true",
    }
    assert isinstance(verdict.authorizer["integrationLatency"], int)


def test_a_policy_not_covering_the_method_is_an_implicit_deny() -> None:
    answer = policy("Allow", "arn:aws:execute-api:*:*:*/prod/POST/*")
    result = run(
        LambdaAuthorizer(api="rest", event="token"),
        v1_event(headers={"Authorization": "x"}),
        Calls(answer),
    )
    assert isinstance(result, Response) and result.status == 403
    assert body(result) == {"Message": "User is not authorized to access this resource"}


def test_deny_wins_over_allow() -> None:
    answer = policy("Allow", "*")
    answer["policyDocument"]["Statement"].append(
        {
            "Action": ["execute-api:Invoke"],
            "Effect": "Deny",
            "Resource": ["arn:aws:execute-api:us-east-1:123456789012:local/prod/GET/items/?"],
        }
    )
    result = run(
        LambdaAuthorizer(api="rest", event="token"),
        v1_event(headers={"Authorization": "x"}),
        Calls(answer),
    )
    assert isinstance(result, Response) and result.status == 403


def test_an_iam_answer_on_an_http_api_passes_the_context() -> None:
    answer = policy(
        "Allow",
        "arn:aws:execute-api:us-east-1:123456789012:local/$default/GET/items/*",
        context={"tenant": "t1"},
    )
    verdict = run(
        LambdaAuthorizer(api="http", simple=False),
        v2_event(headers={"authorization": "t"}),
        Calls(answer),
    )
    assert verdict == Verdict({"lambda": {"tenant": "t1"}})


@pytest.mark.parametrize(
    "answer",
    [
        None,
        "yes",
        {"principalId": "u"},
        {
            "principalId": "u",
            "policyDocument": {"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]},
        },
        {"policyDocument": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}},
        {
            "principalId": "u",
            "policyDocument": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
            "context": {"nested": {"a": 1}},
        },
    ],
)
def test_an_unusable_rest_answer_is_500_message_null(answer: Any) -> None:
    result = run(
        LambdaAuthorizer(api="rest", event="token"),
        v1_event(headers={"Authorization": "x"}),
        Calls(answer),
    )
    assert isinstance(result, Response) and result.status == 500
    assert result.body == b'{"message":null}'
    assert result.header("x-amzn-errortype") == "AuthorizerConfigurationException"


@pytest.mark.parametrize(
    "answer", [None, {"isAuthorized": "yes"}, {"isAuthorized": True, "context": []}]
)
def test_an_unusable_http_answer_is_500(answer: Any) -> None:
    result = run(
        LambdaAuthorizer(api="http"), v2_event(headers={"authorization": "t"}), Calls(answer)
    )
    assert isinstance(result, Response) and result.status == 500
    assert body(result) == {"message": "Internal Server Error"}


def test_an_authorizer_raising_unauthorized_is_401_on_rest_and_other_errors_500() -> None:
    authorizer = LambdaAuthorizer(api="rest", event="token")
    event = v1_event(headers={"Authorization": "x"})
    assert run(authorizer, event, Calls(error="Unauthorized")).status == 401  # type: ignore[union-attr]
    assert run(authorizer, event, Calls(error="boom")).status == 500  # type: ignore[union-attr]


# -- identity and caching --------------------------------------------------------------------


@pytest.mark.parametrize("api", ["http", "rest"])
def test_a_missing_or_empty_identity_is_401_without_calling_the_authorizer(api: str) -> None:
    authorizer = LambdaAuthorizer(api=api)
    calls = Calls({"isAuthorized": True})
    make = v2_event if api == "http" else v1_event
    for event in (make(), make(headers={"authorization": ""})):
        result = run(authorizer, event, calls)
        assert isinstance(result, Response) and result.status == 401
        assert body(result) == {"message": "Unauthorized"}
    assert calls.events == []


def test_a_token_failing_the_validation_expression_is_401_without_a_call() -> None:
    authorizer = LambdaAuthorizer(api="rest", event="token", validation=r"Bearer [a-z]+")
    calls = Calls(policy("Allow", "*"))
    assert run(authorizer, v1_event(headers={"Authorization": "Basic abc"}), calls).status == 401  # type: ignore[union-attr]
    assert calls.events == []
    assert isinstance(
        run(authorizer, v1_event(headers={"Authorization": "Bearer abc"}), calls), Verdict
    )


def test_results_are_cached_by_identity_for_the_ttl_and_policies_re_evaluated() -> None:
    now = [1000.0]
    authorizer = LambdaAuthorizer(api="rest", event="token", ttl=60, clock=lambda: now[0])
    calls = Calls(policy("Allow", "arn:aws:execute-api:*:*:*/prod/GET/items/*"))
    token = {"Authorization": "t1"}
    assert isinstance(run(authorizer, v1_event(headers=token), calls), Verdict)
    assert isinstance(run(authorizer, v1_event(headers=token), calls), Verdict)
    assert len(calls.events) == 1
    # The cached policy is evaluated against each request's method ARN, as on AWS.
    other = run(authorizer, v1_event(path="/other", headers=token), calls)
    assert isinstance(other, Response) and other.status == 403
    assert len(calls.events) == 1
    run(authorizer, v1_event(headers={"Authorization": "t2"}), calls)
    assert len(calls.events) == 2
    now[0] += 61
    run(authorizer, v1_event(headers=token), calls)
    assert len(calls.events) == 3


def test_without_a_ttl_every_request_calls_the_authorizer() -> None:
    authorizer = LambdaAuthorizer(api="http", ttl=0)
    calls = Calls({"isAuthorized": True})
    for _ in range(3):
        run(authorizer, v2_event(headers={"authorization": "t"}), calls)
    assert len(calls.events) == 3


def test_failures_are_not_cached() -> None:
    authorizer = LambdaAuthorizer(api="http", ttl=300)
    broken = Calls({"isAuthorized": "?"})
    assert run(authorizer, v2_event(headers={"authorization": "t"}), broken).status == 500  # type: ignore[union-attr]
    good = Calls({"isAuthorized": True})
    assert isinstance(run(authorizer, v2_event(headers={"authorization": "t"}), good), Verdict)
