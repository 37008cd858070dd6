"""Reaching the running ``faasport dev`` of a project: the ``queue`` (and later ``topic``,
``bucket``, ``stream``, ``bus``, ``schedule``) commands talk to its AWS-compatible endpoint."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from faasport.core.errors import FaasportError

#: The option every command that reaches a running ``faasport dev`` takes.
PROJECT = click.option(
    "--project",
    "-p",
    "directory",
    default=".",
    show_default=True,
    type=click.Path(path_type=Path),
    help="The project whose faasport dev to reach.",
)


class NotRunningError(FaasportError):
    """No ``faasport dev`` runs for the project."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _state(path: Path) -> tuple[int, str]:
    try:
        found = json.loads(path.read_text())
        return int(found["pid"]), str(found["services"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0, ""


def _exchange(
    url: str, method: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, str, bytes]:
    """One HTTP/1.1 request to the endpoint (which always sends Content-Length): status,
    reason, body. A socket rather than http.client, which imports email and ssl: their
    import would cost a one-message command more than the message itself."""
    import socket

    host, _, port = url.removeprefix("http://").partition(":")
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    head.append(f"Content-Length: {len(body)}")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall("\r\n".join(head).encode("latin-1") + b"\r\n\r\n" + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    response = b"".join(chunks)
    top, sep, rest = response.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("an incomplete response")
    lines = top.decode("latin-1").split("\r\n")
    _, status, reason = [*lines[0].split(" ", 2), ""][:3]
    length = next(
        (
            int(v)
            for k, _, v in (line.partition(":") for line in lines[1:])
            if k.strip().lower() == "content-length"
        ),
        len(rest),
    )
    return int(status), reason, rest[:length]


class RunningDev:
    def __init__(self, directory: Path) -> None:
        from faasport.local.sources.dev_state import DEV_STATE

        # The state file is read before the configuration: a command sent to a running
        # faasport dev costs little more than starting Python.
        root = (directory if directory.is_dir() else directory.parent).resolve()
        pid, url = _state(root / DEV_STATE)
        if not pid or not _alive(pid):
            from faasport.config import load_project

            project = load_project(directory)  # a broken or missing config says so first
            pid, url = _state(project.root / DEV_STATE)
            if not pid or not _alive(pid):
                raise NotRunningError(
                    f"faasport dev is not running for {project.root}; start it with: faasport dev"
                )
        self.url = url

    def _request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str] | None = None
    ) -> Any:
        try:
            status, reason, data = _exchange(self.url, method, path, body or b"", headers or {})
        except (OSError, ValueError) as exc:
            raise NotRunningError(
                f"faasport dev does not answer on {self.url} ({exc}); is it still running?"
            ) from None
        if status >= 400:
            try:
                message = json.loads(data).get("message") or reason
            except (ValueError, AttributeError):
                message = reason
            raise FaasportError(str(message))
        return json.loads(data or b"{}")

    def sqs(self, operation: str, request: dict[str, Any]) -> Any:
        """One SQS call in the JSON protocol, as boto3 makes it."""
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"AmazonSQS.{operation}",
        }
        return self._request("POST", "/", json.dumps(request).encode(), headers)

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """A ``faasport dev`` request beyond the AWS APIs (``/_faasport/...``)."""
        data = None if body is None else json.dumps(body).encode()
        return self._request(method, f"/_faasport/{path}", data)

    def queue_url(self, name: str) -> str:
        return str(self.sqs("GetQueueUrl", {"QueueName": name})["QueueUrl"])
