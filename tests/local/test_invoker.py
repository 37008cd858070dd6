"""The log sink of ``faasport dev``: lines logged during one turn of the event loop are
written together, in order; lines logged off the loop are written at once, after those
still waiting."""

from __future__ import annotations

import asyncio

from faasport.local.invoker import BatchedLines


def test_lines_of_one_loop_turn_are_one_write_in_order() -> None:
    writes: list[str] = []
    lines = BatchedLines(writes.append)

    async def run() -> None:
        lines("START RequestId: 1")
        lines("END RequestId: 1")
        lines("REPORT RequestId: 1")
        assert writes == []  # not yet: at the end of this turn
        await asyncio.sleep(0)
        lines("START RequestId: 2")
        await asyncio.sleep(0)

    asyncio.run(run())
    assert writes == [
        "START RequestId: 1\nEND RequestId: 1\nREPORT RequestId: 1",
        "START RequestId: 2",
    ]


def test_a_line_logged_off_the_loop_comes_after_those_waiting() -> None:
    writes: list[str] = []
    lines = BatchedLines(writes.append)
    loop = asyncio.new_event_loop()

    def log_and_stop() -> None:
        lines("first")
        loop.stop()  # the loop ends before the turn that would write "first"

    try:
        loop.call_soon(log_and_stop)
        loop.run_forever()
    finally:
        loop.close()
    assert writes == []
    lines("second")  # from no loop: written now, after "first"
    assert writes == ["first", "second"]


def test_flush_writes_nothing_when_nothing_waits() -> None:
    writes: list[str] = []
    lines = BatchedLines(writes.append)
    lines.flush()
    assert writes == []
