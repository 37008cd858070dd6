"""The deployed functions' logs, read from each cloud's log service for ``faasport logs``:
CloudWatch Logs (boto3), Cloud Logging (``entries:list``) and Azure Monitor (a Log Analytics
query), each giving :class:`~faasport.local.logview.LogEvent` values oldest first."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Protocol

from faasport.config.model import Function, Project
from faasport.core.errors import FaasportError
from faasport.local.logview import LogEvent

#: Seconds between two reads of a cloud's logs with ``--tail``.
POLL = 2.0


class LogsError(FaasportError):
    """The cloud's log service refused or failed: one line saying what to do."""


class CloudLogs(Protocol):
    def events(self, since: float, text: str | None) -> Iterator[LogEvent]:
        """The function's events from ``since`` (seconds since the epoch) on, oldest first,
        those containing ``text`` only when it is given."""
        ...


def reader(cloud: str, project: Project, function: Function) -> CloudLogs:
    """The log reader of ``function`` as deployed on ``cloud`` (aws, gcp or azure)."""
    if cloud == "aws":
        from faasport.deploy.logs.aws import CloudWatchLogs

        return CloudWatchLogs(project, function)
    if cloud == "gcp":
        from faasport.deploy.logs.gcp import CloudLogging

        return CloudLogging(project, function)
    from faasport.deploy.logs.azure import AzureMonitor

    return AzureMonitor(project, function)


def follow(
    logs: CloudLogs,
    since: float,
    text: str | None,
    *,
    interval: float = POLL,
    running: Callable[[], bool] = lambda: True,
) -> Iterator[LogEvent]:
    """The events from ``since`` on, then each new one as it arrives (``--tail``). A read
    starts again at the newest timestamp seen, as later events may share it; those already
    given are not given twice."""
    seen: set[tuple[float, str]] = set()
    while True:
        newest = since
        for event in logs.events(since, text):
            key = (event.timestamp, event.message)
            if key in seen:
                continue
            seen.add(key)
            newest = max(newest, event.timestamp)
            yield event
        if newest > since:
            seen = {key for key in seen if key[0] >= newest}
            since = newest
        if not running():
            return
        time.sleep(interval)
