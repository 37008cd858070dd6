"""A project whose functions log: an HTTP app that logs a line per request and raises on
``/boom``, and a queue consumer that prints each record's body and raises on one that says
``fail``. The log tests run it under a real ``faasport dev``."""

from __future__ import annotations

import textwrap
from pathlib import Path

APP = textwrap.dedent(
    """
    import json, logging
    from faasport.core.jsonlog import configure

    log = configure(logging.getLogger("webapp"))

    def app(environ, start_response):
        path = environ["PATH_INFO"]
        log.warning("handling %s", path)
        if path == "/boom":
            raise ValueError("boom <b>")
        start_response("201 Created", [("Content-Type", "application/json")])
        return [json.dumps({"path": path}).encode()]
    """
)
JOBS = textwrap.dedent(
    """
    def handle(event, context):
        for record in event["Records"]:
            print("job", record["body"])
            if record["body"] == "fail":
                raise RuntimeError("cannot do it")
        return {"done": len(event["Records"])}
    """
)
CONFIG = textwrap.dedent(
    """
    name = "logs"

    [functions.api]
    app = "webapp:app"
    routes = ["ANY /{proxy+}"]

    [functions.worker]
    handler = "jobs:handle"
    """
)


def write_log_project(root: Path) -> Path:
    """The project written into ``root``."""
    (root / "faasport.toml").write_text(CONFIG)
    (root / "webapp.py").write_text(APP)
    (root / "jobs.py").write_text(JOBS)
    return root
