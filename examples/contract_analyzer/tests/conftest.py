"""Makes the example's package importable in its tests, as faasport dev and the artifact
make it importable in the function."""

from __future__ import annotations

import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1]
for folder in (EXAMPLE, EXAMPLE / "tests"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
