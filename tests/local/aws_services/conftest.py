"""The AWS-compatible endpoint in process, over one SQLite store with a ``jobs`` queue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from faasport.local.aws_services.server import Services
from faasport.local.sources.queues import Queues, QueueSpec
from faasport.local.sources.store import Store

#: The namespace of SQS's query-protocol answers.
NS = {"q": "http://queue.amazonaws.com/doc/2012-11-05/"}


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[str]:
    queues = Queues(Store(tmp_path / "events.db").open(), {"jobs": QueueSpec("jobs")})
    services = Services(queues)
    url = services.start()
    try:
        yield url
    finally:
        services.stop()
