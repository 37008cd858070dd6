"""Reaching the running ``faasport dev`` of a project: the ``queue`` (and later ``topic``,
``bucket``, ``stream``, ``bus``, ``schedule``) commands talk to its AWS-compatible endpoint."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click

from faasport.core.errors import FaasportError

#: The option every command that reaches a running ``faasport dev`` takes.
PROJECT = click.option(
    "--dir",
    "directory",
    default=".",
    show_default=True,
    type=click.Path(path_type=Path),
    help="The project whose faasport dev to reach.",
)


class NotRunningError(FaasportError):
    """No ``faasport dev`` runs for the project."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunningDev:
    def __init__(self, directory: Path) -> None:
        from faasport.config import load_project
        from faasport.local.sources.event_sources import DEV_STATE

        project = load_project(directory)
        state = project.root / DEV_STATE
        try:
            found = json.loads(state.read_text())
            pid, url = int(found["pid"]), str(found["services"])
        except (OSError, ValueError, KeyError, TypeError):
            pid, url = 0, ""
        if not pid or not _alive(pid):
            raise NotRunningError(
                f"faasport dev is not running for {project.root}; start it with: faasport dev"
            )
        self.url = url

    def _request(self, request: urllib.request.Request) -> Any:
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("message") or exc.reason
            except ValueError:
                message = exc.reason
            raise FaasportError(str(message)) from None
        except (urllib.error.URLError, ConnectionError) as exc:
            raise NotRunningError(
                f"faasport dev does not answer on {self.url} ({exc}); is it still running?"
            ) from None

    def sqs(self, operation: str, request: dict[str, Any]) -> Any:
        """One SQS call in the JSON protocol, as boto3 makes it."""
        return self._request(
            urllib.request.Request(
                self.url,
                data=json.dumps(request).encode(),
                headers={
                    "Content-Type": "application/x-amz-json-1.0",
                    "X-Amz-Target": f"AmazonSQS.{operation}",
                },
                method="POST",
            )
        )

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """A ``faasport dev`` request beyond the AWS APIs (``/_faasport/...``)."""
        data = None if body is None else json.dumps(body).encode()
        return self._request(
            urllib.request.Request(f"{self.url}/_faasport/{path}", data=data, method=method)
        )

    def queue_url(self, name: str) -> str:
        return str(self.sqs("GetQueueUrl", {"QueueName": name})["QueueUrl"])
