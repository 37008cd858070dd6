"""Azure Monitor: the function's traces in the Log Analytics workspace of the app's
Application Insights (table ``AppTraces``), through the workspace query REST API.

The workspace is ``FAASPORT_AZURE_WORKSPACE`` (its id, a GUID: ``az monitor log-analytics
workspace show --query customerId``); the access token ``FAASPORT_AZURE_TOKEN``, else
``az account get-access-token``; ``FAASPORT_AZURE_LOGS_ENDPOINT`` replaces the endpoint.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from faasport.config.model import Function, Project
from faasport.deploy.azure.names import function_app_prefix
from faasport.deploy.logs import LogsError
from faasport.deploy.logs.rest import json_line, parse_time, post, rfc3339, token
from faasport.local.logview import LogEvent

DEFAULT_ENDPOINT = "https://api.loganalytics.io"
ENDPOINT_VARIABLE = "FAASPORT_AZURE_LOGS_ENDPOINT"
TOKEN_VARIABLE = "FAASPORT_AZURE_TOKEN"
WORKSPACE_VARIABLE = "FAASPORT_AZURE_WORKSPACE"
#: Application Insights' SeverityLevel -> the level faasport's logs name.
LEVELS = {0: "DEBUG", 1: "INFO", 2: "WARNING", 3: "ERROR", 4: "CRITICAL"}


def kql_string(text: str) -> str:
    """A KQL string literal (double quotes, backslash escapes: JSON's are KQL's)."""
    return json.dumps(text)


class AzureMonitor:
    def __init__(self, project: Project, function: Function) -> None:
        self.function = function
        self.app_prefix = function_app_prefix(project)
        self.endpoint = os.environ.get(ENDPOINT_VARIABLE, DEFAULT_ENDPOINT).rstrip("/")
        self.workspace = os.environ.get(WORKSPACE_VARIABLE, "")
        self._token = ""

    def query(self, since: float, text: str | None) -> str:
        """The KQL query of the function's traces since ``since``."""
        lines = [
            "AppTraces",
            f"| where TimeGenerated >= datetime({rfc3339(since)})",
            f"| where AppRoleName startswith {kql_string(self.app_prefix)}",
            f"| where OperationName == {kql_string(self.function.name)}",
        ]
        if text:
            lines.append(f"| where Message contains_cs {kql_string(text)}")
        lines.append("| project TimeGenerated, Message, SeverityLevel")
        lines.append("| order by TimeGenerated asc")
        return "\n".join(lines)

    def events(self, since: float, text: str | None) -> Iterator[LogEvent]:
        if not self.workspace:
            raise LogsError(
                f"set {WORKSPACE_VARIABLE} to the id of the app's Log Analytics workspace "
                "(az monitor log-analytics workspace show --query customerId)"
            )
        if not self._token:
            command = [
                "az", "account", "get-access-token", "--resource", DEFAULT_ENDPOINT,
                "--query", "accessToken", "--output", "tsv",
            ]  # fmt: skip
            self._token = token(TOKEN_VARIABLE, command, "Azure Monitor")
        what = f'Azure Monitor (workspace "{self.workspace}")'
        url = f"{self.endpoint}/v1/workspaces/{self.workspace}/query"
        answer = post(url, {"query": self.query(since, text)}, self._token, what)
        tables = answer.get("tables")
        if not isinstance(tables, list) or not tables or not isinstance(tables[0], dict):
            raise LogsError(f"{what} answered without a result table")
        table: dict[str, Any] = tables[0]
        columns = [str(c.get("name")) for c in table.get("columns", []) if isinstance(c, dict)]
        for row in table.get("rows", []):
            if not isinstance(row, list) or len(row) != len(columns):
                continue
            values = dict(zip(columns, row, strict=True))
            moment = parse_time(str(values.get("TimeGenerated", "")))
            if moment is None:
                continue
            message = str(values.get("Message", ""))
            level = LEVELS.get(values.get("SeverityLevel"), "")  # type: ignore[arg-type]
            line = json_line(message, level) if level and not message.startswith("{") else message
            yield LogEvent(moment, self.function.name, line)
