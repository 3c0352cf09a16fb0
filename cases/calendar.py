"""Working days for case deadlines and the monthly cut-offs.

Placeholder until the deadlines work lands: statutory holidays and adjusted working days
from the chinese-calendar package, weekdays (marked provisional) for years it does not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar

ACCEPTANCE_LIMIT_WORKDAYS = 20
EXTENSION_WORKDAYS = 10
CONFIRMATION_CUTOFF_DAY = 20
ROSTER_WINDOW = (20, 25)


@dataclass(frozen=True)
class WorkdayResult:
    date: date
    provisional: bool


def _is_workday(day: date) -> tuple[bool, bool]:
    try:
        return chinese_calendar.is_workday(day), False
    except NotImplementedError:
        return day.weekday() < 5, True


def is_workday(day: date) -> bool:
    return _is_workday(day)[0]


def add_workdays(start: date, n: int) -> WorkdayResult:
    """The n-th working day after `start` (the start day itself is not counted)."""
    day, provisional, counted = start, False, 0
    while counted < n:
        day += timedelta(days=1)
        working, guessed = _is_workday(day)
        provisional = provisional or guessed
        counted += working
    return WorkdayResult(day, provisional)


def workdays_between(a: date, b: date) -> int:
    """Working days after `a` up to and including `b` (negative when b is before a)."""
    if b < a:
        return -workdays_between(b, a)
    return sum(is_workday(a + timedelta(days=i)) for i in range(1, (b - a).days + 1))


def first_payable_month(decided_on: date) -> date:
    """Confirmations by the 20th are paid from next month; later ones from the month after."""
    month = date(decided_on.year, decided_on.month, 1)
    months_ahead = 1 if decided_on.day <= CONFIRMATION_CUTOFF_DAY else 2
    year, index = divmod(month.month - 1 + months_ahead, 12)
    return date(month.year + year, index + 1, 1)
