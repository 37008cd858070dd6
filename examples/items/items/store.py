"""The items, read and written in one place for the REST endpoints and GraphQL.

Every write also tells the others (``items.changes``) inside its transaction: when the topic
or the stream cannot take the change, the write is rolled back and the caller answers 503,
so no item exists whose creation was never announced.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from sqlalchemy import Row, delete, insert, select, update

from items import changes
from items.database import engine, items, now
from items.models import Item, ItemIn, ItemPage, ItemPatch

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class BadCursor(ValueError):
    """A ``cursor`` this API did not hand out."""


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind != "after" or not value.isdigit():
            raise ValueError(cursor)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadCursor("not a cursor this API returned; start again without one") from None


def _item(row: Row[Any]) -> Item:
    return Item.model_validate(row._asdict())


def page(limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> ItemPage:
    """Up to ``limit`` items by id, after the ``cursor`` of the previous page."""
    query = select(items).order_by(items.c.id).limit(limit + 1)
    if cursor is not None:
        query = query.where(items.c.id > decode_cursor(cursor))
    with engine().connect() as connection:
        rows = [_item(row) for row in connection.execute(query)]
    more = len(rows) > limit
    rows = rows[:limit]
    return ItemPage(items=rows, next_cursor=encode_cursor(rows[-1].id) if more else None)


def get(item_id: int) -> Item | None:
    with engine().connect() as connection:
        row = connection.execute(select(items).where(items.c.id == item_id)).first()
    return None if row is None else _item(row)


def create(data: ItemIn) -> Item:
    at = now()
    with engine().begin() as connection:
        row = connection.execute(
            insert(items)
            .values(**data.model_dump(), created_at=at, updated_at=at)
            .returning(*items.c)
        ).one()
        item = _item(row)
        changes.created(item)
    return item


def change(item_id: int, patch: ItemPatch) -> Item | None:
    with engine().begin() as connection:
        row = connection.execute(
            update(items)
            .where(items.c.id == item_id)
            .values(**patch.changes(), updated_at=now())
            .returning(*items.c)
        ).first()
        if row is None:
            return None
        item = _item(row)
        changes.updated(item)
    return item


def remove(item_id: int) -> bool:
    with engine().begin() as connection:
        row = connection.execute(
            delete(items).where(items.c.id == item_id).returning(*items.c)
        ).first()
        if row is None:
            return False
        changes.deleted(_item(row))
    return True
