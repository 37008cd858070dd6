"""A raw ASGI app that answers with what it saw, for codec tests."""

from __future__ import annotations

import json
from typing import Any


async def echo(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        raise RuntimeError("no lifespan")
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    seen = {
        "method": scope["method"],
        "path": scope["path"],
        "raw_path": scope["raw_path"].decode("latin-1"),
        "root_path": scope["root_path"],
        "query": scope["query_string"].decode("latin-1"),
        "headers": [[k.decode("latin-1"), v.decode("utf-8")] for k, v in scope["headers"]],
        "scheme": scope["scheme"],
        "server": list(scope["server"]) if scope["server"] else None,
        "client": scope["client"][0] if scope["client"] else None,
        "body": body.decode("utf-8", "replace"),
    }
    payload = json.dumps(seen).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def fixture(name: str) -> dict[str, Any]:
    from pathlib import Path

    path = Path(__file__).parent / "fixtures" / "events" / name
    data: dict[str, Any] = json.loads(path.read_text())
    return data
