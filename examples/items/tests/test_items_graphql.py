"""The GraphQL endpoint through faasport.testing: queries and mutations over the same data and
validation as the REST API, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from items_cloud import Cloud

from faasport import aws
from faasport.testing import LambdaClient

pytestmark = pytest.mark.usefixtures("database")

HANDLER = aws.handler("items.api:app")
FIELDS = "id name description priceCents quantity createdAt updatedAt"


@pytest.fixture
def client(cloud: Cloud) -> LambdaClient:
    return LambdaClient(HANDLER, source="apigw-v2")


def graphql(client: LambdaClient, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json_body={"query": query, "variables": variables})
    assert response.status == 200, response.text
    body: dict[str, Any] = response.json()
    return body


CREATE = f"""
mutation Create($input: ItemInput!) {{ createItem(input: $input) {{ {FIELDS} }} }}
"""


def test_mutations_and_queries_share_the_rest_data(client: LambdaClient, cloud: Cloud) -> None:
    made = graphql(client, CREATE, input={"name": "mug", "priceCents": 800, "quantity": 4})
    assert "errors" not in made
    item = made["data"]["createItem"]
    rest = client.get(f"/items/{item['id']}").json()
    assert (rest["name"], rest["price_cents"], rest["quantity"]) == ("mug", 800, 4)

    other = client.post("/items", json_body={"name": "cup", "price_cents": 300}).json()
    listed = graphql(client, "{ items(limit: 1) { items { id name } nextCursor } }")
    page = listed["data"]["items"]
    assert page["items"] == [{"id": item["id"], "name": "mug"}]
    rest_of = graphql(
        client,
        "query Page($cursor: String) { items(limit: 1, cursor: $cursor) "
        "{ items { id name } nextCursor } }",
        cursor=page["nextCursor"],
    )["data"]["items"]
    assert rest_of == {"items": [{"id": other["id"], "name": "cup"}], "nextCursor": None}

    one = graphql(client, "query One($id: Int!) { item(id: $id) { name } }", id=other["id"])
    assert one["data"] == {"item": {"name": "cup"}}

    updated = graphql(
        client,
        "mutation U($id: Int!) { updateItem(id: $id, changes: {quantity: 9}) { quantity name } }",
        id=item["id"],
    )
    assert updated["data"]["updateItem"] == {"quantity": 9, "name": "mug"}
    assert client.get(f"/items/{item['id']}").json()["quantity"] == 9

    deleted = graphql(client, "mutation D($id: Int!) { deleteItem(id: $id) }", id=item["id"])
    assert deleted["data"] == {"deleteItem": True}
    assert client.get(f"/items/{item['id']}").status == 404

    # The same events as REST writes: two creations published, five changes on the stream.
    assert len(cloud.published()) == 2
    kinds = [json.loads(data)["kind"] for data in cloud.records()]
    assert kinds == ["created", "created", "updated", "deleted"]


def test_missing_items_are_null_or_false(client: LambdaClient) -> None:
    assert graphql(client, "{ item(id: 404) { id } }")["data"] == {"item": None}
    assert graphql(client, "mutation { deleteItem(id: 404) }")["data"] == {"deleteItem": False}
    missing = graphql(client, 'mutation { updateItem(id: 404, changes: {name: "x"}) { id } }')
    assert missing["data"] == {"updateItem": None}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"name": " ", "priceCents": 1}, "name: String should have at least 1 character"),
        ({"name": "pen", "priceCents": -5}, "price_cents: Input should be greater than or equal"),
        ({"name": "pen", "priceCents": 1, "quantity": -1}, "quantity: Input should be greater"),
    ],
)
def test_invalid_input_is_an_error_naming_the_field(
    client: LambdaClient, cloud: Cloud, item: dict[str, Any], message: str
) -> None:
    answer = graphql(client, CREATE, input=item)
    assert answer["data"] is None
    [error] = answer["errors"]
    assert error["message"].startswith("invalid input: " + message), error
    assert client.get("/items").json()["items"] == []
    assert cloud.published() == []


def test_type_errors_and_bad_arguments_are_graphql_errors(client: LambdaClient) -> None:
    wrong_type = graphql(client, CREATE, input={"name": "pen", "priceCents": "cheap"})
    assert "Int cannot represent non-integer value" in wrong_type["errors"][0]["message"]
    empty = graphql(client, "mutation { updateItem(id: 1, changes: {}) { id } }")
    assert "give at least one of" in empty["errors"][0]["message"]
    limit = graphql(client, "{ items(limit: 500) { nextCursor } }")
    assert limit["errors"][0]["message"] == "limit must be from 1 to 100"
    cursor = graphql(client, '{ items(cursor: "zz") { nextCursor } }')
    assert "not a cursor this API returned" in cursor["errors"][0]["message"]
    unknown = graphql(client, "{ items { price } }")
    assert "Cannot query field 'price'" in unknown["errors"][0]["message"]
