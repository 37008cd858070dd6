"""The HTTP API through ``faasport.testing``: API Gateway (HTTP API) events into the Lambda
handler, as the deployed function gets them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from phoney.main import app

from faasport import aws, metrics
from faasport.testing import LambdaClient

TEMPLATE = {"name": "{{name}}", "email": "{{email}}", "address": {"city": "{{city}}"}}


@pytest.fixture
def client(environment: pytest.MonkeyPatch) -> Iterator[LambdaClient]:
    yield LambdaClient(aws.handler(app, lifespan="off"))


def post(client: LambdaClient, **body: Any) -> Any:
    return client.post("/template", json_body=body)


def test_generators_are_listed_with_examples(client: LambdaClient) -> None:
    response = client.get("/generators")
    assert response.status == 200
    listed = {g["name"]: g for g in response.json()["generators"]}
    assert {"first_name", "email", "city", "date_between", "random_int"} <= set(listed)
    assert listed["date_between"]["example"] == "{{date_between:-30d,today}}"


def test_json_records(client: LambdaClient) -> None:
    response = post(client, template=TEMPLATE, count=25, seed=42)
    assert response.status == 200
    assert response.header("content-type") == "application/json"
    assert response.header("phoney-seed") == "42"
    records = response.json()
    assert len(records) == 25
    assert all("@" in r["email"] and r["address"]["city"] for r in records)
    assert post(client, template=TEMPLATE, count=25, seed=42).json() == records


def test_without_a_seed_each_request_differs_and_says_its_seed(client: LambdaClient) -> None:
    first, second = (post(client, template=TEMPLATE, count=5) for _ in range(2))
    assert first.json() != second.json()
    seed = int(first.header("phoney-seed") or "")
    assert post(client, template=TEMPLATE, count=5, seed=seed).json() == first.json()


def test_ndjson_and_csv(client: LambdaClient) -> None:
    records = post(client, template=TEMPLATE, count=40, seed=1).json()
    ndjson = post(client, template=TEMPLATE, count=40, seed=1, format="ndjson")
    assert ndjson.header("content-type") == "application/x-ndjson"
    assert [json.loads(line) for line in ndjson.text.splitlines()] == records
    table = post(client, template=TEMPLATE, count=40, seed=1, format="csv")
    assert table.header("content-type") == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert rows == [
        {"name": r["name"], "email": r["email"], "address.city": r["address"]["city"]}
        for r in records
    ]


def test_an_unknown_generator_is_422_with_suggestions(client: LambdaClient) -> None:
    response = post(client, template={"who": "{{frist_name}}"}, count=1)
    assert response.status == 422
    assert response.json() == {
        "detail": {
            "message": 'unknown generator "frist_name"',
            "generator": "frist_name",
            "path": "who",
            "suggestions": ["first_name", "last_name", "first_name_male"],
        }
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"template": {"a": "{{word}}"}, "locale": "xx_XX"}, 'unknown locale "xx_XX"'),
        ({"template": {"a": "{{random_int:9,1}}"}}, 'generator "random_int" min 9'),
        ({"template": {"a": "{{word}}"}, "count": 50_001}, "count 50001 is over the limit of"),
    ],
)
def test_bad_requests_are_422_with_a_message(
    client: LambdaClient, body: dict[str, Any], message: str
) -> None:
    response = client.post("/template", json_body=body)
    assert response.status == 422
    assert response.json()["detail"]["message"].startswith(message), response.json()


@pytest.mark.parametrize(
    "body",
    [
        b"{nope",
        b'{"count": 3}',
        b'{"template": ["not", "an", "object"]}',
        b'{"template": {}, "count": -1}',
        b'{"template": {}, "format": "xml"}',
    ],
)
def test_malformed_bodies_are_422_without_echoing_input(client: LambdaClient, body: bytes) -> None:
    response = client.post("/template", body=body)
    assert response.status == 422
    assert all("input" not in error for error in response.json()["detail"])


def test_a_body_without_a_json_content_type_is_read_as_json(client: LambdaClient) -> None:
    response = client.post("/template", body=json.dumps({"template": {"a": "x"}, "count": 2}))
    assert response.json() == [{"a": "x"}, {"a": "x"}]


def test_over_6_mb_is_413_saying_to_stream(client: LambdaClient) -> None:
    padding = "x" * 300
    template = {"name": "{{name}}", "note": padding + " {{word}}"}
    response = post(client, template=template, count=25_000, format="ndjson")
    assert response.status == 413
    message = response.json()["detail"]["message"]
    assert message.startswith("the response is over 6291456 bytes, Lambda's limit")
    assert 'format "ndjson" or "csv" from the streaming function' in message
    # Just under the limit is answered.
    assert post(client, template=template, count=18_000, format="ndjson").status == 200


def test_limits_come_from_the_environment(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("PHONEY_MAX_COUNT", "10")
    environment.setenv("PHONEY_MAX_FIELDS", "2")
    client = LambdaClient(aws.handler(app, lifespan="off"))
    assert post(client, template={"a": "{{word}}"}, count=10).status == 200
    assert post(client, template={"a": "{{word}}"}, count=11).status == 422
    response = post(client, template={"a": 1, "b": 2, "c": 3}, count=1)
    assert response.json()["detail"]["message"] == "the template has more than 2 fields"


def test_metrics_and_a_json_log_line_per_request(
    client: LambdaClient, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics.configure(format="emf", namespace="phoney")
    try:
        assert post(client, template=TEMPLATE, count=30, format="csv").status == 200
    finally:
        metrics._settings.clear()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    logged = [line for line in lines if line.get("logger") == "phoney"]
    assert logged[0]["message"].startswith("generated 30 records as csv in ")
    emf = next(line for line in lines if "_aws" in line)
    names = {m["Name"]: m["Unit"] for m in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert names == {"RecordsGenerated": "Count", "GenerationTime": "Milliseconds"}
    assert emf["RecordsGenerated"] == 30 and emf["format"] == "csv"
