"""The HTTP API: REST under /items and GraphQL at /graphql, over the same store."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from strawberry.fastapi import GraphQLRouter

from items import database, store
from items.changes import Unavailable
from items.models import Item, ItemIn, ItemPage, ItemPatch
from items.schema import schema


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Once per environment, before its first request: a provisioned (warm) environment has
    # its tables checked and its connection open before any request waits on it. A database
    # that is down now is not fatal: requests connect again, and answer 500 until it is back.
    try:
        with database.engine().connect():
            pass
    except Exception as exc:
        print(
            json.dumps(
                {"level": "WARNING", "message": "database not reachable", "error": repr(exc)}
            )
        )
    yield


app = FastAPI(title="items", docs_url=None, redoc_url=None, lifespan=lifespan)
app.include_router(GraphQLRouter(schema, graphql_ide=None), prefix="/graphql")


def _not_found(item_id: int) -> JSONResponse:
    return JSONResponse({"detail": f"item {item_id} not found"}, status_code=404)


@app.exception_handler(store.BadCursor)
async def _bad_cursor(request: Request, exc: store.BadCursor) -> JSONResponse:
    # The shape of FastAPI's own validation errors, so clients read one format for 422s.
    detail = [{"type": "value_error", "loc": ["query", "cursor"], "msg": str(exc)}]
    return JSONResponse({"detail": detail}, status_code=422)


@app.exception_handler(Unavailable)
async def _unavailable(request: Request, exc: Unavailable) -> JSONResponse:
    return JSONResponse(
        {"detail": str(exc)},
        status_code=503,
        headers={"retry-after": "1"},
    )


@app.get("/items")
def list_items(
    limit: Annotated[int, Query(ge=1, le=store.MAX_LIMIT)] = store.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> ItemPage:
    return store.page(limit, cursor)


@app.get("/items/{item_id}", response_model=Item)
def get_item(item_id: int) -> Item | JSONResponse:
    return store.get(item_id) or _not_found(item_id)


@app.post("/items", status_code=201, response_model=Item)
def create_item(data: ItemIn, response: Response) -> Item:
    item = store.create(data)
    response.headers["location"] = f"/items/{item.id}"
    return item


@app.patch("/items/{item_id}", response_model=Item)
def update_item(item_id: int, patch: ItemPatch) -> Item | JSONResponse:
    return store.change(item_id, patch) or _not_found(item_id)


@app.delete("/items/{item_id}", status_code=204, response_model=None)
def delete_item(item_id: int) -> Response:
    if store.remove(item_id):
        return Response(status_code=204)
    return _not_found(item_id)
