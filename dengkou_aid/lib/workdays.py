"""A Chinese working-day calendar: statutory holidays, adjusted working days (调休), weekends.

For each day the answer comes from, in order: the overrides given to the calendar
(entered by an administrator from the State Council's yearly notice); the
`chinese_calendar` package for the years it ships data for; otherwise Monday to
Friday. A day answered by the last rule, in a year not listed in `known_years`, is
"unknown", and counts built on it are marked provisional: its holidays are not yet
published, so a deadline that crosses it may still move.
"""

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import NamedTuple

import chinese_calendar

_ONE_DAY = timedelta(days=1)


class WorkdayResult(NamedTuple):
    date: date
    provisional: bool


class Countdown(NamedTuple):
    """Working days until a due date as seen on a given day.

    `days` is workdays_between(today, due): the working days after today up to and
    including due (0 on the due date itself), negative once past due (minus the
    working days after due up to and including today). `overdue` is today > due, which
    also holds on a weekend straight after the due date, when `days` is still 0.
    """

    days: int
    overdue: bool
    provisional: bool


class WorkdayCalendar:
    """Answers whether a day is a working day and counts working days strictly."""

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        known_years: Iterable[int] = (),
    ) -> None:
        self._overrides = dict(overrides or {})
        self._known_years = frozenset(known_years)
        self._package_years: dict[int, bool] = {}
        # Lists count working days for every row; the answers for a day never change
        # within one calendar (a changed override builds a new calendar), so keep them.
        self._answers: dict[date, bool] = {}

    def is_workday(self, d: date) -> bool:
        """Overrides first, then chinese_calendar's data, then Monday–Friday."""
        answer = self._answers.get(d)
        if answer is None:
            answer = self._answers[d] = self._decide(d)
        return answer

    def _decide(self, d: date) -> bool:
        if d in self._overrides:
            return self._overrides[d]
        if self._package_knows(d.year):
            return chinese_calendar.is_workday(d)
        return d.weekday() < 5

    def is_known(self, d: date) -> bool:
        """True when an override, a known year or chinese_calendar's data decides the day."""
        return d in self._overrides or d.year in self._known_years or self._package_knows(d.year)

    def add_workdays(self, start: date, n: int) -> WorkdayResult:
        """Return the n-th working day after start (before it if n < 0); start itself is not counted."""
        step = _ONE_DAY if n >= 0 else -_ONE_DAY
        day, remaining, provisional = start, abs(n), False
        while remaining:
            day += step
            provisional = provisional or not self.is_known(day)
            if self.is_workday(day):
                remaining -= 1
        return WorkdayResult(day, provisional)

    def workdays_between(self, a: date, b: date) -> int:
        """Count working days after a up to and including b; negative if b < a, 0 if equal."""
        if b < a:
            return -self.workdays_between(b, a)
        return sum(1 for day in _days_after(a, b) if self.is_workday(day))

    def span_is_known(self, a: date, b: date) -> bool:
        """True when every day after min(a, b) up to and including max(a, b) is known."""
        low, high = min(a, b), max(a, b)
        return all(self.is_known(day) for day in _days_after(low, high))

    def workdays_left(self, today: date, due: date) -> Countdown:
        """Return the Countdown from today to due (see Countdown for the sign rules)."""
        return Countdown(
            days=self.workdays_between(today, due),
            overdue=today > due,
            provisional=not self.span_is_known(today, due),
        )

    def _package_knows(self, year: int) -> bool:
        if year not in self._package_years:
            try:
                chinese_calendar.is_workday(date(year, 1, 1))
            except NotImplementedError:
                self._package_years[year] = False
            else:
                self._package_years[year] = True
        return self._package_years[year]


def _days_after(a: date, b: date) -> Iterable[date]:
    day = a + _ONE_DAY
    while day <= b:
        yield day
        day += _ONE_DAY
