"""faasport's runtime client's warm loop: each invocation's X-Ray header in
``_X_AMZN_TRACE_ID`` without the process growing with every new trace id, and events and
results read and written as ``json.loads`` and ``json.dumps`` do, an error included."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

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


class PipelinedApi:
    """The Runtime API's ``/next``, ``/response`` and ``/error`` over one connection, as
    fast as it allows; the posted paths and bodies kept."""

    def __init__(self, events: list[bytes], trace: Callable[[int], str] | None = None) -> None:
        self.events = events
        self.trace = trace
        self.posted: list[tuple[str, bytes]] = []
        self.done = threading.Event()

    def serve(self, listener: socket.socket) -> None:
        connection, _ = listener.accept()
        buffer = b""
        with connection, contextlib.suppress(OSError):
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    buffer += connection.recv(65536)
                body, buffer = buffer[:length], buffer[length:]
                if head.startswith(b"POST"):
                    self.posted.append((lines[0].split(b" ")[1].decode(), body))
                    connection.sendall(self._answer("202 Accepted", [], b"{}"))
                    continue
                n = len(self.posted)
                if n == len(self.events):
                    self.done.set()
                    continue  # the long-poll stays open until the process ends
                headers = [
                    ("lambda-runtime-aws-request-id", f"request-{n}"),
                    ("lambda-runtime-deadline-ms", "99999999999999"),
                    ("lambda-runtime-invoked-function-arn", "arn:aws:lambda:::function:t"),
                ]
                if self.trace is not None:
                    headers.append(("lambda-runtime-trace-id", self.trace(n)))
                connection.sendall(self._answer("200 OK", headers, self.events[n]))

    @staticmethod
    def _answer(status: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
        head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
        return (head + f"content-length: {len(body)}\r\n\r\n").encode() + body


def run_client(tmp_path: Path, handler: str, api: PipelinedApi) -> str:
    """Run ``python -m faasport.aws.runtime_client`` against ``api`` until it has served
    every event; its output."""
    (tmp_path / "loop_target.py").write_text(TARGET)
    path = str(tmp_path / "runtime.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()
    threading.Thread(target=api.serve, args=(listener,), daemon=True).start()
    environ = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path]),
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:1",
        "FAASPORT_RUNTIME_API_SOCKET": path,
        "_HANDLER": f"loop_target.{handler}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "faasport.aws.runtime_client"],
        env=environ,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        finished = api.done.wait(60)
    finally:
        process.kill()
        output = process.communicate()[0].decode()
        listener.close()
    assert finished, output
    return output


def test_a_new_trace_id_per_invocation_does_not_grow_memory(tmp_path: Path) -> None:
    # A long trace header makes what each invocation would leave behind easy to see: the
    # C library keeps every value ever given to setenv (a caller may still hold the
    # pointer getenv returned), ~4 KB per invocation here, 12 MB over the run.
    count = 3000
    parent = "a" * 4000

    def trace(n: int) -> str:
        return f"Root=1-00000001-{n:024d};Parent={parent};Sampled=1"

    api = PipelinedApi([b"{}"] * count, trace)
    run_client(tmp_path, "rss", api)
    answers = [json.loads(body) for _, body in api.posted]
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
    api = PipelinedApi(events)
    output = run_client(tmp_path, "shapes", api)
    paths = [f"/2018-06-01/runtime/invocation/request-{n}/" for n in range(len(events))]
    assert [path for path, _ in api.posted] == [
        paths[0] + "response",
        paths[1] + "error",
        paths[2] + "response",
        paths[3] + "error",
        paths[4] + "error",
        paths[5] + "response",
    ], output
    bodies = [body for _, body in api.posted]
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
