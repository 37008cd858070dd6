"""``faasport events generate``: realistic events to feed ``faasport invoke`` or tests."""

from __future__ import annotations

import json

import click

from faasport.testing.events import SOURCES


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


@click.group()
def events() -> None:
    """Sample events from event sources."""


@events.command()
@click.argument("source", type=click.Choice(list(SOURCES)))
@click.option("--method", default="GET", show_default=True, help="HTTP method.")
@click.option("--path", default="/", show_default=True, callback=_path, help="Request path.")
@click.option("--body", default=None, help="Request body (text).")
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
def generate(
    source: str,
    method: str,
    path: str,
    body: str | None,
    headers: tuple[tuple[str, str], ...],
    query: tuple[tuple[str, str], ...],
) -> None:
    """Print the event SOURCE sends for one HTTP request, as JSON.

    apigw-v1 is a REST API (stage prod), apigw-v2 an HTTP API, alb an ALB with multi-value
    headers (alb-single without), function-url a Lambda Function URL.
    """
    from faasport.testing.events import event

    if not method.isalpha():
        raise click.BadParameter(f"{method!r} is not an HTTP method", param_hint="--method")
    payload = event(
        source,
        method.upper(),
        path,
        headers=list(headers),
        query=list(query) or None,
        body=body,
    )
    click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
