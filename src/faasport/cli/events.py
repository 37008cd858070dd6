"""``faasport events generate``: realistic events to feed ``faasport invoke`` or tests."""

from __future__ import annotations

import json

import click

from faasport.aws.edge import EVENT_TYPES as EDGE_TRIGGERS
from faasport.testing.events import RECORD_SOURCES, SAMPLE_BODIES, SOURCES


def _pairs(separator: str, example: str) -> click.types.FuncParamType[str, tuple[str, str]]:
    def split(value: str) -> tuple[str, str]:
        key, sep, rest = value.partition(separator)
        if not sep or not key.strip():
            raise click.BadParameter(f"{value!r} must look like {example}")
        return key.strip(), rest.strip() if separator == ":" else rest

    split.__name__ = example
    return click.types.FuncParamType(split)


def _path(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not value.startswith("/"):
        raise click.BadParameter(f"{value!r} must start with '/'")
    return value


_HTTP = frozenset(SOURCES)
_BODIES = frozenset(RECORD_SOURCES) - {"s3", "schedule"}
#: The sources each option means something for, and how a message names them.
_APPLIES: dict[str, tuple[str, frozenset[str], str]] = {
    "method": ("--method", _HTTP, "HTTP sources"),
    "path": ("--path", _HTTP, "HTTP sources"),
    "headers": ("--header", _HTTP, "HTTP sources"),
    "query": ("--query", _HTTP, "HTTP sources"),
    "trigger": ("--trigger", frozenset({"edge"}), "edge"),
    "name": ("--name", frozenset(RECORD_SOURCES), ", ".join(RECORD_SOURCES)),
    "keys": ("--key", frozenset({"s3"}), "s3"),
    "removed": ("--removed", frozenset({"s3"}), "s3"),
    "bodies": ("--body", _HTTP | _BODIES, "HTTP sources, " + ", ".join(sorted(_BODIES))),
}


def refuse_inapplicable(ctx: click.Context, source: str) -> None:
    """An option given for a source it means nothing to is refused, not silently ignored."""
    from click.core import ParameterSource

    for param, (option, sources, described) in _APPLIES.items():
        if ctx.get_parameter_source(param) is ParameterSource.COMMANDLINE and (
            source not in sources
        ):
            raise click.UsageError(
                f"{option} does not apply to {source} events (only to {described})"
            )


@click.group()
def events() -> None:
    """Sample events from event sources."""


@events.command()
@click.argument("source", type=click.Choice([*SOURCES, *RECORD_SOURCES]))
@click.option("--method", default="GET", show_default=True, help="HTTP method.")
@click.option("--path", default="/", show_default=True, callback=_path, help="Request path.")
@click.option(
    "--body",
    "bodies",
    multiple=True,
    help="Request body, or a record's body for sqs, sns, kinesis, dynamodb and eventbridge "
    "(repeatable: one record each; a sample when left out).",
)
@click.option(
    "--header",
    "headers",
    multiple=True,
    type=_pairs(":", "NAME:VALUE"),
    help="A request header, NAME:VALUE (repeatable).",
)
@click.option(
    "--query",
    multiple=True,
    type=_pairs("=", "KEY=VALUE"),
    help="A query parameter, KEY=VALUE (repeatable).",
)
@click.option("--name", default=None, help="The queue, topic, bucket or schedule rule.")
@click.option("--key", "keys", multiple=True, help="An S3 object key (repeatable).")
@click.option("--removed", is_flag=True, help="S3: objects removed rather than created.")
@click.option(
    "--trigger",
    type=click.Choice(EDGE_TRIGGERS),
    default="viewer-request",
    show_default=True,
    help="edge: the CloudFront trigger.",
)
def generate(
    source: str,
    method: str,
    path: str,
    bodies: tuple[str, ...],
    headers: tuple[tuple[str, str], ...],
    query: tuple[tuple[str, str], ...],
    name: str | None,
    keys: tuple[str, ...],
    removed: bool,
    trigger: str,
) -> None:
    """Print the event SOURCE sends, as JSON: for one HTTP request, or for queue messages,
    topic notifications, object changes or a schedule.

    apigw-v1 is a REST API (stage prod), apigw-v2 an HTTP API, alb an ALB with multi-value
    headers (alb-single without), function-url a Lambda Function URL, lattice and
    lattice-v2 a VPC Lattice target group (payload version 1 or 2), edge a Lambda@Edge
    trigger (--trigger); sqs, sns, s3 and schedule, kinesis, dynamodb and eventbridge are
    the event sources of plain handlers.
    """
    refuse_inapplicable(click.get_current_context(), source)
    if source in RECORD_SOURCES:
        payload = _record_event(source, bodies, name, keys, removed)
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    from faasport.testing.events import event

    if len(bodies) > 1:
        raise click.BadParameter("an HTTP request has one body", param_hint="--body")
    body = bodies[0] if bodies else None
    if not method.isalpha():
        raise click.BadParameter(f"{method!r} is not an HTTP method", param_hint="--method")
    payload = event(
        source,
        method.upper(),
        path,
        headers=list(headers),
        query=list(query) or None,
        body=body,
        **({"stage": trigger} if source == "edge" else {}),
    )
    click.echo(json.dumps(payload, indent=2, ensure_ascii=False))


def _record_event(
    source: str, bodies: tuple[str, ...], name: str | None, keys: tuple[str, ...], removed: bool
) -> dict[str, object]:
    from faasport.testing import events as sample

    if source == "schedule":
        return sample.schedule_event(name or "schedule")
    if source == "s3":
        keys = keys or ("in/example.txt",)  # a sample, as for the other sources
        return sample.s3_event(*keys, bucket=name or "uploads", removed=removed)
    bodies = bodies or (SAMPLE_BODIES[source],)
    if source == "sqs":
        return sample.sqs_event(*bodies, queue=name or "jobs")
    if source == "kinesis":
        return sample.kinesis_event(*bodies, stream=name or "clicks")
    if source in ("dynamodb", "eventbridge"):
        parsed = [_json_object(body) for body in bodies]
        if source == "dynamodb":
            return sample.dynamodb_event(*parsed, table=name or "orders")
        if len(parsed) > 1:
            raise click.BadParameter("an EventBridge event has one detail", param_hint="--body")
        return sample.eventbridge_event(parsed[0], source=name or "app.orders")
    return sample.sns_event(*bodies, topic=name or "alerts")


def _json_object(body: str) -> dict[str, object]:
    try:
        value = json.loads(body)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise click.BadParameter(f"{body!r} is not a JSON object", param_hint="--body")
    return value
