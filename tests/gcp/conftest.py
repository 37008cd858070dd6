"""The real functions-framework server (its CLI, gunicorn behind it) on loopback ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import functions_framework

TESTS = Path(__file__).resolve().parent.parent

MAIN = """
import json, os
from apps import fastapi_app, flask_app
from faasport import gcp

fastapi = gcp.handler(fastapi_app())
flask = gcp.handler(flask_app())


def record(records, context):
    if any(r.attributes.get("fail") for r in records if hasattr(r, "attributes")):
        raise RuntimeError("handler failed")
    with open(os.environ["RECORDS_FILE"], "a") as out:
        for r in records:
            out.write(json.dumps({"type": type(r).__name__, "context": context.type,
                                  **{k: getattr(r, k) for k in r.__slots__ if k != "raw"
                                     and not isinstance(getattr(r, k), bytes)},
                                  "body": getattr(r, "body", b"").decode()}) + "\\n")


events = gcp.event_handler(record)


async def unsendable_app(scope, receive, send):
    # Answers the status and header its query names, as an app with a bug might.
    from urllib.parse import parse_qsl

    query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
    name, value = query.get("name", "x-ok"), query.get("value", "v")
    header = (name.encode("latin-1"), value.encode("latin-1"))
    start = {"type": "http.response.start", "status": int(query.get("status", "200"))}
    await send({**start, "headers": [header]})
    await send({"type": "http.response.body", "body": b"what the app meant to say"})


unsendable = gcp.handler(unsendable_app, lifespan="off")
unsendable_streamed = gcp.handler(unsendable_app, lifespan="off", stream=True)
"""


class Server:
    def __init__(self, url: str, records: Path) -> None:
        self.url = url
        self.records = records


@pytest.fixture(scope="session")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("gcp")
    (directory / "main.py").write_text(MAIN)
    return directory


def start(source: Path, target: str, *options: str) -> Iterator[Server]:
    records = source / f"{' '.join([target, *options])}.jsonl"
    environment = {"RECORDS_FILE": str(records), "WORKERS": "1", "THREADS": "4"}
    with functions_framework(source / "main.py", target, environment, options, [TESTS]) as url:
        yield Server(url, records)


@pytest.fixture(scope="session")
def fastapi_server(source: Path) -> Iterator[Server]:
    yield from start(source, "fastapi")


@pytest.fixture(scope="session")
def flask_server(source: Path) -> Iterator[Server]:
    yield from start(source, "flask")


@pytest.fixture(scope="session", params=["unsendable", "unsendable_streamed"])
def unsendable_server(source: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    yield from start(source, str(request.param))


@pytest.fixture(scope="session", params=["http", "cloudevent"])
def event_server(source: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    yield from start(source, "events", "--signature-type", str(request.param))
