"""The built-in analyzer: every detector over one parsed source, offline."""

from __future__ import annotations

from contract_analyzer.detectors import DETECTORS
from contract_analyzer.findings import Finding, ordered
from contract_analyzer.solidity import parse

#: Reported as ``model_used``; bump it when a detector changes, so cached reports expire.
MODEL = "faasport-solidity-static-1"


def analyze(code: str) -> list[Finding]:
    source = parse(code)
    return ordered([finding for detector in DETECTORS for finding in detector(source)])
