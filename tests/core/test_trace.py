"""Trace ids from each cloud's header, in every log line, carried on by trace.headers(),
and one OpenTelemetry span per invocation (checked with the SDK's in-memory exporter)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
import types
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from faasport import aws
from faasport.core import coldstart, jsonlog, otel, trace
from faasport.core.trace import Trace, parse_cloud_trace, parse_traceparent, parse_xray

TID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TID}-00f067aa0ba902b7-01"
XRAY = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


@pytest.fixture(autouse=True)
def no_trace(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    trace.begin()
    yield
    trace.begin()
    otel.tracer.clear()
    coldstart.record.pending = False


def test_w3c_traceparent() -> None:
    assert parse_traceparent(TRACEPARENT) == Trace(TID, "00f067aa0ba902b7", True)
    assert parse_traceparent(f"00-{TID}-00f067aa0ba902b7-00") == Trace(
        TID, "00f067aa0ba902b7", False
    )
    # A later version may append fields; version 00 may not.
    assert parse_traceparent(f"01-{TID}-00f067aa0ba902b7-01-extra") is not None
    for bad in (
        f"00-{TID}-00f067aa0ba902b7-01-extra",
        f"ff-{TID}-00f067aa0ba902b7-01",
        f"00-{'0' * 32}-00f067aa0ba902b7-01",
        f"00-{TID}-{'0' * 16}-01",
        f"00-{TID[:-1]}x-00f067aa0ba902b7-01",
        f"00-{TID}-00f067aa0ba902b7",
        "",
    ):
        assert parse_traceparent(bad) is None, bad


def test_xray_and_google_cloud() -> None:
    assert parse_xray(XRAY) == Trace("5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8", True)
    assert parse_xray("Root=1-5759e988-bd862e3fe1be46a994272793") == Trace(
        "5759e988bd862e3fe1be46a994272793", None, False
    )
    assert parse_xray("Root=2-5759e988-bd862e3fe1be46a994272793") is None
    assert parse_xray("Parent=53995c3f42cd8ad8") is None
    assert parse_cloud_trace(f"{TID}/1;o=1") == Trace(TID, "0000000000000001", True)
    assert parse_cloud_trace(f"{TID.upper()}") == Trace(TID, None, False)
    assert parse_cloud_trace("not-a-trace/1;o=1") is None


def test_sources_in_order_and_outgoing_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    assert trace.trace_id() is None and trace.headers() == {}
    monkeypatch.setenv("_X_AMZN_TRACE_ID", XRAY)
    assert trace.trace_id() == "5759e988bd862e3fe1be46a994272793"
    trace.begin(cloud=f"{TID}/5;o=1")
    assert trace.trace_id() == TID
    trace.begin(traceparent=f"00-{'a' * 32}-00f067aa0ba902b7-00", cloud=f"{TID}/5;o=1")
    assert trace.trace_id() == "a" * 32
    out = trace.headers()
    # A child of the current trace: same trace id, a new span id, same sampling decision.
    child = parse_traceparent(out["traceparent"])
    assert child is not None and child.trace_id == "a" * 32 and not child.sampled
    assert child.parent_id != "00f067aa0ba902b7"
    assert parse_xray(out["X-Amzn-Trace-Id"]) == Trace("a" * 32, child.parent_id, False)


def test_an_events_header_map_is_read_only_when_the_trace_is_needed() -> None:
    headers: dict[str, Any] = {"accept": "*/*"}
    trace.begin_headers(headers)
    assert trace.trace_id() is None
    # REST API events keep the client's spelling; HTTP API events are lower case.
    headers["Traceparent"] = TRACEPARENT
    assert trace.trace_id() == TID
    trace.begin_headers({"X-Cloud-Trace-Context": f"{'b' * 32}/7;o=1"})
    assert trace.context() == Trace("b" * 32, f"{7:016x}", True)
    # Values no request can carry (an event built by hand) are no trace, not a crash.
    trace.begin_headers({"traceparent": ["not", "a", "string"], "x-cloud-trace-context": 5})
    assert trace.trace_id() is None and trace.headers() == {}


def test_an_event_without_headers_ends_the_previous_trace() -> None:
    trace.begin(traceparent=TRACEPARENT)
    assert trace.trace_id() == TID
    for headers in (None, "not a map", ["traceparent", TRACEPARENT]):
        trace.begin_headers(headers)
        assert trace.trace_id() is None
    trace.begin_headers({"traceparent": TRACEPARENT})
    trace.begin()
    assert trace.trace_id() is None


def test_every_log_line_carries_the_trace_id() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(jsonlog.JsonFormatter())
    log = logging.getLogger("faasport.test_trace")
    log.addHandler(handler)
    try:
        log.warning("outside")
        trace.begin(traceparent=TRACEPARENT)
        log.warning("inside")
    finally:
        log.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["trace_id"] is None
    assert second["trace_id"] == TID


ENTRY = textwrap.dedent(
    """
    import os, sys, types
    from faasport import aws
    from faasport.core.logs import logger

    def work(event, context):
        logger().info("working")
        return {}

    handler = aws.handler(work)
    os.environ["_X_AMZN_TRACE_ID"] = sys.argv[1]
    handler({"Records": []}, types.SimpleNamespace(aws_request_id="r1"))
    """
)


def test_a_lambda_invocation_logs_its_xray_trace() -> None:
    out = subprocess.run(
        [sys.executable, "-c", ENTRY, XRAY],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "AWS_LAMBDA_FUNCTION_NAME": "worker", "FAASPORT_METRICS": "off"},
    )
    (line,) = (json.loads(x) for x in out.stdout.splitlines())
    assert (line["message"], line["trace_id"]) == ("working", "5759e988bd862e3fe1be46a994272793")


def http_event(headers: dict[str, str]) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "http": {"method": "GET", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4"},
            "requestId": "abc",
            "stage": "$default",
            "domainName": "x.example.com",
        },
        "isBase64Encoded": False,
    }


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ["PATH_INFO"] == "/":
        start_response("200 OK", [("content-type", "text/plain")])
        return [trace.trace_id().encode() if trace.trace_id() else b"none"]
    raise RuntimeError("boom")


def test_one_span_per_invocation_child_of_the_callers_trace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "api")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
    monkeypatch.setenv("FAASPORT_METRICS", "off")
    exporter = InMemorySpanExporter()
    otel.install(exporter)
    coldstart.record.pending = True
    handler = aws.handler(wsgi_app)
    context = types.SimpleNamespace(aws_request_id="req-1")
    result = handler(http_event({"traceparent": TRACEPARENT}), context)
    assert result["body"] == TID
    handler(http_event({}), types.SimpleNamespace(aws_request_id="req-2"))
    first, second = exporter.get_finished_spans()
    assert first.name == "api"
    assert first.context.trace_id == int(TID, 16)
    assert first.parent is not None and first.parent.span_id == int("00f067aa0ba902b7", 16)
    assert dict(first.attributes or {}) == {
        "faas.trigger": "http",
        "faas.invocation_id": "req-1",
        "faas.coldstart": True,
    }
    resource = first.resource.attributes
    assert resource["cloud.provider"] == "aws"
    assert resource["faas.name"] == "api"
    assert resource["cloud.region"] == "eu-west-1"
    assert resource["faas.max_memory"] == 512 * 1024 * 1024
    assert second.parent is None and second.attributes["faas.coldstart"] is False
    assert second.attributes["faas.invocation_id"] == "req-2"


def test_a_failed_invocation_ends_its_span_as_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAASPORT_METRICS", "off")
    exporter = InMemorySpanExporter()
    otel.install(exporter)

    def failing(event: Any, context: Any) -> Any:
        raise KeyError("order")

    with pytest.raises(KeyError):
        aws.handler(failing)({"Records": []}, types.SimpleNamespace(aws_request_id="r"))
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["faas.trigger"] == "other"
    assert [e.name for e in span.events] == ["exception"]


def test_spans_are_off_by_default_and_a_bad_mode_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert otel.start("x") is None
    otel.tracer.clear()
    monkeypatch.setenv("FAASPORT_OTEL", "jaeger")
    with pytest.raises(
        ValueError, match='FAASPORT_OTEL: must be one of off, console, otlp, got "jaeger"'
    ):
        otel.start("x")


def test_console_spans_are_one_json_line_each() -> None:
    entry = ENTRY.replace('logger().info("working")', "pass")
    out = subprocess.run(
        [sys.executable, "-c", entry, XRAY],
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "AWS_LAMBDA_FUNCTION_NAME": "worker",
            "FAASPORT_OTEL": "console",
            "FAASPORT_METRICS": "off",
        },
    )
    (span,) = (json.loads(x) for x in out.stdout.splitlines())
    assert span["name"] == "worker"
    assert span["context"]["trace_id"] == "0x5759e988bd862e3fe1be46a994272793"
    assert span["attributes"]["faas.coldstart"] is True
    assert span["resource"]["attributes"]["faas.name"] == "worker"


def test_trace_from_an_event_header_map_is_read_when_needed() -> None:
    trace.begin_headers({"Traceparent": TRACEPARENT})
    assert trace.trace_id() == TID
    trace.begin_headers({"x-cloud-trace-context": f"{'a' * 32}/5;o=1"})
    assert trace.trace_id() == "a" * 32
    trace.begin_headers(None)  # a non-HTTP event: no trace headers
    assert trace.context() == trace.parse_xray(os.environ.get("_X_AMZN_TRACE_ID", ""))
    trace.begin_headers({"traceparent": TRACEPARENT})
    trace.begin()  # a later invocation from another entry point, with no headers
    assert trace.context() == trace.parse_xray(os.environ.get("_X_AMZN_TRACE_ID", ""))
