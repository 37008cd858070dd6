"""Cloud Logging: the entries of the function's Cloud Run service (Cloud Functions 2nd gen
runs on Cloud Run) through the ``entries:list`` REST method.

The Google Cloud project is ``FAASPORT_GCP_PROJECT`` or ``GOOGLE_CLOUD_PROJECT``; the access
token ``FAASPORT_GCP_TOKEN``, else ``gcloud auth print-access-token``;
``FAASPORT_GCP_LOGGING_ENDPOINT`` replaces the endpoint.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from faasport.config.model import Function, Project
from faasport.deploy.gcp.names import function_name
from faasport.deploy.logs import LogsError
from faasport.deploy.logs.rest import json_line, parse_time, post, rfc3339, token
from faasport.local.logview import LogEvent

DEFAULT_ENDPOINT = "https://logging.googleapis.com"
ENDPOINT_VARIABLE = "FAASPORT_GCP_LOGGING_ENDPOINT"
TOKEN_VARIABLE = "FAASPORT_GCP_TOKEN"
PROJECT_VARIABLES = ("FAASPORT_GCP_PROJECT", "GOOGLE_CLOUD_PROJECT")
PAGE = 1000


class CloudLogging:
    def __init__(self, project: Project, function: Function) -> None:
        self.function = function
        self.service = function_name(project, function)
        self.endpoint = os.environ.get(ENDPOINT_VARIABLE, DEFAULT_ENDPOINT).rstrip("/")
        self.gcp_project = next((os.environ[v] for v in PROJECT_VARIABLES if os.environ.get(v)), "")
        self._token = ""

    def query(self, since: float, text: str | None) -> str:
        """The Logging query language filter for the service's entries since ``since``."""
        parts = [
            'resource.type = "cloud_run_revision"',
            f'resource.labels.service_name = "{self.service}"',
            f'timestamp >= "{rfc3339(since)}"',
        ]
        if text:
            quoted = json.dumps(text)
            parts.append(f"(textPayload : {quoted} OR jsonPayload.message : {quoted})")
        return " AND ".join(parts)

    def events(self, since: float, text: str | None) -> Iterator[LogEvent]:
        if not self.gcp_project:
            raise LogsError(
                "set FAASPORT_GCP_PROJECT (or GOOGLE_CLOUD_PROJECT) to the Google Cloud project "
                "the functions were deployed to"
            )
        if not self._token:
            command = ["gcloud", "auth", "print-access-token"]
            self._token = token(TOKEN_VARIABLE, command, "Cloud Logging")
        body: dict[str, Any] = {
            "resourceNames": [f"projects/{self.gcp_project}"],
            "filter": self.query(since, text),
            "orderBy": "timestamp asc",
            "pageSize": PAGE,
        }
        what = f'Cloud Logging (service "{self.service}" in project "{self.gcp_project}")'
        while True:
            answer = post(f"{self.endpoint}/v2/entries:list", body, self._token, what)
            entries = answer.get("entries", [])
            if not isinstance(entries, list):
                raise LogsError(f"{what} answered entries that are not a list")
            for entry in entries:
                event = self._event(entry)
                if event is not None:
                    yield event
            page = answer.get("nextPageToken")
            if not page:
                return
            body["pageToken"] = page

    def _event(self, entry: Any) -> LogEvent | None:
        if not isinstance(entry, dict):
            return None
        moment = parse_time(str(entry.get("timestamp", "")))
        if moment is None:
            return None
        severity = str(entry.get("severity", ""))
        level = "" if severity in ("", "DEFAULT") else severity
        payload = entry.get("jsonPayload")
        if isinstance(payload, dict):
            if "message" in payload:
                line = json.dumps({"level": level, **payload}, ensure_ascii=False)
            else:
                line = json.dumps(payload, ensure_ascii=False)
        elif isinstance(entry.get("textPayload"), str):
            text = entry["textPayload"]
            line = json_line(text, level) if level and not text.startswith("{") else text
        else:
            return None  # request logs and audit entries: no line the function wrote
        return LogEvent(moment, self.function.name, line)
