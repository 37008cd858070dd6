"""The state stores of tests/state (started once per session), for the rooms tests."""

from collections.abc import Iterator

import pytest

from faasport.websocket import connections
from state.conftest import (  # noqa: F401
    postgres_server,
    postgres_url,
    redis_url,
    sqlite_url,
)


@pytest.fixture(autouse=True)
def _close_connections() -> Iterator[None]:
    """The client keeps connections alive, as it should on Lambda; a test's end closes them."""
    yield
    connections.close_connections()
