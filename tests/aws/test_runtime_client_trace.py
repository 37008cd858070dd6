"""faasport's runtime client puts each invocation's X-Ray header in ``_X_AMZN_TRACE_ID``
without the process's memory growing with every new trace id."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

HANDLER = textwrap.dedent(
    """
    import os

    def handle(event, context):
        with open("/proc/self/status") as status:
            rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        return {"trace": os.environ.get("_X_AMZN_TRACE_ID"), "rss_kb": rss}
    """
)


class PipelinedApi:
    """The Runtime API's ``/next`` and ``/response`` as fast as one connection allows:
    ``count`` invocations, each with a trace header of its own, the answers kept."""

    def __init__(self, count: int, trace: str) -> None:
        self.count = count
        self.trace = trace
        self.posted: list[bytes] = []
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
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    buffer += connection.recv(65536)
                body, buffer = buffer[:length], buffer[length:]
                if head.startswith(b"POST"):
                    self.posted.append(body)
                    connection.sendall(self._answer("202 Accepted", [], b"{}"))
                    continue
                n = len(self.posted)
                if n == self.count:
                    self.done.set()
                    continue  # the long-poll stays open until the process ends
                headers = [
                    ("lambda-runtime-aws-request-id", f"request-{n}"),
                    ("lambda-runtime-deadline-ms", "99999999999999"),
                    ("lambda-runtime-invoked-function-arn", "arn:aws:lambda:::function:t"),
                    ("lambda-runtime-trace-id", self.trace % n),
                ]
                connection.sendall(self._answer("200 OK", headers, b"{}"))

    @staticmethod
    def _answer(status: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
        head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
        return (head + f"content-length: {len(body)}\r\n\r\n").encode() + body


def test_a_new_trace_id_per_invocation_does_not_grow_memory(tmp_path: Path) -> None:
    # A long trace header makes what each invocation would leave behind easy to see: the
    # C library keeps every value ever given to setenv (a caller may still hold the
    # pointer getenv returned), ~4 KB per invocation here, 12 MB over the run.
    (tmp_path / "trace_target.py").write_text(HANDLER)
    count = 3000
    api = PipelinedApi(count, "Root=1-00000001-%024d;Parent=" + "a" * 4000 + ";Sampled=1")
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
        "_HANDLER": "trace_target.handle",
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
    answers = [json.loads(body) for body in api.posted]
    assert [answer["trace"] for answer in answers] == [api.trace % n for n in range(count)]
    # Past the first invocations (the allocator's arenas filling), memory stays put.
    growth = answers[-1]["rss_kb"] - answers[count // 10]["rss_kb"]
    assert growth < 2048, f"{growth} KB more after {count - count // 10} invocations"
