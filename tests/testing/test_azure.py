"""``faasport.testing.azure``: the worker's loop the helpers keep."""

from __future__ import annotations

import asyncio

from faasport.testing.azure import close_loop


def test_closing_a_loop_with_nothing_running() -> None:
    loop = asyncio.new_event_loop()
    close_loop(loop)  # no lifespan task left (lifespan "off", or a WSGI app)
    assert loop.is_closed()


def test_closing_a_loop_cancels_what_still_runs() -> None:
    loop = asyncio.new_event_loop()
    task = loop.create_task(asyncio.sleep(3600))
    close_loop(loop)
    assert task.cancelled() and loop.is_closed()
