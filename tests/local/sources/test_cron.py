"""Schedule expressions against the examples of AWS's EventBridge documentation ("Cron
expressions" and "Rate expressions" reference), each checked by its next firing times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from faasport.local.sources.cron import Cron, ScheduleError, parse

# 2026-11-28 is a Saturday.
START = datetime(2026, 11, 28, 15, 52, tzinfo=UTC)


def upcoming(
    expression: str, count: int = 3, start: datetime = START, zone: str | None = None
) -> list[str]:
    schedule = parse(expression, zone)
    out = []
    moment = start
    for _ in range(count):
        found = schedule.next_after(moment)
        assert found is not None
        out.append(found.strftime("%a %Y-%m-%d %H:%M"))
        moment = found
    return out


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # "Run at 10:00 am (UTC+0) every day"
        (
            "cron(0 10 * * ? *)",
            ["Sun 2026-11-29 10:00", "Mon 2026-11-30 10:00", "Tue 2026-12-01 10:00"],
        ),
        # "Run at 12:15 pm (UTC+0) every day"
        (
            "cron(15 12 * * ? *)",
            ["Sun 2026-11-29 12:15", "Mon 2026-11-30 12:15", "Tue 2026-12-01 12:15"],
        ),
        # "Run at 6:00 pm (UTC+0) every Monday through Friday"
        (
            "cron(0 18 ? * MON-FRI *)",
            ["Mon 2026-11-30 18:00", "Tue 2026-12-01 18:00", "Wed 2026-12-02 18:00"],
        ),
        # "Run at 8:00 am (UTC+0) every first day of the month"
        (
            "cron(0 8 1 * ? *)",
            ["Tue 2026-12-01 08:00", "Fri 2027-01-01 08:00", "Mon 2027-02-01 08:00"],
        ),
        # "Run every 15 minutes"
        (
            "cron(0/15 * * * ? *)",
            ["Sat 2026-11-28 16:00", "Sat 2026-11-28 16:15", "Sat 2026-11-28 16:30"],
        ),
        # "Run every 10 minutes Monday through Friday"
        (
            "cron(0/10 * ? * MON-FRI *)",
            ["Mon 2026-11-30 00:00", "Mon 2026-11-30 00:10", "Mon 2026-11-30 00:20"],
        ),
        # "Run every 5 minutes Monday through Friday between 8:00 am and 5:55 pm (UTC+0)"
        (
            "cron(0/5 8-17 ? * MON-FRI *)",
            ["Mon 2026-11-30 08:00", "Mon 2026-11-30 08:05", "Mon 2026-11-30 08:10"],
        ),
        # "Run every 30 minutes Monday through Friday between 10:00 pm on the starting day
        # to 2:00 am on the following day (UTC)": hours wrap around midnight.
        (
            "cron(0/30 22-2 ? * MON-FRI *)",
            ["Mon 2026-11-30 00:00", "Mon 2026-11-30 00:30", "Mon 2026-11-30 01:00"],
        ),
        # "Run at 9:00 am (UTC) on the first Monday of each month"
        (
            "cron(0 9 ? * 2#1 *)",
            ["Mon 2026-12-07 09:00", "Mon 2027-01-04 09:00", "Mon 2027-02-01 09:00"],
        ),
        # L, W and LW: the last day, the weekday nearest the 15th, the last weekday.
        (
            "cron(0 0 L * ? *)",
            ["Mon 2026-11-30 00:00", "Thu 2026-12-31 00:00", "Sun 2027-01-31 00:00"],
        ),
        (
            "cron(0 12 15W * ? *)",
            ["Tue 2026-12-15 12:00", "Fri 2027-01-15 12:00", "Mon 2027-02-15 12:00"],
        ),
        (
            "cron(0 12 LW * ? *)",
            ["Mon 2026-11-30 12:00", "Thu 2026-12-31 12:00", "Fri 2027-01-29 12:00"],
        ),
        # The last Friday of the month; lists and names; a year range.
        (
            "cron(0 17 ? * 6L *)",
            ["Fri 2026-12-25 17:00", "Fri 2027-01-29 17:00", "Fri 2027-02-26 17:00"],
        ),
        (
            "cron(30 6 ? JAN,JUL SUN 2027-2028)",
            ["Sun 2027-01-03 06:30", "Sun 2027-01-10 06:30", "Sun 2027-01-17 06:30"],
        ),
        # "rate(5 minutes)", "rate(1 hour)", "rate(7 days)"
        (
            "rate(5 minutes)",
            ["Sat 2026-11-28 15:57", "Sat 2026-11-28 16:02", "Sat 2026-11-28 16:07"],
        ),
        ("rate(1 hour)", ["Sat 2026-11-28 16:52", "Sat 2026-11-28 17:52", "Sat 2026-11-28 18:52"]),
        ("rate(7 days)", ["Sat 2026-12-05 15:52", "Sat 2026-12-12 15:52", "Sat 2026-12-19 15:52"]),
    ],
)
def test_documented_examples(expression: str, expected: list[str]) -> None:
    assert upcoming(expression) == expected


def test_a_weekday_near_a_saturday_first_stays_in_the_month() -> None:
    # 2022-01-01 was a Saturday: 1W is Monday the 3rd, not Friday 31 December.
    start = datetime(2021, 12, 15, tzinfo=UTC)
    assert upcoming("cron(0 0 1W * ? *)", 1, start) == ["Mon 2022-01-03 00:00"]


def test_a_time_zone_follows_daylight_saving() -> None:
    # 9:00 in New York is 14:00 UTC in winter and 13:00 UTC after 8 March 2026.
    start = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
    assert upcoming("cron(0 9 * * ? *)", 3, start, zone="America/New_York") == [
        "Sat 2026-03-07 14:00",
        "Sun 2026-03-08 13:00",
        "Mon 2026-03-09 13:00",
    ]


def test_a_date_that_never_comes_has_no_next_time() -> None:
    schedule = parse("cron(0 0 30 FEB ? *)")
    assert isinstance(schedule, Cron)
    assert schedule.next_after(START) is None


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("cron(0 10 * * * *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 10 * * ?)", "6 fields"),
        ("cron(61 10 * * ? *)", "minutes: 61 is outside 0-59"),
        ("cron(0 10 ? * FUN *)", "day-of-week: 'FUN' is not a number or name"),
        ("cron(0/0 10 * * ? *)", "step '0' must be a positive number"),
        ("rate(0 minutes)", "at least 1"),
        ("every 5 minutes", r"neither rate\(...\) nor cron\(...\)"),
    ],
)
def test_bad_expressions_say_what_is_wrong(expression: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse(expression)
