"""A recording Lambda Runtime API: it hands out one invocation, records the bytes of the
request that answers it (a buffered ``/response`` or ``/error``, or a chunked streamed
response up to its last chunk and trailers), and stops at the next ``/next``."""

from __future__ import annotations

import json
import socket
import threading

from lambda_runtime_api import with_head


class Recorder:
    """A Runtime API that hands out one invocation and records the response request's bytes."""

    def __init__(self, event: dict[str, object]) -> None:
        self.event = json.dumps(event).encode()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.recorded = b""
        self.done = threading.Event()
        self.handed = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        # The runtime's connection, and the one of the extension its entry module registers.
        while not self.done.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while not self.done.is_set():
                got = with_head(conn, buffer)
                if got is None:
                    return
                buffer = got
                head, _, _ = buffer.partition(b"\r\n\r\n")
                if b" /2020-01-01/extension/" in head.split(b"\r\n")[0]:
                    if head.startswith(b"GET"):  # /event/next: no events, ever
                        return
                    end = self._complete(buffer)
                    buffer = buffer[end:]
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nLambda-Extension-Identifier: ext-1\r\n"
                        b"Content-Length: 2\r\n\r\n{}"
                    )
                    continue
                if head.startswith(b"GET"):
                    buffer = buffer[len(head) + 4 :]
                    if self.handed:
                        self.done.set()
                        return
                    self.handed = True
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: req-1\r\n"
                        b"Lambda-Runtime-Deadline-Ms: 9999999999999\r\n"
                        b"Content-Length: %d\r\n\r\n%b" % (len(self.event), self.event)
                    )
                    continue
                # The response: everything up to the end of its body.
                while not self._complete(buffer):
                    data = conn.recv(65536)
                    if not data:
                        self.done.set()
                        return
                    buffer += data
                end = self._complete(buffer)
                self.recorded, buffer = buffer[:end], buffer[end:]
                conn.sendall(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")

    @staticmethod
    def _complete(buffer: bytes) -> int:
        """The length of the request at the start of ``buffer`` once all of it is there."""
        position = buffer.index(b"\r\n\r\n") + 4
        for line in buffer[:position].split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                end = position + int(line.split(b":")[1])
                return end if end <= len(buffer) else 0
        while True:
            line_end = buffer.find(b"\r\n", position)
            if line_end < 0:
                return 0
            size = int(buffer[position:line_end], 16)
            if size == 0:
                trailers_end = buffer.find(b"\r\n\r\n", line_end)
                if buffer[line_end : line_end + 4] == b"\r\n\r\n":
                    return line_end + 4
                return trailers_end + 4 if trailers_end >= 0 else 0
            position = line_end + 2 + size + 2
            if position > len(buffer):
                return 0
