"""The GraphQL schema (Strawberry) over the same store as the REST endpoints: the same
validation, the same events on every write."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

import strawberry
from graphql import GraphQLError
from pydantic import BaseModel, ValidationError

from items import models, store

M = TypeVar("M", bound=BaseModel)


@strawberry.type
class Item:
    id: int
    name: str
    description: str
    price_cents: int
    quantity: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, item: models.Item) -> Item:
        return cls(**item.model_dump())


@strawberry.type
class ItemPage:
    items: list[Item]
    next_cursor: str | None


@strawberry.input
class ItemInput:
    name: str
    description: str = ""
    price_cents: int
    quantity: int = 0


@strawberry.input
class ItemChanges:
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    price_cents: int | None = strawberry.UNSET
    quantity: int | None = strawberry.UNSET


def _valid(model: type[M], given: object) -> M:
    values = {k: v for k, v in vars(given).items() if v is not strawberry.UNSET}
    try:
        valid: M = model.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'input'}: {error['msg']}"
            for error in exc.errors()
        )
        raise GraphQLError(f"invalid input: {problems}") from None
    return valid


@strawberry.type
class Query:
    @strawberry.field
    def items(self, limit: int = store.DEFAULT_LIMIT, cursor: str | None = None) -> ItemPage:
        if not 1 <= limit <= store.MAX_LIMIT:
            raise GraphQLError(f"limit must be from 1 to {store.MAX_LIMIT}")
        try:
            found = store.page(limit, cursor)
        except store.BadCursor as exc:
            raise GraphQLError(str(exc)) from None
        return ItemPage(items=[Item.of(i) for i in found.items], next_cursor=found.next_cursor)

    @strawberry.field
    def item(self, id: int) -> Item | None:
        found = store.get(id)
        return None if found is None else Item.of(found)


@strawberry.type
class Mutation:
    @strawberry.mutation
    def create_item(self, input: ItemInput) -> Item:
        return Item.of(store.create(_valid(models.ItemIn, input)))

    @strawberry.mutation
    def update_item(self, id: int, changes: ItemChanges) -> Item | None:
        found = store.change(id, _valid(models.ItemPatch, changes))
        return None if found is None else Item.of(found)

    @strawberry.mutation
    def delete_item(self, id: int) -> bool:
        return store.remove(id)


schema = strawberry.Schema(query=Query, mutation=Mutation)
