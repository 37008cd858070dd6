"""What the Cloud Logging and Azure Monitor readers share: an access token (from an
environment variable, else from the cloud's own CLI) and a JSON POST with errors as one
line."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from typing import Any

from faasport.deploy.logs import LogsError

_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?")


def token(variable: str, command: list[str], what: str) -> str:
    """``$variable`` when set, else what ``command`` (gcloud, az) prints."""
    given = os.environ.get(variable, "").strip()
    if given:
        return given
    if shutil.which(command[0]) is None:
        raise LogsError(
            f"no access token for {what}: set {variable}, or install {command[0]} and log in"
        )
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    printed = done.stdout.strip()
    if done.returncode != 0 or not printed:
        reason = " ".join(done.stderr.split())[:200] or f"exit code {done.returncode}"
        raise LogsError(f"no access token for {what}: {' '.join(command)} failed: {reason}")
    return printed


def post(url: str, body: dict[str, Any], access_token: str, what: str) -> dict[str, Any]:
    """The JSON answer of a POST; anything else is a :class:`LogsError` naming ``what``."""
    import httpx

    try:
        reply = httpx.post(
            url, json=body, headers={"Authorization": f"Bearer {access_token}"}, timeout=30
        )
    except httpx.HTTPError as exc:
        raise LogsError(f"cannot reach {what} at {url}: {exc}") from None
    try:
        answer = reply.json()
    except ValueError:
        answer = None
    if reply.status_code != 200:
        message = ""
        if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
            message = str(answer["error"].get("message", ""))
        message = " ".join(message.split())[:300] or reply.reason_phrase
        hint = (
            " (is the token valid and allowed to read logs?)"
            if reply.status_code
            in (
                401,
                403,
            )
            else ""
        )
        raise LogsError(f"{what} answered {reply.status_code}: {message}{hint}")
    if not isinstance(answer, dict):
        raise LogsError(f"{what} answered 200 with something other than a JSON object")
    return answer


def rfc3339(seconds: float) -> str:
    """``2026-11-28T21:00:00.123456Z``."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> float | None:
    """Seconds since the epoch of an RFC 3339 time (nanoseconds cut to microseconds)."""
    found = _RFC3339.fullmatch(text.strip())
    if found is None:
        return None
    head, fraction, zone = found.groups()
    try:
        moment = datetime.fromisoformat(
            f"{head}.{(fraction or '0')[:6]:0<6}{zone or ''}".replace("Z", "+00:00")
        )
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def json_line(message: str, level: str) -> str:
    """A line as faasport's JSON logs write it, so the view shows its level."""
    return json.dumps({"level": level, "message": message}, ensure_ascii=False)
