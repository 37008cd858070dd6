"""OpenTelemetry (the ``faasport[otel]`` extra): one span per invocation, a child of the
trace the request carried, with the cloud's resource attributes and the cold-start flag.

Off unless ``FAASPORT_OTEL`` is ``console`` (spans printed to stdout, one JSON object each)
or ``otlp`` (exported over OTLP/HTTP to ``OTEL_EXPORTER_OTLP_ENDPOINT``, default
``http://localhost:4318``), or :func:`install` is given an exporter. Spans are exported as
each invocation ends, since an environment may be frozen right after it.
"""

from __future__ import annotations

import os

from faasport.core import logs, trace
from faasport.core.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

VARIABLE = "FAASPORT_OTEL"
MODES = ("off", "console", "otlp")
#: [tracer] once decided; [None] when spans are off (entry points check this before
#: calling :func:`start`, which costs a call per invocation).
tracer: list[Any] = []


def provider_name() -> str:
    env = os.environ
    if env.get("AWS_LAMBDA_FUNCTION_NAME"):
        return "aws"
    if env.get("K_SERVICE") or env.get("FUNCTION_TARGET"):
        return "gcp"
    if env.get("FUNCTIONS_WORKER_RUNTIME"):
        return "azure"
    return "local"


def resource_attributes() -> dict[str, Any]:
    """OpenTelemetry's FaaS and cloud resource attributes, from the platform's variables."""
    env = os.environ
    attributes: dict[str, Any] = {"cloud.provider": provider_name()}
    for key, names in (
        (
            "faas.name",
            ("AWS_LAMBDA_FUNCTION_NAME", "K_SERVICE", "FUNCTION_TARGET", "WEBSITE_SITE_NAME"),
        ),
        ("faas.version", ("AWS_LAMBDA_FUNCTION_VERSION", "K_REVISION")),
        ("faas.instance", ("AWS_LAMBDA_LOG_STREAM_NAME", "WEBSITE_INSTANCE_ID")),
        ("cloud.region", ("AWS_REGION", "REGION_NAME")),
    ):
        value = next((env[n] for n in names if env.get(n)), None)
        if value is not None:
            attributes[key] = value
    memory = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    if memory and memory.isdigit():
        attributes["faas.max_memory"] = int(memory) * 1024 * 1024
    attributes["service.name"] = attributes.get("faas.name", "faasport")
    return attributes


def install(exporter: Any) -> Any:
    """Send invocation spans to ``exporter`` (any OpenTelemetry ``SpanExporter``); returns
    the tracer provider, whose resource carries :func:`resource_attributes`."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create(resource_attributes()))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer[:] = [provider.get_tracer("faasport")]
    return provider


def uninstall() -> None:
    tracer[:] = [None]


def _decide() -> Any:
    mode = os.environ.get(VARIABLE, "") or "off"
    if mode not in MODES:
        raise ConfigError(f'{VARIABLE}: must be one of {", ".join(MODES)}, got "{mode}"')
    if mode == "off":
        tracer[:] = [None]
    elif mode == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        install(ConsoleSpanExporter(formatter=_one_line))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        install(OTLPSpanExporter())
    return tracer[0]


def _one_line(span: Any) -> str:
    return str(span.to_json(indent=None)) + "\n"


def start(name: str, trigger: str = "http") -> Any:
    """A started span for the invocation, or None when spans are off."""
    chosen = tracer[0] if tracer else _decide()
    if chosen is None:
        return None
    from opentelemetry import trace as api

    parent = None
    found = trace.context()
    if found is not None and found.parent_id is not None:
        remote = api.SpanContext(
            int(found.trace_id, 16),
            int(found.parent_id, 16),
            is_remote=True,
            trace_flags=api.TraceFlags(1 if found.sampled else 0),
        )
        parent = api.set_span_in_context(api.NonRecordingSpan(remote))
    return chosen.start_span(
        name, context=parent, kind=api.SpanKind.SERVER, attributes={"faas.trigger": trigger}
    )


def end(span: Any, error: BaseException | None = None) -> None:
    """End the invocation's span with its id, cold-start flag and outcome."""
    current = logs.get()
    request_id = current["request_id"]
    if request_id is not None:
        span.set_attribute("faas.invocation_id", str(request_id))
    span.set_attribute("faas.coldstart", current["cold_start"] is True)
    if error is not None:
        from opentelemetry.trace import Status, StatusCode

        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
    span.end()
