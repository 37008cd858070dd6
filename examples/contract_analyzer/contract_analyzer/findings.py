"""What an analysis reports: findings with a severity, and the score they leave."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

SEVERITIES = ("critical", "high", "medium", "low", "info")
#: Points each finding takes off a score of 100.
PENALTY = {"critical": 30, "high": 15, "medium": 7, "low": 2, "info": 0}


@dataclass(frozen=True)
class Finding:
    type: str
    severity: str
    line_number: int
    description: str
    recommendation: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def score(findings: list[Finding]) -> int:
    """100 for no finding, down to 0."""
    return max(0, 100 - sum(PENALTY[f.severity] for f in findings))


def ordered(findings: list[Finding]) -> list[Finding]:
    """Worst first, then by line; each (type, line) once."""
    unique = {(f.type, f.line_number): f for f in findings}
    return sorted(
        unique.values(), key=lambda f: (SEVERITIES.index(f.severity), f.line_number, f.type)
    )
