"""The runtime invoker's log writer: lines logged on an event loop are held to the end of
the loop's turn and written together; others are written at once."""

from __future__ import annotations

import asyncio
import threading

import pytest

from faasport.local.invoker import _StderrLines


def test_lines_logged_in_one_turn_are_written_after_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = _StderrLines()

    async def turn() -> str:
        log("START")
        log("END")
        held = capsys.readouterr().err
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return held

    assert asyncio.run(turn()) == ""
    assert capsys.readouterr().err == "START\nEND\n"


def test_lines_held_by_a_stopped_loop_are_written_by_the_next_loop(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = _StderrLines()
    loop = asyncio.new_event_loop()

    def log_and_stop() -> None:
        log("first")
        loop.stop()  # before the turn's flush runs

    loop.call_soon(log_and_stop)
    loop.run_forever()
    loop.close()
    assert capsys.readouterr().err == ""

    async def later() -> None:
        log("second")
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    asyncio.run(later())  # the same thread, another loop
    assert capsys.readouterr().err == "first\nsecond\n"


def test_lines_logged_off_a_loop_are_written_at_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = _StderrLines()
    thread = threading.Thread(target=log, args=("from a thread",))
    thread.start()
    thread.join()
    assert capsys.readouterr().err == "from a thread\n"
    log("from the main thread")
    assert capsys.readouterr().err == "from the main thread\n"
