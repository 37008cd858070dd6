"""Where a running ``faasport dev`` says how to reach it: ``.faasport/dev.json`` with its pid
and the URL of its AWS-compatible endpoint. Kept apart so that ``faasport queue send`` finds
it with the standard library alone."""

from __future__ import annotations

from pathlib import Path

#: Relative to the project root.
DEV_STATE = Path(".faasport") / "dev.json"
