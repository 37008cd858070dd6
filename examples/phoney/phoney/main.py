"""A small FastAPI app: the HTTP function ``api`` of the phoney example."""

from __future__ import annotations

from fastapi import FastAPI, Response
from pydantic import BaseModel

app = FastAPI(title="phoney")


class Item(BaseModel):
    name: str
    price: float = 0.0


@app.get("/")
async def hello() -> dict[str, str]:
    return {"message": "hello from phoney"}


@app.get("/items/{item_id}")
async def read_item(item_id: int, q: str | None = None) -> dict[str, int | str | None]:
    return {"item_id": item_id, "q": q}


@app.post("/items", status_code=201)
async def create_item(item: Item) -> Item:
    return item


@app.get("/login")
async def login(response: Response) -> dict[str, bool]:
    response.set_cookie("session", "abc123", httponly=True)
    response.set_cookie("theme", "dark")
    return {"logged_in": True}
