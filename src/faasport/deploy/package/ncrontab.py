"""EventBridge schedule expressions as Azure's six-field NCRONTAB (seconds first).

``rate(5 minutes)`` becomes ``0 */5 * * * *``; ``cron(0 12 ? * MON-FRI *)`` becomes
``0 0 12 * * 1-5``. What NCRONTAB cannot say (``L``, ``W``, ``#``, a year, a rate that does
not divide an hour or a day) raises ValueError with the reason.
"""

from __future__ import annotations

import re

_RATE = re.compile(r"rate\((\d+) (minute|hour|day)s?\)")
_CRON = re.compile(r"cron\(([^()]*)\)")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_ITEM = re.compile(r"(\*|[0-9A-Z]+)(?:-([0-9A-Z]+))?(?:/(\d+))?")


def ncrontab(expression: str) -> str:
    rate = _RATE.fullmatch(expression)
    if rate:
        return _rate(int(rate.group(1)), rate.group(2), expression)
    cron = _CRON.fullmatch(expression)
    if cron is None:
        raise ValueError(f"{expression} is neither rate(...) nor cron(...)")
    fields = cron.group(1).upper().split()
    if len(fields) != 6:
        raise ValueError(f"{expression} does not have 6 fields")
    minute, hour, day, month, weekday, year = fields
    if year != "*":
        raise ValueError(f"{expression} names a year, which cron has no field for")
    return " ".join(
        [
            "0",
            _field(minute, 0, 59, (), 0, expression),
            _field(hour, 0, 23, (), 0, expression),
            _field(day, 1, 31, (), 0, expression),
            _field(month, 1, 12, _MONTHS, 0, expression),
            # EventBridge counts weekdays 1-7 from Sunday, NCRONTAB 0-6.
            _field(weekday, 1, 7, _DAYS, 1, expression),
        ]
    )


def _rate(value: int, unit: str, expression: str) -> str:
    if unit == "minute" and value % 60 == 0:
        unit, value = "hour", value // 60
    if unit == "hour" and value % 24 == 0:
        unit, value = "day", value // 24
    if unit == "minute" and 60 % value == 0:
        return "0 * * * * *" if value == 1 else f"0 */{value} * * * *"
    if unit == "hour" and 24 % value == 0:
        return "0 0 * * * *" if value == 1 else f"0 0 */{value} * * *"
    if unit == "day" and value == 1:
        return "0 0 0 * * *"
    raise ValueError(
        f"{expression} does not divide an hour or a day evenly, which cron cannot repeat "
        "exactly; use a rate that does, or a cron(...)"
    )


def _field(
    text: str, low: int, high: int, names: tuple[str, ...], shift: int, expression: str
) -> str:
    if text == "?":
        return "*"
    items = []
    for item in text.split(","):
        if "#" in item:
            raise ValueError(f"{expression} uses # (nth weekday), which cron does not have")
        match = _ITEM.fullmatch(item)
        if match is None:
            raise ValueError(f"{expression} has a field item {item!r} that is not understood")
        start, end, step = match.groups()
        if start == "*":
            base = "*" if end is None else None
        else:
            first = _value(start, low, high, names, expression) - shift
            if end is not None:
                last = _value(end, low, high, names, expression) - shift
                if last < first:
                    raise ValueError(f"{expression} has a backwards range {item!r}")
                base = f"{first}-{last}"
            else:
                base = str(first) if step is None else f"{first}-{high - shift}"
        if base is None:
            raise ValueError(f"{expression} has a field item {item!r} that is not understood")
        items.append(base if step is None else f"{base}/{step}")
    return ",".join(items)


def _value(text: str, low: int, high: int, names: tuple[str, ...], expression: str) -> int:
    if text in names:
        return names.index(text) + low
    for mark, meaning in (("L", "L (last)"), ("W", "W (nearest weekday)")):
        if mark in text:
            raise ValueError(f"{expression} uses {meaning}, which cron does not have")
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{expression} has {text!r} where {low}-{high} is expected")
    return int(text)
