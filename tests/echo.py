"""Raw ASGI and WSGI apps that answer with what they received, as JSON: what a codec
handed the app, with no framework in between."""

from __future__ import annotations

import json
from typing import Any

from faasport import aws
from faasport.aws.handler import LambdaHandler, infer_codec
from faasport.testing import LambdaContext


async def asgi_echo(scope: Any, receive: Any, send: Any) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    seen = {
        "method": scope["method"],
        "path": scope["path"],
        "root_path": scope["root_path"],
        "raw_path": scope["raw_path"].decode("latin-1"),
        "query_string": scope["query_string"].decode("latin-1"),
        "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
        "scheme": scope["scheme"],
        "server": list(scope["server"]) if scope["server"] else None,
        "client": list(scope["client"]) if scope["client"] else None,
        "body": body.decode("latin-1"),
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


def wsgi_echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    seen = {k: v for k, v in environ.items() if isinstance(v, str)}
    seen["body"] = environ["wsgi.input"].read().decode("latin-1")
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(seen).encode()]


def call(handler: LambdaHandler, event: dict[str, Any]) -> tuple[int, Any]:
    """Invoke ``handler`` with ``event``: the status and the JSON (or text) body the client
    would get from the source that sent it."""
    codec = infer_codec(event)
    assert codec is not None
    result = handler(event, LambdaContext(aws_request_id="req-1"))
    response = codec.parse_result(result)
    try:
        return response.status, json.loads(response.body)
    except ValueError:
        return response.status, response.body.decode("latin-1")


ASGI = aws.handler(asgi_echo, lifespan="off")
WSGI = aws.handler(wsgi_echo)


def header_values(seen: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in seen["headers"] if k == name]
