"""A Runtime API shaped like Lambda's, serving a list of invocations over TCP and, for
faasport's runtime client, a Unix socket; and that runtime client run against it in a
child process."""

from __future__ import annotations

import collections
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path


class LambdaStyleApi:
    """A Runtime API that answers as Lambda's own does: canonical header names
    (``Lambda-Runtime-Aws-Request-Id``), a ``Date`` header and a body on the 202, and each
    response written in pieces (the blank line after the head split between two writes), so
    the client must put reads together; with ``pieces=False``, each in one write, as fast as
    it allows. ``done`` is set at the ``/next`` that finds no invocation left."""

    def __init__(
        self, invocations: list[tuple[list[tuple[str, str]], bytes]], *, pieces: bool = True
    ) -> None:
        self.invocations = collections.deque(invocations)
        self.pieces = pieces
        self.posted: list[tuple[str, bytes]] = []
        self.done = threading.Event()

    def serve(self, listener: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = listener.accept()
                threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        buffer = b""
        with connection, contextlib.suppress(OSError):
            while True:
                got = with_head(connection, buffer)
                if got is None:
                    return
                buffer = got
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ")
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                while len(buffer) < length:
                    buffer += connection.recv(65536)
                body, buffer = buffer[:length], buffer[length:]
                if method == "GET" and path.endswith("/invocation/next"):
                    if not self.invocations:
                        self.done.set()
                        return
                    headers, event = self.invocations.popleft()
                    self._write(connection, "200 OK", headers, event)
                elif method == "POST":
                    self.posted.append((path, body))
                    self._write(connection, "202 Accepted", [], b'{"status":"OK"}\n')
                else:
                    self._write(connection, "404 Not Found", [], b"{}")

    def _write(
        self, connection: socket.socket, status: str, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        head += "Date: Thu, 01 Jan 2026 00:00:00 GMT\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers)
        data = (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        if not self.pieces:
            connection.sendall(data)
            return
        split = data.index(b"\r\n\r\n") + 2
        connection.sendall(data[:split])
        time.sleep(0.005)
        connection.sendall(data[split:])


def with_head(connection: socket.socket, buffer: bytes) -> bytes | None:
    """``buffer`` and what ``connection`` sends after it, up to the end of a request head
    at least; None once the peer closed before one was whole."""
    while b"\r\n\r\n" not in buffer:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    return buffer


def run_runtime_client(
    tmp_path: Path,
    api: LambdaStyleApi,
    handler: str,
    transport: str = "tcp",
    environ: dict[str, str] | None = None,
    timeout: float = 20,
) -> str:
    """``python -m faasport.aws.runtime_client`` with ``_HANDLER=handler`` (its module in
    ``tmp_path``) against ``api`` over ``transport`` ("tcp" or "unix"), until ``api`` is
    done; the process's output."""
    listener = socket.create_server(("127.0.0.1", 0))
    child_environ = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path]),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{listener.getsockname()[1]}",
        "_HANDLER": handler,
        **(environ or {}),
    }
    listeners = [listener]
    if transport == "unix":
        path = str(tmp_path / "runtime.sock")
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unix.bind(path)
        unix.listen()
        listeners.append(unix)
        child_environ["FAASPORT_RUNTIME_API_SOCKET"] = path
    for each in listeners:
        threading.Thread(target=api.serve, args=(each,), daemon=True).start()
    process = subprocess.Popen(
        [sys.executable, "-m", "faasport.aws.runtime_client"],
        env=child_environ,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        finished = api.done.wait(timeout)
    finally:
        process.kill()
        output = process.communicate()[0].decode()
        for each in listeners:
            each.close()
    assert finished, output
    return output
