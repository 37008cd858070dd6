"""Stages: ``[stages.NAME]`` tables that override any key of the configuration for one
deployment of the project (``faasport deploy aws --stage prod``).

A stage's table holds the same keys as the file itself. It is merged into the file's keys
before they are parsed: tables merge key by key, at any depth (``[stages.prod.functions.api]
memory = 1024`` changes one key of one function); anything else, arrays included, replaces
what the file says (``routes``, ``events`` and ``secrets`` are taken whole, never appended
to). The stage's name is then appended to the project's name, so every resource the stage
deploys is named apart from every other stage's: ``phoney`` becomes ``phoney-prod``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NoReturn

from faasport.config.fields import Source, describe, join

STAGES = "stages"
_STAGE_NAME = re.compile(r"[a-z][a-z0-9]{0,15}")


class StagedSource(Source):
    """The file, where the keys a stage set are reported under the stage's table:
    ``stages.prod.functions.api.memory``, the line the user has to fix."""

    def __init__(self, display: str, moved: Mapping[str, str]) -> None:
        super().__init__(display)
        #: Key path in the merged configuration -> the same key in the stage's table.
        self.moved = dict(moved)

    def fail(self, key: str, message: str) -> NoReturn:
        for path, origin in self.moved.items():
            if key == path or key.startswith((path + ".", path + "[")):
                key = origin + key[len(path) :]
                break
        super().fail(key, message)


def stage_names(data: Mapping[str, Any], source: Source, prefix: str) -> tuple[str, ...]:
    """The stages the file defines, each a table with a valid name."""
    stages = data.get(STAGES)
    if stages is None:
        return ()
    where = join(prefix, STAGES)
    if not isinstance(stages, dict):
        source.fail(where, f"must be a table of [{STAGES}.NAME] tables, got {describe(stages)}")
    for name, table in stages.items():
        key = join(where, name)
        if not _STAGE_NAME.fullmatch(name):
            source.fail(key, "stage names are 1 to 16 lowercase letters and digits, from a letter")
        if not isinstance(table, dict):
            got = describe(table)
            source.fail(key, f"must be a table of the keys the stage overrides, got {got}")
        if STAGES in table:
            source.fail(join(key, STAGES), "a stage cannot define stages")
    return tuple(stages)


def apply_stage(
    data: Mapping[str, Any], stage: str, display: str, prefix: str
) -> tuple[dict[str, Any], StagedSource]:
    """The file's keys with stage ``stage`` merged in (its ``stages`` table left out), and
    the source that reports the stage's keys where they were written."""
    source = Source(display)
    known = stage_names(data, source, prefix)
    if stage not in known:
        if known:
            hint = "the stages are: " + ", ".join(sorted(known))
        else:
            hint = f"none is defined; add a [{join(join(prefix, STAGES), stage)}] table"
        source.fail(join(prefix, STAGES), f'no stage "{stage}"; {hint}')
    base = {key: value for key, value in data.items() if key != STAGES}
    moved: dict[str, str] = {}
    merged = _merge(base, data[STAGES][stage], prefix, join(join(prefix, STAGES), stage), moved)
    return merged, StagedSource(display, moved)


def _merge(
    base: Mapping[str, Any],
    override: Mapping[str, Any],
    path: str,
    origin: str,
    moved: dict[str, str],
) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        here, there = join(path, key), join(origin, key)
        current = merged.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            merged[key] = _merge(current, value, here, there, moved)
        else:
            merged[key] = value
            moved[here] = there
    return merged
