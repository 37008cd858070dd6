"""``faasport``: the command group, and the one place user errors become ``error: ...``."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from faasport import __version__
from faasport.core.errors import FaasportError

#: Command name -> where it is defined, imported only when that command runs (or ``--help``
#: lists them all): ``faasport queue send`` does not pay for ``dev`` or ``deploy``.
LAZY_COMMANDS = {
    "dev": "faasport.cli.dev:dev",
    "invoke": "faasport.cli.invoke:invoke",
    "events": "faasport.cli.events:events",
    "package": "faasport.cli.package:package",
    "build": "faasport.cli.package:build",
    "deploy": "faasport.cli.deploy:deploy",
    "init": "faasport.cli.init:init",
    "check": "faasport.cli.check:check",
    "queue": "faasport.cli.queue:queue",
    "schedule": "faasport.cli.schedule:schedule",
    "topic": "faasport.cli.topic:topic",
    "bus": "faasport.cli.topic:bus",
    "bucket": "faasport.cli.bucket:bucket",
    "stream": "faasport.cli.topic:stream",
    "cost": "faasport.cli.cost:cost",
    "coldstart": "faasport.cli.coldstart:coldstart",
    "logs": "faasport.cli.logs:logs",
}


def one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


class FaasportGroup(click.Group):
    """Reports faasport's own errors as one ``error:`` line and exit code 1, no traceback.
    Usage errors stay click's (exit code 2)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in LAZY_COMMANDS:
            module, _, attr = LAZY_COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attr)
            assert isinstance(command, click.Command)
            self.add_command(command, cmd_name)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader left (`faasport logs api | head`): stop quietly, as a tool killed
            # by SIGPIPE does. Output still buffered goes nowhere, not to a second error.
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(128 + 13)
        except (FaasportError, OSError) as exc:
            click.echo(f"error: {one_line(exc)}", err=True)
            ctx.exit(1)


@click.group(cls=FaasportGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="faasport")
def main() -> None:
    """Run one Python app as serverless functions, locally and on every cloud."""


if __name__ == "__main__":
    main()
