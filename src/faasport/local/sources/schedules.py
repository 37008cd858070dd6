"""Scheduled invocations: each ``{ schedule = ... }`` event of a function fires the function
with EventBridge's scheduled event at the times its expression gives.

Like EventBridge, a schedule invokes its function asynchronously (the scheduler never waits
for a run) and does not replay firings missed while ``faasport dev`` was not running.
``fire(name)`` runs one now (``faasport schedule run NAME``).
"""

from __future__ import annotations

import heapq
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from faasport.core.errors import FaasportError
from faasport.local.sources.cron import Cron, Rate

Invoke = Callable[[str, bytes], object]


class UnknownScheduleError(FaasportError, LookupError):
    """No schedule has that name."""


@dataclass(frozen=True)
class Schedule:
    #: ``worker`` for a function's only schedule, ``worker-2`` for its second.
    name: str
    function: str
    expression: str
    timing: Cron | Rate


def scheduled_event(schedule: Schedule, when: datetime, region: str) -> bytes:
    from faasport.aws.event_builder import build_event
    from faasport.core.records import Tick

    time = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    tick = Tick(time, source="aws.events", name=schedule.name)
    return json.dumps(build_event([tick], region)).encode()


class Scheduler:
    """One thread firing every schedule on time; inert until :meth:`start`."""

    def __init__(
        self,
        schedules: list[Schedule],
        invoke: Invoke,
        region: str = "us-east-1",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        log: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.schedules = {schedule.name: schedule for schedule in schedules}
        self.invoke = invoke
        self.region = region
        self.clock = clock
        self.log = log
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="faasport-schedules", daemon=True)

    def start(self) -> None:
        if self.schedules:
            self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def fire(self, name: str, when: datetime | None = None) -> None:
        """Invoke ``name``'s function now (in the background), as its schedule would."""
        schedule = self.schedules.get(name)
        if schedule is None:
            known = ", ".join(sorted(self.schedules)) or "none"
            raise UnknownScheduleError(f'no schedule "{name}"; the schedules are: {known}')
        event = scheduled_event(schedule, when or self.clock(), self.region)
        threading.Thread(
            target=self._invoke, args=(schedule, event), name=f"faasport-tick-{name}", daemon=True
        ).start()

    def _invoke(self, schedule: Schedule, event: bytes) -> None:
        try:
            self.invoke(schedule.function, event)
        except Exception as exc:  # a failed run must not stop the schedule
            self.log(f"schedule {schedule.name}: {type(exc).__name__}: {exc}")

    def _run(self) -> None:
        now = self.clock()
        due: list[tuple[datetime, str]] = []
        for schedule in self.schedules.values():
            first = schedule.timing.next_after(now)
            if first is not None:
                heapq.heappush(due, (first, schedule.name))
        with self._wake:
            while not self._stopping and due:
                when, name = due[0]
                left = (when - self.clock()).total_seconds()
                if left > 0:
                    self._wake.wait(min(left, 60.0))
                    continue
                heapq.heappop(due)
                self.fire(name, when)
                following = self.schedules[name].timing.next_after(when)
                if following is not None:
                    heapq.heappush(due, (following, name))
