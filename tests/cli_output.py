"""What the command-line tests check of a command's output."""

from __future__ import annotations

from click.testing import Result


def one_error_line(result: Result) -> str:
    """The single ``error: ...`` line of a command that failed as the CLI should: exit 1,
    one line on stderr, no traceback."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    return lines[0]
