"""The REST API through faasport.testing (API Gateway HTTP API events into aws.handler), on
SQLite and on a real PostgreSQL server: CRUD, cursor pagination, 404s and 422s, and what each
write tells the topic and the stream (moto's SNS, SQS and Kinesis)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from items_cloud import Cloud

from faasport import aws
from faasport.testing import LambdaClient

pytestmark = pytest.mark.usefixtures("database")

HANDLER = aws.handler("items.api:app")


@pytest.fixture
def client(cloud: Cloud) -> LambdaClient:
    return LambdaClient(HANDLER, source="apigw-v2")


def create(client: LambdaClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/items", json_body={"name": "pen", "price_cents": 150, **fields})
    assert response.status == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_get_update_delete(client: LambdaClient, cloud: Cloud) -> None:
    response = client.post(
        "/items", json_body={"name": "  lamp ", "price_cents": 2500, "quantity": 3}
    )
    assert response.status == 201
    item = response.json()
    assert response.header("location") == f"/items/{item['id']}"
    assert item["name"] == "lamp"  # whitespace stripped
    assert (item["description"], item["price_cents"], item["quantity"]) == ("", 2500, 3)
    assert item["created_at"] == item["updated_at"]

    assert client.get(f"/items/{item['id']}").json() == item

    patched = client.request(
        "PATCH", f"/items/{item['id']}", json_body={"quantity": 2, "description": "brass"}
    )
    assert patched.status == 200
    assert {k: patched.json()[k] for k in ("name", "quantity", "description")} == {
        "name": "lamp",
        "quantity": 2,
        "description": "brass",
    }
    assert patched.json()["updated_at"] > item["updated_at"]

    assert client.request("DELETE", f"/items/{item['id']}").status == 204
    gone = client.get(f"/items/{item['id']}")
    assert (gone.status, gone.json()) == (404, {"detail": f"item {item['id']} not found"})

    # The creation reached the topic (and the queue subscribed to it) ...
    [envelope] = [json.loads(body) for body in cloud.published()]
    assert envelope["Type"] == "Notification"
    assert envelope["MessageAttributes"]["action"]["Value"] == "created"
    message = json.loads(envelope["Message"])
    assert message == {"action": "created", "item": item}
    # ... and every change the stream, in order.
    changes = [json.loads(data) for data in cloud.records()]
    assert [(c["kind"], c["id"]) for c in changes] == [
        ("created", item["id"]),
        ("updated", item["id"]),
        ("deleted", item["id"]),
    ]
    assert changes[0]["price_cents"] == 2500


def test_missing_items_are_404_and_change_nothing(client: LambdaClient, cloud: Cloud) -> None:
    assert client.get("/items/999").status == 404
    assert client.request("PATCH", "/items/999", json_body={"quantity": 1}).status == 404
    assert client.request("DELETE", "/items/999").status == 404
    assert cloud.published() == [] and cloud.records() == []


def test_pagination_walks_every_item_once(client: LambdaClient) -> None:
    made = [create(client, name=f"item {n}")["id"] for n in range(7)]
    seen: list[int] = []
    pages = 0
    query: dict[str, str] = {"limit": "3"}
    while True:
        response = client.get("/items", query=query)
        assert response.status == 200
        page = response.json()
        pages += 1
        assert len(page["items"]) <= 3
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        query = {"limit": "3", "cursor": page["next_cursor"]}
    assert seen == made
    assert pages == 3


def test_a_full_last_page_has_no_cursor(client: LambdaClient) -> None:
    for n in range(2):
        create(client, name=f"item {n}")
    page = client.get("/items", query={"limit": "2"}).json()
    assert len(page["items"]) == 2 and page["next_cursor"] is None
    assert client.get("/items").json()["next_cursor"] is None


def test_an_item_created_between_pages_is_not_missed(client: LambdaClient) -> None:
    first = [create(client, name=f"a{n}")["id"] for n in range(3)]
    page = client.get("/items", query={"limit": "2"}).json()
    assert [i["id"] for i in page["items"]] == first[:2]
    late = create(client, name="late")["id"]
    rest = client.get("/items", query={"limit": "2", "cursor": page["next_cursor"]}).json()
    assert [i["id"] for i in rest["items"]] == [first[2], late]


def _fields(response: Any) -> list[tuple[str, ...]]:
    assert response.status == 422, response.text
    return [tuple(str(p) for p in error["loc"]) for error in response.json()["detail"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"price_cents": 1}, ("body", "name")),
        ({"name": "", "price_cents": 1}, ("body", "name")),
        ({"name": "   ", "price_cents": 1}, ("body", "name")),
        ({"name": "x" * 101, "price_cents": 1}, ("body", "name")),
        ({"name": "pen"}, ("body", "price_cents")),
        ({"name": "pen", "price_cents": -1}, ("body", "price_cents")),
        ({"name": "pen", "price_cents": "150"}, ("body", "price_cents")),
        ({"name": "pen", "price_cents": 1.5}, ("body", "price_cents")),
        ({"name": "pen", "price_cents": True}, ("body", "price_cents")),
        ({"name": "pen", "price_cents": 1, "quantity": -2}, ("body", "quantity")),
        ({"name": "pen", "price_cents": 1, "colour": "red"}, ("body", "colour")),
    ],
)
def test_invalid_items_are_422_naming_the_field(
    client: LambdaClient, cloud: Cloud, body: dict[str, Any], field: tuple[str, ...]
) -> None:
    assert _fields(client.post("/items", json_body=body)) == [field]
    assert client.get("/items").json()["items"] == []
    assert cloud.published() == []


def test_malformed_json_is_422(client: LambdaClient) -> None:
    response = client.post(
        "/items", body=b'{"name": "pen",', headers={"content-type": "application/json"}
    )
    assert response.status == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_invalid_patches_are_422(client: LambdaClient) -> None:
    item = create(client)
    path = f"/items/{item['id']}"
    assert _fields(client.request("PATCH", path, json_body={})) == [("body",)]
    assert _fields(client.request("PATCH", path, json_body={"name": None})) == [("body",)]
    assert _fields(client.request("PATCH", path, json_body={"quantity": -1})) == [
        ("body", "quantity")
    ]
    assert _fields(client.request("PATCH", path, json_body={"id": 7})) == [("body", "id")]
    assert client.get(path).json() == item


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, ("query", "limit")),
        ({"limit": "101"}, ("query", "limit")),
        ({"limit": "ten"}, ("query", "limit")),
        ({"cursor": "not-a-cursor"}, ("query", "cursor")),
        ({"cursor": "YWZ0ZXI6eA"}, ("query", "cursor")),  # "after:x"
    ],
)
def test_bad_page_parameters_are_422(
    client: LambdaClient, query: dict[str, str], field: tuple[str, ...]
) -> None:
    assert _fields(client.get("/items", query=query)) == [field]


def test_non_numeric_ids_are_422(client: LambdaClient) -> None:
    assert _fields(client.get("/items/abc")) == [("path", "item_id")]


def test_a_write_the_topic_does_not_take_is_undone_with_503(
    client: LambdaClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from items import changes

    from servers import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL_SNS", f"http://127.0.0.1:{free_port()}")  # closed
    changes._client.cache_clear()
    response = client.post("/items", json_body={"name": "pen", "price_cents": 1})
    assert response.status == 503
    assert response.header("retry-after") == "1"
    assert "nothing was changed" in response.json()["detail"]
    assert "127.0.0.1" not in response.text  # the cause is logged, not returned
    assert client.get("/items").json()["items"] == []


def test_health_is_answered_without_the_app() -> None:
    response = LambdaClient(aws.handler("items.api:app", health_path="/health")).get("/health")
    assert response.status == 200


def test_a_warm_environment_is_ready_before_its_first_request(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import create_engine, inspect

    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency")
    handler = aws.handler("items.api:app")  # what Lambda's init phase of a warm environment runs
    engine = create_engine(database)
    try:
        assert {"items", "audit", "audit_daily", "item_stats"} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()
    assert LambdaClient(handler).get("/items").json() == {"items": [], "next_cursor": None}
