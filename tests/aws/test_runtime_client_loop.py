"""faasport's runtime client's warm loop: each invocation's X-Ray header in
``_X_AMZN_TRACE_ID`` without the process growing with every new trace id, and events and
results read and written as ``json.loads`` and ``json.dumps`` do, an error included."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

from tests.lambda_runtime_api import LambdaStyleApi, run_runtime_client

TARGET = textwrap.dedent(
    """
    import os

    def rss(event, context):
        with open("/proc/self/status") as status:
            rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        return {"trace": os.environ.get("_X_AMZN_TRACE_ID"), "rss_kb": rss}

    kept = []

    def shapes(event, context):
        if event == "loop":  # a list that holds itself: no JSON for it
            kept.append([])
            kept[0].append(kept[0])
            return kept[0]
        if event == "same list":  # the same list, its loop undone
            kept[0][0] = 1.5
            return kept[0]
        return event
    """
)


def run(
    tmp_path: Path, handler: str, events: list[bytes], trace: Callable[[int], str] | None = None
) -> tuple[str, list[tuple[str, bytes]]]:
    """``loop_target.handler`` given ``events`` (request ids ``request-0``, ``request-1``...)
    over the Unix socket, as fast as the Runtime API allows; its output, and the paths and
    bodies it posted."""
    (tmp_path / "loop_target.py").write_text(TARGET)
    invocations = []
    for n, event in enumerate(events):
        headers = [
            ("Lambda-Runtime-Aws-Request-Id", f"request-{n}"),
            ("Lambda-Runtime-Deadline-Ms", "99999999999999"),
            ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:::function:t"),
        ]
        if trace is not None:
            headers.append(("Lambda-Runtime-Trace-Id", trace(n)))
        invocations.append((headers, event))
    api = LambdaStyleApi(invocations, pieces=False)
    output = run_runtime_client(tmp_path, api, f"loop_target.{handler}", "unix", timeout=60)
    return output, api.posted


def test_a_new_trace_id_per_invocation_does_not_grow_memory(tmp_path: Path) -> None:
    # A long trace header makes what each invocation would leave behind easy to see: the
    # C library keeps every value ever given to setenv (a caller may still hold the
    # pointer getenv returned), ~4 KB per invocation here, 12 MB over the run.
    count = 3000
    parent = "a" * 4000

    def trace(n: int) -> str:
        return f"Root=1-00000001-{n:024d};Parent={parent};Sampled=1"

    _, posted = run(tmp_path, "rss", [b"{}"] * count, trace)
    answers = [json.loads(body) for _, body in posted]
    assert [answer["trace"] for answer in answers] == [trace(n) for n in range(count)]
    # Past the first invocations (the allocator's arenas filling), memory stays put.
    growth = answers[-1]["rss_kb"] - answers[count // 10]["rss_kb"]
    assert growth < 2048, f"{growth} KB more after {count - count // 10} invocations"


def test_events_and_results_as_json_loads_and_dumps_read_and_write_them(
    tmp_path: Path,
) -> None:
    events = [
        b' \n{"n": [1, 2.5, null, "\\u00e9"]}\r\n',  # whitespace around the value
        b'"loop"',
        b'"same list"',  # after the error: the same object again, encodable now
        b'{"n": 1} {"n": 2}',  # extra data
        b"",
        b"[NaN, Infinity]",
    ]
    output, posted = run(tmp_path, "shapes", events)
    paths = [f"/2018-06-01/runtime/invocation/request-{n}/" for n in range(len(events))]
    assert [path for path, _ in posted] == [
        paths[0] + "response",
        paths[1] + "error",
        paths[2] + "response",
        paths[3] + "error",
        paths[4] + "error",
        paths[5] + "response",
    ], output
    bodies = [body for _, body in posted]
    assert json.loads(bodies[0]) == {"n": [1, 2.5, None, "\u00e9"]}
    assert bodies[0] == json.dumps({"n": [1, 2.5, None, "\u00e9"]}).encode()
    loop = json.loads(bodies[1])
    assert (loop["errorType"], loop["errorMessage"]) == (
        "ValueError",
        "Circular reference detected",
    )
    assert bodies[2] == b"[1.5]"
    extra = json.loads(bodies[3])
    assert (extra["errorType"], extra["errorMessage"]) == (
        "JSONDecodeError",
        "Extra data: line 1 column 10 (char 9)",
    )
    empty = json.loads(bodies[4])
    assert empty["errorMessage"] == "Expecting value: line 1 column 1 (char 0)"
    assert bodies[5] == b"[NaN, Infinity]"
