"""Raw-socket helpers and an echo project for the gateway tests."""

from __future__ import annotations

import re
import socket
import textwrap
import uuid
from pathlib import Path

ECHO = """
import json


def handle(event, context):
    answer = {
        "version": event.get("version", "1.0"),
        "path": event.get("rawPath", event.get("path")),
        "query": event.get("rawQueryString"),
        "params": event.get("queryStringParameters"),
        "headers": event.get("headers"),
        "body": event.get("body"),
        "base64": event.get("isBase64Encoded"),
        "size": len(event.get("body") or ""),
        "stage": event["requestContext"]["stage"],
        "resource": event.get("resource"),
        "pathParameters": event.get("pathParameters"),
    }
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps(answer)}


def slow(event, context):
    import time
    from urllib.parse import parse_qs

    time.sleep(float(parse_qs(event.get("rawQueryString") or "").get("s", ["1"])[0]))
    return {"statusCode": 200, "body": "done"}
"""


def write_project(root: Path, config: str) -> str:
    """An echo project in ``root``; ``config`` may use ``{module}``. The module name."""
    module = f"echo_{uuid.uuid4().hex[:8]}"
    (root / f"{module}.py").write_text(ECHO)
    (root / "faasport.toml").write_text(textwrap.dedent(config.format(module=module)))
    return module


def exchange(address: tuple[str, int], data: bytes, timeout: float = 10.0) -> bytes:
    """Send ``data`` on a new connection and read until the server closes it."""
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(data)
        return read_all(sock)


def read_all(sock: socket.socket) -> bytes:
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
    except ConnectionResetError:
        pass
    return answer


def statuses(answer: bytes) -> list[int]:
    """The status of every response in ``answer`` (responses to pipelined requests)."""
    return [int(status) for status in re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)]
