"""Projects whose functions note what they saw in files next to their code, served by a real
``faasport dev``: the test reads the notes back, and the note an event source sends to its
on-failure queue when it gives up on a batch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dev_process import Dev, wait_for

#: The start of an app's source: ``note(name, text)`` appends a line to the file ``name``.
NOTE = """
from pathlib import Path

HERE = Path(__file__).parent

def note(name, text):
    with (HERE / name).open("a") as out:
        out.write(text + "\\n")
"""


def lines(root: Path, name: str) -> list[str]:
    """The lines noted in ``name`` so far."""
    log = root / name
    return log.read_text().splitlines() if log.exists() else []


def serve(root: Path, config: str, app: str) -> Dev:
    """``faasport dev`` (without reload) on a project of ``config`` and ``app.py``."""
    (root / "faasport.toml").write_text(config)
    (root / "app.py").write_text(NOTE + app)
    return Dev(root, "--no-reload")


def on_failure_note(dev: Dev, queue: str = "failures") -> dict[str, Any]:
    """The first note on the on-failure queue ``queue``, once one came."""
    sqs = dev.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    received: list[dict[str, Any]] = []

    def noted() -> bool:
        received.extend(sqs.receive_message(QueueUrl=url).get("Messages", []))
        return bool(received)

    wait_for(noted, 30, "the on-failure note")
    note: dict[str, Any] = json.loads(received[0]["Body"])
    return note
