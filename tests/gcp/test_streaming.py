"""``gcp.handler(app, stream=True)`` behind the real functions-framework server: chunks reach
the client while the app runs, and an error mid-stream cuts the body short."""

from __future__ import annotations

import textwrap
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from tests.local.test_streaming import APP

from servers import functions_framework

# The app that tests/local/test_streaming.py streams through faasport dev.
MAIN = APP + textwrap.dedent(
    """
    from faasport import gcp

    fastapi = gcp.handler(app, stream=True)
    flask = gcp.handler(wsgi, stream=True)
    # The same app with the policies as the entry point's option, as faasport package
    # writes them: they finish the head, the chunks stream on.
    policed = gcp.handler(
        app,
        stream=True,
        policies=gateway.policies(gateway.Cors(origins=["https://app.example.com"])),
    )


    def endless(environ, start_response):
        import os, time

        start_response("200 OK", [("Content-Type", "text/plain")])
        if environ["PATH_INFO"] != "/endless":  # the server's readiness probe
            return [b"ok"]

        def lines():
            try:
                while True:
                    yield b"more\\n"
                    time.sleep(0.05)
            finally:  # closed when the client has gone
                open(os.environ["CLOSED_FILE"], "a").write("closed\\n")

        return lines()


    endless_wsgi = gcp.handler(endless, stream=True)
    """
)


def _serve(source: Path, target: str) -> Iterator[str]:
    environment = {"WORKERS": "1", "THREADS": "4", "CLOSED_FILE": str(source / "closed")}
    with functions_framework(source / "main.py", target, environment) as url:
        yield url


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("gcp-stream")
    (directory / "main.py").write_text(MAIN)
    return directory


@pytest.fixture(scope="module")
def asgi_url(source: Path) -> Iterator[str]:
    yield from _serve(source, "fastapi")


@pytest.fixture(scope="module")
def wsgi_url(source: Path) -> Iterator[str]:
    yield from _serve(source, "flask")


@pytest.fixture(scope="module")
def policed_url(source: Path) -> Iterator[str]:
    yield from _serve(source, "policed")


def _lines(
    url: str, headers: dict[str, str] | None = None
) -> tuple[httpx.Response, list[tuple[float, str]]]:
    arrivals: list[tuple[float, str]] = []
    started = time.perf_counter()
    with httpx.stream("GET", url, headers=headers, timeout=30) as response:
        for line in response.iter_lines():
            arrivals.append((time.perf_counter() - started, line))
    return response, arrivals


def test_asgi_chunks_arrive_while_the_app_runs(asgi_url: str) -> None:
    response, arrivals = _lines(asgi_url + "/ticks")
    assert response.status_code == 200
    assert response.headers["x-feed"] == "yes"
    assert "content-length" not in response.headers
    assert [line for _, line in arrivals] == [f"tick {i}" for i in range(20)]
    assert arrivals[-1][0] - arrivals[0][0] > 1.0  # 20 chunks 100 ms apart, not all at once


def test_chunks_arrive_while_the_app_runs_behind_the_policies(policed_url: str) -> None:
    origin = "https://app.example.com"
    response, arrivals = _lines(policed_url + "/ticks", {"origin": origin})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["x-feed"] == "yes"
    assert [line for _, line in arrivals] == [f"tick {i}" for i in range(20)]
    assert arrivals[-1][0] - arrivals[0][0] > 1.0  # 20 chunks 100 ms apart, not all at once


def test_wsgi_chunks_arrive_while_the_app_runs(wsgi_url: str) -> None:
    response, arrivals = _lines(wsgi_url + "/")
    assert response.status_code == 200
    assert response.headers["x-kind"] == "wsgi"
    assert [line for _, line in arrivals] == [f"w{i}" for i in range(5)]
    assert arrivals[-1][0] - arrivals[0][0] > 0.3  # 5 chunks 150 ms apart


def test_an_error_mid_stream_cuts_the_body_short(asgi_url: str) -> None:
    received: list[str] = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream("GET", asgi_url + "/boom", timeout=30) as response,
    ):
        for line in response.iter_lines():
            received.append(line)
    assert received == ["first"]
    # The instance still serves.
    assert _lines(asgi_url + "/ticks")[0].status_code == 200


def test_the_test_client_reads_a_streamed_response_whole() -> None:
    """``faasport.testing.GcpClient`` reads a streamed response as the server does: after
    the function returned, chunk by chunk (a streamed flask.Response has no data to get)."""
    from starlette.applications import Starlette
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    from faasport import gcp
    from faasport.testing import GcpClient

    async def feed(request: object) -> StreamingResponse:
        async def lines() -> AsyncIterator[str]:
            for i in range(3):
                yield f"line {i}\n"

        return StreamingResponse(lines(), media_type="text/plain")

    client = GcpClient(gcp.handler(Starlette(routes=[Route("/feed", feed)]), stream=True))
    result = client.get("/feed")
    assert (result.status, result.text) == (200, "line 0\nline 1\nline 2\n")
    assert client.head("/feed").body == b""


def _leave_early(url: str) -> None:
    """Read the start of an endless stream, then go."""
    with httpx.stream("GET", url, timeout=30) as response:
        for line in response.iter_lines():
            assert line == "more"
            break


def test_an_endless_asgi_stream_ends_when_the_client_leaves(asgi_url: str) -> None:
    """The app's next send raises OSError (ASGI 2.4), so the stream ends and the instance
    serves the next request: before, it streamed on into nothing, holding the instance."""
    _leave_early(asgi_url + "/forever")
    started = time.monotonic()
    response, arrivals = _lines(asgi_url + "/ticks")
    assert response.status_code == 200 and len(arrivals) == 20
    assert time.monotonic() - started < 10


def test_an_endless_wsgi_generator_is_closed_when_the_client_leaves(source: Path) -> None:
    closed = source / "closed"
    closed.unlink(missing_ok=True)
    for url in _serve(source, "endless_wsgi"):
        _leave_early(url + "/endless")
        deadline = time.monotonic() + 10
        while not closed.exists():
            assert time.monotonic() < deadline, "the generator was never closed"
            time.sleep(0.05)
