"""One analysis: from the cache when the same contract was analyzed before, else by the
first AI provider that answers, else by the static analyzer. The same for the HTTP API and
the bucket trigger."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from dataclasses import asdict
from typing import Any

from contract_analyzer import static
from contract_analyzer.findings import Finding, ordered, score
from contract_analyzer.providers import Attempt, first_answer
from contract_analyzer.settings import Settings
from faasport import state

log = logging.getLogger("contract_analyzer")

#: How long a report stays cached; one made by the fallback after every provider failed is
#: kept briefly, so the AI gets asked again soon.
CACHE_TTL = 7 * 24 * 3600
FALLBACK_TTL = 300

_stores: dict[str, state.Store] = {}


def _store(url: str) -> state.Store | None:
    """The state store, opened once per environment; None while it cannot be opened (the
    analysis goes on uncached)."""
    if url not in _stores:
        try:
            _stores[url] = state.open(url)
        except state.StateError as error:
            log.warning("cache unavailable: %s", error)
            return None
    return _stores[url]


def cache_key(code: str, analysis_type: str, settings: Settings) -> str:
    """The contract's hash, with what decides its report: the analyzer's version and the
    providers asked."""
    digest = hashlib.sha256()
    for part in (static.MODEL, analysis_type, ",".join(settings.providers), code):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def analyze(
    code: str, name: str, analysis_type: str, settings: Settings, *, request_id: str | None = None
) -> dict[str, Any]:
    started = time.perf_counter()
    key = cache_key(code, analysis_type, settings)
    store = _store(settings.state_url)
    report = _cached(store, key)
    cached = report is not None
    if report is None:
        report, ttl = _fresh(code, name, settings)
        report["contract_hash"] = key
        if store is not None:
            try:
                store.set(f"contract-report:{key}", json.dumps(report).encode(), ttl=ttl)
            except state.StateError as error:
                log.warning("report not cached: %s", error)
    return {
        "request_id": request_id or str(uuid.uuid4()),
        "contract_name": name,
        "analysis_type": analysis_type,
        **report,
        "cached": cached,
        "processing_time": round(time.perf_counter() - started, 4),
    }


def _cached(store: state.Store | None, key: str) -> dict[str, Any] | None:
    if store is None:
        return None
    try:
        raw = store.get(f"contract-report:{key}")
    except state.StateError as error:
        log.warning("cache unavailable: %s", error)
        return None
    if raw is None:
        return None
    report: dict[str, Any] = json.loads(raw)
    return report


def _fresh(code: str, name: str, settings: Settings) -> tuple[dict[str, Any], int]:
    providers, skipped = settings.build_providers()
    review, attempts = first_answer(providers, code, name, settings.timeout)
    attempts = [Attempt(n, settings.models[n], "no API key") for n in skipped] + attempts
    findings: list[Finding]
    if review is not None:
        findings, service, model = ordered(review.findings), review.service, review.model
    else:
        findings, service, model = static.analyze(code), "static", static.MODEL
        for attempt in attempts:
            log.warning("AI provider %s failed: %s", attempt.service, attempt.outcome)
    ttl = FALLBACK_TTL if review is None and attempts else CACHE_TTL
    return {
        "findings": [f.to_json() for f in findings],
        "overall_security_score": score(findings),
        "service_used": service,
        "model_used": model,
        "providers_tried": [asdict(a) for a in attempts],
    }, ttl
