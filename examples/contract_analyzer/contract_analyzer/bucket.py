"""The bucket trigger: a ``.sol`` file put in the ``contracts`` bucket gets its report, as
JSON under the same key with ``.json``, in the reports bucket."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import unquote_plus

from contract_analyzer import service
from contract_analyzer.settings import Settings
from faasport import events

log = logging.getLogger("contract_analyzer")
_clients: dict[str, Any] = {}


def s3() -> Any:
    if "s3" not in _clients:
        import boto3

        _clients["s3"] = boto3.client("s3")
    return _clients["s3"]


def report_key(key: str) -> str:
    return key.removesuffix(".sol") + ".json"


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = Settings.from_environment()
    written = []
    for record in events.records(event):
        if not isinstance(record, events.ObjectChange) or record.change != "created":
            continue
        key = unquote_plus(record.key)  # S3 events carry keys URL-encoded
        if not key.endswith(".sol"):
            continue  # Eventarc (Google Cloud) cannot filter by suffix
        body = s3().get_object(Bucket=record.bucket, Key=key)["Body"].read()
        report = _report(body, key, settings, getattr(context, "aws_request_id", None))
        target = report_key(key)
        s3().put_object(
            Bucket=settings.reports_bucket,
            Key=target,
            Body=json.dumps(report, indent=2).encode(),
            ContentType="application/json",
        )
        log.info("report %s/%s written", settings.reports_bucket, target)
        written.append(target)
    return {"reports": written}


def _report(body: bytes, key: str, settings: Settings, request_id: str | None) -> dict[str, Any]:
    """The analysis, or a report saying why there is none: retrying would not change it."""
    name = key.rsplit("/", 1)[-1].removesuffix(".sol")
    if len(body) > settings.max_code_bytes:
        reason = f"the file is {len(body)} bytes; the limit is {settings.max_code_bytes}"
        return {"contract_name": name, "source_key": key, "error": reason}
    try:
        code = body.decode("utf-8")
    except UnicodeDecodeError:
        return {"contract_name": name, "source_key": key, "error": "the file is not UTF-8 text"}
    report = service.analyze(code, name, "security", settings, request_id=request_id)
    return {**report, "source_key": key}


def notify(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A report landed in the reports bucket: one log line per report, a warning when it
    holds critical or high findings (where an alert or a ticket would go)."""
    summaries = []
    for record in events.records(event):
        if not isinstance(record, events.ObjectChange) or record.change != "created":
            continue
        key = unquote_plus(record.key)
        if not key.endswith(".json"):
            continue
        report = json.loads(s3().get_object(Bucket=record.bucket, Key=key)["Body"].read())
        counts: dict[str, int] = {}
        for finding in report.get("findings", []):
            counts[finding["severity"]] = counts.get(finding["severity"], 0) + 1
        summary = ", ".join(f"{n} {severity}" for severity, n in sorted(counts.items())) or (
            report.get("error") or "no finding"
        )
        level = logging.WARNING if counts.get("critical") or counts.get("high") else logging.INFO
        log.log(level, "report %s: %s", key, summary)
        summaries.append({"key": key, "summary": summary})
    return {"reports": summaries}
