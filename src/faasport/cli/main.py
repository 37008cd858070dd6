"""``faasport``: the command group, and the one place user errors become ``error: ...``."""

from __future__ import annotations

from typing import Any

import click

from faasport import __version__
from faasport.cli.bucket import bucket
from faasport.cli.check import check
from faasport.cli.cost import cost
from faasport.cli.deploy import deploy
from faasport.cli.dev import dev
from faasport.cli.events import events
from faasport.cli.init import init
from faasport.cli.invoke import invoke
from faasport.cli.package import build, package
from faasport.cli.queue import queue
from faasport.cli.schedule import schedule
from faasport.cli.topic import bus, stream, topic
from faasport.core.errors import FaasportError


def one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


class FaasportGroup(click.Group):
    """Reports faasport's own errors as one ``error:`` line and exit code 1, no traceback.
    Usage errors stay click's (exit code 2)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (FaasportError, OSError) as exc:
            click.echo(f"error: {one_line(exc)}", err=True)
            ctx.exit(1)


@click.group(cls=FaasportGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="faasport")
def main() -> None:
    """Run one Python app as serverless functions, locally and on every cloud."""


main.add_command(dev)
main.add_command(invoke)
main.add_command(events)
main.add_command(package)
main.add_command(build)
main.add_command(deploy)
main.add_command(init)
main.add_command(check)
main.add_command(queue)
main.add_command(schedule)
main.add_command(topic)
main.add_command(bus)
main.add_command(bucket)
main.add_command(stream)
main.add_command(cost)


if __name__ == "__main__":
    main()
