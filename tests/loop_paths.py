"""The ``loop_path`` fixture: a test runs once on each path of the environment loop, the
direct drive of coroutines and the ordinary ``run_until_complete`` fallback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from faasport.core.loop import environment_loop


@pytest.fixture(params=["direct", "fallback"])
def loop_path(request: pytest.FixtureRequest) -> Iterator[str]:
    env = environment_loop()
    saved = env.direct
    if request.param == "direct" and not saved:
        pytest.skip("the direct path is not enabled on this interpreter")
    env.direct = request.param == "direct"
    try:
        yield str(request.param)
    finally:
        env.direct = saved
