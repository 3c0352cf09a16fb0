"""Working days for case deadlines and the monthly cut-offs.

The answer for a day comes from the administrator's table (`WorkdayOverride`) first, then
the chinese_calendar package for the years it knows, then Monday to Friday. A count that
crosses a year neither the package knows nor the administrator has marked complete
(`CalendarYear.complete`) is provisional: the administrator is alerted, and
`recompute_provisional_deadlines` fixes the dates once the year is entered.

The calendar built from the table is cached per process and rebuilt when the table changes:
a save or delete in this process drops it at once; other processes notice on their next call
through a one-query fingerprint of the table.
"""

from __future__ import annotations

from datetime import date

from django.db import connection

from dengkou_aid.lib.workdays import WorkdayCalendar, WorkdayResult

from .cache import cached as _cached
from .cache import invalidate
from .cache import lock as _lock

ACCEPTANCE_LIMIT_WORKDAYS = 20
EXTENSION_WORKDAYS = 10
CONFIRMATION_CUTOFF_DAY = 20
ROSTER_WINDOW = (20, 25)
# Alert the administrator this many days before a year starts that it is still unknown.
UNKNOWN_YEAR_ALERT_DAYS = 75

__all__ = [
    "ACCEPTANCE_LIMIT_WORKDAYS",
    "CONFIRMATION_CUTOFF_DAY",
    "EXTENSION_WORKDAYS",
    "ROSTER_WINDOW",
    "WorkdayResult",
    "add_workdays",
    "current_calendar",
    "first_payable_month",
    "invalidate",
    "is_workday",
    "workdays_between",
]


def current_calendar() -> WorkdayCalendar:
    """The calendar as the table stands now (one fingerprint query; rebuilt only on change)."""
    fingerprint = _fingerprint()
    with _lock:
        if _cached["calendar"] is None or _cached["fingerprint"] != fingerprint:
            _cached["calendar"] = _build()
            _cached["fingerprint"] = fingerprint
        return _cached["calendar"]  # type: ignore[return-value]


def is_workday(day: date) -> bool:
    return current_calendar().is_workday(day)


def add_workdays(start: date, n: int) -> WorkdayResult:
    """The n-th working day after `start` (the start day itself is not counted).

    A provisional result alerts the administrators about the unknown year(s) it crossed.
    """
    calendar = current_calendar()
    result = calendar.add_workdays(start, n)
    if result.provisional:
        low, high = min(start, result.date), max(start, result.date)
        alert_unknown_years(range(low.year, high.year + 1), calendar=calendar)
    return result


def workdays_between(a: date, b: date) -> int:
    """Working days after `a` up to and including `b` (negative when b is before a)."""
    return current_calendar().workdays_between(a, b)


def first_payable_month(decided_on: date) -> date:
    """Confirmations by the 20th are paid from next month; later ones from the month after."""
    months_ahead = 1 if decided_on.day <= CONFIRMATION_CUTOFF_DAY else 2
    return add_months(date(decided_on.year, decided_on.month, 1), months_ahead)


def add_months(month: date, n: int) -> date:
    """The first day of the month `n` months after `month`'s."""
    year, index = divmod(month.month - 1 + n, 12)
    return date(month.year + year, index + 1, 1)


def year_is_known(year: int, *, calendar: WorkdayCalendar | None = None) -> bool:
    """True when the package or a complete administrator entry decides every day of `year`."""
    calendar = calendar or current_calendar()
    return calendar.is_known(date(year, 1, 1)) and calendar.is_known(date(year, 12, 31))


def alert_unknown_years(years, *, calendar: WorkdayCalendar | None = None) -> list[int]:
    """Tell every administrator (once per year) that a year's holidays must be entered."""
    from accounts.models import Role
    from accounts.notify import notify, staff_with_role

    calendar = calendar or current_calendar()
    unknown = [year for year in years if not year_is_known(year, calendar=calendar)]
    for year in unknown:
        for admin in staff_with_role(Role.ADMINISTRATOR):
            notify(
                admin,
                key=f"calendar:unknown-year:{year}",
                title=f"请录入{year}年节假日安排",
                body=(
                    f"系统尚无{year}年的法定节假日和调休安排，涉及该年度的办结期限暂按周一至周五计算，"
                    f"并标注为“暂定”。请在管理后台导入或录入{year}年节假日安排，并将该年度标记为已完整录入；"
                    "录入后系统将自动重新计算暂定期限。"
                ),
                url="/admin/cases/workdayoverride/",
            )
    return unknown


def alert_upcoming_unknown_year(today: date) -> list[int]:
    """Near the year's end, alert if next year's holidays are still missing."""
    years = [today.year]
    if (date(today.year + 1, 1, 1) - today).days <= UNKNOWN_YEAR_ALERT_DAYS:
        years.append(today.year + 1)
    return alert_unknown_years(years)


def _fingerprint() -> tuple:
    """One small query: counts catch deletions and bulk flag flips, the newest timestamps edits."""
    from cases.models import CalendarYear, WorkdayOverride

    days = connection.ops.quote_name(WorkdayOverride._meta.db_table)
    years = connection.ops.quote_name(CalendarYear._meta.db_table)
    sql = (
        f"SELECT (SELECT COUNT(*) FROM {days}),"
        f" (SELECT COUNT(*) FROM {days} WHERE is_workday),"
        f" (SELECT MAX(updated_at) FROM {days}),"
        f" (SELECT COUNT(*) FROM {years}),"
        f" (SELECT COUNT(*) FROM {years} WHERE complete),"
        f" (SELECT MAX(updated_at) FROM {years})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return tuple(cursor.fetchone())


def _build() -> WorkdayCalendar:
    from cases.models import CalendarYear, WorkdayOverride

    overrides = dict(WorkdayOverride.objects.values_list("date", "is_workday"))
    complete = CalendarYear.objects.filter(complete=True).values_list("year", flat=True)
    return WorkdayCalendar(overrides, known_years=list(complete))
