"""The dashboard's HTTP side, mounted on the gateway at ``/_faasport/``: the page (plain
HTML, CSS and a script shipped as package data), a JSON API over the :class:`Feed` and the
queue store, and the live feed as Server-Sent Events.

Requests arrive on the emulator's loop (the gateway's), like the feed's own updates. The
POST endpoints want ``content-type: application/json``: a page on another origin cannot
send that without a CORS preflight, which is never granted, so it cannot press the buttons.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from faasport.core.http import HttpResponse
from faasport.local.dashboard.feed import Feed
from faasport.local.dashboard.functions import BadEvent, describe, generate
from faasport.local.streaming import StreamedResponse

if TYPE_CHECKING:
    from faasport.config.model import Project
    from faasport.local.emulator import Emulator
    from faasport.local.http11 import Request
    from faasport.local.sources.queues import Queues

PREFIX = "/_faasport"
_STATIC = {
    "": ("index.html", b"text/html; charset=utf-8"),
    "dashboard.css": ("dashboard.css", b"text/css; charset=utf-8"),
    "dashboard.js": ("dashboard.js", b"text/javascript; charset=utf-8"),
}
#: Seconds between looks at the queue depths while someone watches, and between comments
#: that keep an idle feed connection open.
QUEUE_INTERVAL = 1.0
_SECURITY = [
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:",
    ),
]


def shadowing_route(project: Project) -> str | None:
    """A configured route under ``/_faasport`` (the dashboard then stays off the gateway)."""
    for function in project.functions.values():
        for route in function.routes:
            if route.path == PREFIX or route.path.startswith(PREFIX + "/"):
                return f"{function.name}: {route.method} {route.path}"
    return None


def _shown(body: str, limit: int = 4096) -> str:
    """A message body as listed: its start when it is long (a queue holds up to 256 KB each)."""
    return body if len(body) <= limit else f"{body[:limit]}\n... ({len(body)} characters in all)"


def _json(status: int, document: Any) -> HttpResponse:
    body = json.dumps(document, ensure_ascii=False).encode()
    return HttpResponse(status, [(b"content-type", b"application/json"), *_SECURITY], body)


def _error(status: int, message: str) -> HttpResponse:
    return _json(status, {"message": message})


class Dashboard:
    def __init__(self, project: Project, emulator: Emulator, queues: Queues | None) -> None:
        self.project = project
        self.emulator = emulator
        self.queues = queues
        self.feed = Feed()
        self.functions = describe(project)
        self._files: dict[str, bytes] = {}

    def attach(self) -> None:
        """Start recording (before the emulator starts, to see the first environments)."""
        self.emulator.observers.append(self.feed)

    def close(self) -> None:
        """End the live feeds (their connections close)."""
        self.emulator.loop.call_soon_threadsafe(self.feed.close)

    async def answer(self, request: Request) -> HttpResponse:
        path = unquote(request.path)[len(PREFIX) :]
        if path == "":
            return HttpResponse(308, [(b"location", PREFIX.encode() + b"/")])
        parts = path.strip("/").split("/") if path != "/" else [""]
        method = request.method
        if method in ("GET", "HEAD") and len(parts) == 1 and parts[0] in _STATIC:
            return self._static(parts[0])
        if parts[0] != "api" or len(parts) < 2:
            return _error(404, "Not Found")
        if method == "POST":
            if (request.header("content-type") or "").split(";")[0] != "application/json":
                return _error(415, "send JSON (content-type: application/json)")
            return await self._post(parts[1:], request.body)
        if method != "GET":
            return _error(405, "Method Not Allowed")
        return self._get(parts[1:])

    def _static(self, name: str) -> HttpResponse:
        file, kind = _STATIC[name]
        body = self._files.get(file)
        if body is None:
            body = self._files[file] = (resources.files(__package__) / "static" / file).read_bytes()
        return HttpResponse(200, [(b"content-type", kind), *_SECURITY], body)

    def _get(self, parts: list[str]) -> HttpResponse:
        match parts:
            case ["state"]:
                return _json(200, self.state())
            case ["stream"]:
                return StreamedResponse(
                    200,
                    [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-store")],
                    self._stream(),
                    live=True,
                )
            case ["invocations", request_id]:
                record = self.feed.invocation(request_id)
                if record is None:
                    return _error(404, f"no invocation {request_id} in the recent history")
                return _json(200, record.details())
            case ["queues", name]:
                if self.queues is None or name not in self.queues.specs:
                    return _error(404, f'unknown queue "{name}"')
                messages = [
                    {"id": m, "body": _shown(body), "receives": receives}
                    for m, body, receives in self.queues.peek(name)
                ]
                return _json(200, {"queue": name, "messages": messages})
        return _error(404, "Not Found")

    async def _post(self, parts: list[str], body: bytes) -> HttpResponse:
        try:
            document = json.loads(body or b"{}")
        except ValueError:
            return _error(400, "the body is not JSON")
        if not isinstance(document, dict):
            return _error(400, "the body must be a JSON object")
        match parts:
            case ["functions", name, "invoke"]:
                return await self._invoke(name, document)
            case ["queues", name, "redrive"]:
                from faasport.local.sources.queues import QueueError

                if self.queues is None or name not in self.queues.specs:
                    return _error(404, f'unknown queue "{name}"')
                try:
                    moved = self.queues.redrive(name)
                except QueueError as exc:
                    return _error(400, str(exc))
                return _json(200, {"queue": name, "moved": moved})
        return _error(404, "Not Found")

    async def _invoke(self, name: str, document: dict[str, Any]) -> HttpResponse:
        if name not in self.project.functions:
            return _error(404, f'unknown function "{name}"')
        fields = {k: document.get(k, "") for k in ("source", "path", "body")}
        if not all(isinstance(v, str) for v in fields.values()):
            return _error(400, "source, path and body are strings")
        source = fields["source"] or next(f["source"] for f in self.functions if f["name"] == name)
        try:
            event = generate(self.project, name, source, fields["path"] or "/", fields["body"])
        except BadEvent as exc:
            return _error(400, str(exc))
        outcome = await self.emulator.invoke_async(name, json.dumps(event).encode())
        return _json(200, {"requestId": outcome.request_id, "status": outcome.status.value})

    # -- state and the live feed -----------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {
            "project": self.project.name,
            "functions": self.functions,
            **self.feed.snapshot(),
            "queues": self._queue_depths(),
            "watchers": self.feed.watchers,
        }

    def _queue_depths(self) -> list[dict[str, Any]]:
        if self.queues is None:
            return []
        depths = []
        for name, spec in sorted(self.queues.specs.items()):
            counts = self.queues.counts(name)
            depths.append({"name": name, "dlq": spec.dlq, **counts})
        return depths

    async def _stream(self) -> AsyncGenerator[bytes, None]:
        client = self.feed.subscribe()
        loop = asyncio.get_running_loop()
        try:
            yield b"retry: 1000\n\n"
            depths = self._queue_depths()
            next_look = loop.time() + QUEUE_INTERVAL
            while True:
                batch = await client.wait(next_look - loop.time())
                if batch is None:
                    return
                if batch:
                    yield b"".join(batch)
                if loop.time() >= next_look:
                    next_look = loop.time() + QUEUE_INTERVAL
                    now = self._queue_depths()
                    if now != depths:
                        depths = now
                        yield b"event: queues\ndata: " + json.dumps(now).encode() + b"\n\n"
                    elif not batch:
                        yield b": idle\n\n"
        finally:
            self.feed.unsubscribe(client)
