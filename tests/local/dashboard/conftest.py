"""A project with an HTTP function and a queue consumer with a dead-letter queue, served by
a real ``faasport dev`` whose dashboard the tests use."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from dev_process import Dev
from log_project import JOBS

APP = textwrap.dedent(
    """
    import json, logging
    from faasport.core.jsonlog import configure

    log = configure(logging.getLogger("webapp"))

    def app(environ, start_response):
        path = environ["PATH_INFO"]
        log.info("serving %s", path)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"path": path}).encode()]
    """
)
CONFIG = textwrap.dedent(
    """
    name = "board"

    [functions.api]
    app = "webapp:app"
    routes = ["ANY /{proxy+}"]

    [functions.worker]
    handler = "jobs:handle"
    events = [{ queue = "jobs", batch = 1 }]

    [queues.jobs]
    dlq = "jobs-dlq"
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "faasport.toml").write_text(CONFIG)
    (tmp_path / "webapp.py").write_text(APP)
    (tmp_path / "jobs.py").write_text(JOBS)
    return tmp_path


@pytest.fixture
def dev(project: Path) -> Iterator[Dev]:
    server = Dev(project)
    try:
        yield server
    finally:
        server.close()
