"""A bare ASGI app: what it answers shows where its modules were imported from."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import idna
import markupsafe

TEMPLATE = Path(__file__).parent / "templates" / "page.html"


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    modules = ("faasport", "markupsafe", "markupsafe._speedups", "idna")
    body = {
        "path": scope["path"],
        "escaped": str(markupsafe.escape(f"<{scope['path']}>")),
        "domain": idna.encode("bücher.example").decode(),
        "page": TEMPLATE.read_text().strip(),
        "files": {name: getattr(sys.modules.get(name), "__file__", None) for name in modules},
    }
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})
