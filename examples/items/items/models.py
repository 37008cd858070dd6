"""What the API accepts and returns, validated by pydantic: the REST endpoints and the GraphQL
mutations check input with the same models, so both refuse the same values."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Description = Annotated[str, StringConstraints(max_length=1000)]
Cents = Annotated[int, Field(ge=0, le=1_000_000_000)]
Quantity = Annotated[int, Field(ge=0, le=1_000_000)]


class ItemIn(BaseModel):
    """A new item."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Name
    description: Description = ""
    price_cents: Cents
    quantity: Quantity = 0


class ItemPatch(BaseModel):
    """Changes to an item: the fields given, at least one."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Name | None = None
    description: Description | None = None
    price_cents: Cents | None = None
    quantity: Quantity | None = None

    @model_validator(mode="before")
    @classmethod
    def _not_empty(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data:
            raise ValueError("give at least one of name, description, price_cents, quantity")
        return data

    @model_validator(mode="after")
    def _no_nulls(self) -> ItemPatch:
        nulls = [name for name in self.model_fields_set if getattr(self, name) is None]
        if nulls:
            raise ValueError(f"{', '.join(sorted(nulls))} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class Item(BaseModel):
    id: int
    name: str
    description: str
    price_cents: int
    quantity: int
    created_at: datetime
    updated_at: datetime


class ItemPage(BaseModel):
    items: list[Item]
    #: Pass it as ``cursor`` for the next page; None on the last page.
    next_cursor: str | None
