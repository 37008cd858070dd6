"""CloudWatch Logs: the log group ``/aws/lambda/<function as deployed>`` through boto3's
``filter_log_events``. Credentials, region and endpoint (``AWS_ENDPOINT_URL_CLOUDWATCH_LOGS``)
are found as boto3 finds them; the region defaults to the project's."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from faasport.config.model import Function, Project
from faasport.deploy.aws.naming import function_name, log_group
from faasport.deploy.logs import LogsError
from faasport.local.logview import LogEvent


class CloudWatchLogs:
    def __init__(self, project: Project, function: Function) -> None:
        self.project = project
        self.function = function
        self.group = log_group(function_name(project, function))
        self._client: Any = None

    def _logs(self) -> Any:
        if self._client is None:
            try:
                import boto3
            except ImportError:
                raise LogsError("reading CloudWatch Logs needs boto3: pip install boto3") from None
            region = os.environ.get("AWS_REGION") or self.project.region
            self._client = boto3.client("logs", region_name=region)
        return self._client

    def events(self, since: float, text: str | None) -> Iterator[LogEvent]:
        import botocore.exceptions

        arguments: dict[str, Any] = {
            "logGroupName": self.group,
            "startTime": int(since * 1000),
            "interleaved": True,
        }
        if text:
            # A quoted term: the events holding exactly this text.
            arguments["filterPattern"] = json.dumps(text)
        client = self._logs()
        where = f"log group {self.group} in {client.meta.region_name}"
        try:
            for page in client.get_paginator("filter_log_events").paginate(**arguments):
                for event in page.get("events", []):
                    yield LogEvent(event["timestamp"] / 1000, self.function.name, event["message"])
        except client.exceptions.ResourceNotFoundException:
            stage = f" --stage {self.project.stage}" if self.project.stage else ""
            raise LogsError(
                f"there is no {where}: deploy the function (faasport deploy aws{stage}) and "
                "invoke it once; Lambda creates the group on its first log line"
            ) from None
        except botocore.exceptions.NoCredentialsError:
            raise LogsError(
                f"no AWS credentials to read {where}: set AWS_PROFILE, or run aws configure"
            ) from None
        except botocore.exceptions.ClientError as exc:
            error = exc.response.get("Error", {})
            raise LogsError(
                f"cannot read {where}: {error.get('Code', 'error')}: {error.get('Message', '')}"
            ) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise LogsError(f"cannot read {where}: {exc}") from None
