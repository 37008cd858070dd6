"""EventBridge schedule expressions: ``rate(...)`` and ``cron(...)`` in AWS's six fields
(minutes hours day-of-month month day-of-week year), with ``* ? , - /``, ``L`` (last day of
the month; in day-of-week ``5L``, the last Thursday), ``W`` (``15W``: the weekday nearest
the 15th; ``LW``: the last weekday), ``#`` (``2#1``: the first Monday), month and day names,
ranges that wrap (``22-2`` hours), and a time zone.

Day-of-week counts as AWS does: 1 is Sunday, 7 is Saturday.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_MONTHS = {name: i for i, name in enumerate(calendar.month_abbr) if name}
_MONTHS = {name.upper(): i for name, i in _MONTHS.items()}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}
#: How far ahead a cron expression is searched for its next time.
_HORIZON_DAYS = 366 * 8


class ScheduleError(ValueError):
    """An expression this module cannot read; the message says which part."""


def _number(text: str, low: int, high: int, names: dict[str, int], what: str) -> int:
    value = names.get(text.upper()) if names else None
    if value is None:
        if not text.isdigit():
            raise ScheduleError(f"{what}: {text!r} is not a number or name")
        value = int(text)
    if not low <= value <= high:
        raise ScheduleError(f"{what}: {value} is outside {low}-{high}")
    return value


def _values(field: str, low: int, high: int, what: str, names: dict[str, int] = {}) -> set[int]:  # noqa: B006
    out: set[int] = set()
    for part in field.split(","):
        step = 1
        stepped = "/" in part
        if stepped:
            part, _, step_text = part.partition("/")
            if not step_text.isdigit() or int(step_text) < 1:
                raise ScheduleError(f"{what}: step {step_text!r} must be a positive number")
            step = int(step_text)
        if part in ("*", "?"):
            first, last = low, high
        elif "-" in part:
            a, _, b = part.partition("-")
            first, last = _number(a, low, high, names, what), _number(b, low, high, names, what)
        else:
            first = _number(part, low, high, names, what)
            last = high if stepped else first
        if first <= last:
            out.update(range(first, last + 1, step))
        else:  # a range that wraps: 22-2 hours, FRI-MON
            span = list(range(first, high + 1)) + list(range(low, last + 1))
            out.update(span[::step])
    return out


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    #: Day-of-month: a set, or None when the field is "?".
    days: frozenset[int] | None
    last_day: bool
    #: ``15W``: the day whose nearest weekday fires; ``LW`` is -1.
    weekday_near: int | None
    months: frozenset[int]
    #: Day-of-week (1 Sunday .. 7 Saturday): a set, or None when "?".
    weekdays: frozenset[int] | None
    #: ``5L``: the last such weekday of the month.
    last_weekday: int | None
    #: ``2#1``: (weekday, nth).
    nth_weekday: tuple[int, int] | None
    years: frozenset[int]
    zone: ZoneInfo | None

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months or day.year not in self.years:
            return False
        if self.days is not None or self.last_day or self.weekday_near is not None:
            return self._day_of_month(day)
        return self._day_of_week(day)

    def _day_of_month(self, day: date) -> bool:
        length = calendar.monthrange(day.year, day.month)[1]
        if self.last_day:
            return day.day == length
        if self.weekday_near is not None:
            target = length if self.weekday_near == -1 else self.weekday_near
            return day.day == _nearest_weekday(day.year, day.month, target, length)
        return self.days is not None and day.day in self.days

    def _day_of_week(self, day: date) -> bool:
        aws = (day.isoweekday() % 7) + 1  # Sunday 1 .. Saturday 7
        length = calendar.monthrange(day.year, day.month)[1]
        if self.last_weekday is not None:
            return aws == self.last_weekday and day.day + 7 > length
        if self.nth_weekday is not None:
            weekday, nth = self.nth_weekday
            return aws == weekday and (day.day - 1) // 7 + 1 == nth
        return self.weekdays is not None and aws in self.weekdays

    def next_after(self, moment: datetime) -> datetime | None:
        """The first time strictly after ``moment`` (aware), in UTC; None if none within
        eight years."""
        zone = self.zone or UTC
        local = moment.astimezone(zone)
        start = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.date()
        minutes = sorted(self.minutes)
        for _ in range(_HORIZON_DAYS):
            if self.matches_day(day):
                for hour in sorted(self.hours):
                    for minute in minutes:
                        candidate = datetime(
                            day.year, day.month, day.day, hour, minute, tzinfo=zone
                        )
                        if candidate < start:
                            continue
                        utc = candidate.astimezone(UTC)
                        if utc.astimezone(zone).replace(tzinfo=None) != candidate.replace(
                            tzinfo=None
                        ):
                            continue  # a local time skipped by a daylight-saving change
                        return utc
            day += timedelta(days=1)
        return None


def _nearest_weekday(year: int, month: int, target: int, length: int) -> int:
    target = min(target, length)
    weekday = date(year, month, target).weekday()  # Monday 0 .. Sunday 6
    if weekday == 5:  # Saturday: the Friday before, unless that leaves the month
        return target - 1 if target > 1 else target + 2
    if weekday == 6:  # Sunday: the Monday after, unless that leaves the month
        return target + 1 if target < length else target - 2
    return target


def parse_cron(fields_text: str, zone: str | None = None) -> Cron:
    fields = fields_text.split()
    if len(fields) != 6:
        raise ScheduleError(f"cron() takes 6 fields, not {len(fields)}")
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleError("cron() needs '?' in exactly one of day-of-month and day-of-week")
    last_day = dom == "L"
    weekday_near: int | None = None
    days: frozenset[int] | None = None
    if dom == "LW":
        weekday_near = -1
    elif dom.endswith("W") and dom[:-1].isdigit():
        weekday_near = _number(dom[:-1], 1, 31, {}, "day-of-month")
    elif dom not in ("?", "L"):
        days = frozenset(_values(dom, 1, 31, "day-of-month"))
    last_weekday: int | None = None
    nth: tuple[int, int] | None = None
    weekdays: frozenset[int] | None = None
    if dow == "L":
        last_weekday = 7
    elif dow.endswith("L") and len(dow) > 1:
        last_weekday = _number(dow[:-1], 1, 7, _DAYS, "day-of-week")
    elif "#" in dow:
        day, _, count = dow.partition("#")
        nth = (_number(day, 1, 7, _DAYS, "day-of-week"), _number(count, 1, 5, {}, "day-of-week #"))
    elif dow != "?":
        weekdays = frozenset(_values(dow, 1, 7, "day-of-week", _DAYS))
    return Cron(
        minutes=frozenset(_values(minute, 0, 59, "minutes")),
        hours=frozenset(_values(hour, 0, 23, "hours")),
        days=days,
        last_day=last_day,
        weekday_near=weekday_near,
        months=frozenset(_values(month, 1, 12, "month", _MONTHS)),
        weekdays=weekdays,
        last_weekday=last_weekday,
        nth_weekday=nth,
        years=frozenset(_values(year, 1970, 2199, "year")),
        zone=ZoneInfo(zone) if zone else None,
    )


@dataclass(frozen=True)
class Rate:
    seconds: int

    def next_after(self, moment: datetime) -> datetime:
        return (moment + timedelta(seconds=self.seconds)).astimezone(UTC)


def parse(expression: str, zone: str | None = None) -> Cron | Rate:
    """The schedule of ``rate(...)`` or ``cron(...)``; raises :class:`ScheduleError`."""
    rate = _RATE.fullmatch(expression.strip())
    if rate:
        count = int(rate.group(1))
        if count < 1:
            raise ScheduleError("a rate must be at least 1")
        return Rate(count * _UNIT[rate.group(2).rstrip("s")])
    text = expression.strip()
    if text.startswith("cron(") and text.endswith(")"):
        return parse_cron(text[5:-1], zone)
    raise ScheduleError(f"{expression!r} is neither rate(...) nor cron(...)")
