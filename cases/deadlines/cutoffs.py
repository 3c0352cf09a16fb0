"""The monthly cut-offs (seed 五(二)2(2)).

By the 20th a unit completes next month's confirmations and adjustments (later ones are paid
from the month after); from the 20th to the 25th it submits next month's payment roster,
later only with the county's leave (`RosterWindowLeave`). Approval units are reminded three
working days before the 20th. Rosters belong to the disbursement layer, which asks
`roster_submission_open`, `roster_window_open` and `roster_due_date` here.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from accounts.models import Role, Unit, User
from accounts.notify import notify, staff_with_role
from cases.models import RosterWindowLeave

from . import calendar
from .calendar import CONFIRMATION_CUTOFF_DAY, ROSTER_WINDOW, add_months, first_payable_month

REMINDER_WORKDAYS_BEFORE = 3
REMINDED_ROLES = (Role.HANDLER, Role.DIRECT_RESPONSIBLE, Role.FIRST_RESPONSIBLE)


def cutoff_reminder_day(month: date) -> date:
    """Three working days before the month's 20th."""
    cutoff = date(month.year, month.month, CONFIRMATION_CUTOFF_DAY)
    return calendar.current_calendar().add_workdays(cutoff, -REMINDER_WORKDAYS_BEFORE).date


def payment_cutoff_notice(day: date | None = None) -> str:
    """What a confirmation page says about the month a decision made on `day` is first paid."""
    day = day or timezone.localdate()
    month = first_payable_month(day)
    if day.day <= CONFIRMATION_CUTOFF_DAY:
        return f"本月{CONFIRMATION_CUTOFF_DAY}日前（含）审核确认的，自{month:%Y年%m月}起发放。"
    return (
        f"本月{CONFIRMATION_CUTOFF_DAY}日已截止，今日审核确认的纳入{month:%Y年%m月}发放清册，"
        f"自{month:%Y年%m月}起发放。"
    )


CASES_BY_DEADLINE = "/cases/?order=due"


def send_cutoff_reminders(*, today: date | None = None) -> int:
    """Between the reminder day and the 20th, remind every approval unit once for the month."""
    today = today or timezone.localdate()
    month = date(today.year, today.month, 1)
    cutoff = date(today.year, today.month, CONFIRMATION_CUTOFF_DAY)
    if not cutoff_reminder_day(month) <= today <= cutoff:
        return 0
    payment_month = add_months(month, 1)
    sent = 0
    for unit in Unit.objects.approval_units().order_by("code"):
        title = f"请于{cutoff:%m月%d日}前完成{payment_month:%Y年%m月}新增、调整审核确认"
        body = (
            f"{cutoff:%Y年%m月%d日}前（含）完成的新增审核确认、调整和系统确认纳入"
            f"{payment_month:%Y年%m月}发放；逾期的顺延至下月。"
            f"{ROSTER_WINDOW[0]}日至{ROSTER_WINDOW[1]}日请报送{payment_month:%Y年%m月}资金发放清册。"
        )
        key = f"cutoff:{unit.pk}:{month:%Y-%m}"
        for user in _unit_staff(unit):
            # Links to the cases by deadline: that is where the month's confirmations are done.
            sent += notify(user, key=key, title=title, body=body, url=CASES_BY_DEADLINE) is not None
    return sent


def roster_month(day: date) -> date:
    """The payment month whose roster is due around `day`: from the 20th, next month's."""
    month = date(day.year, day.month, 1)
    return add_months(month, 1) if day.day >= ROSTER_WINDOW[0] else month


def roster_window(month: date) -> tuple[date, date]:
    """The 20th–25th of the month before the payment month `month`."""
    before = add_months(date(month.year, month.month, 1), -1)
    return date(before.year, before.month, ROSTER_WINDOW[0]), date(
        before.year, before.month, ROSTER_WINDOW[1]
    )


def roster_due_date(unit: Unit, month: date) -> date:
    """The last day a unit may submit the payment month's roster: the 25th, or the county's leave."""
    _, closes = roster_window(month)
    leave = _latest_leave(unit, date(month.year, month.month, 1))
    return max(closes, leave) if leave else closes


def roster_window_open(day: date, unit: Unit | None = None) -> bool:
    """True from the 20th to the 25th inclusive, or while the county's leave for the unit runs."""
    if ROSTER_WINDOW[0] <= day.day <= ROSTER_WINDOW[1]:
        return True
    if unit is None:
        return False
    leaves = RosterWindowLeave.objects.filter(unit=unit, until__gte=day)
    return any(roster_window(leave.month)[0] <= day for leave in leaves)


def roster_submission_open(unit: Unit, month: date, day: date) -> bool:
    """A payment month's regular roster goes in from the 20th of the month before up to the
    25th, or up to the end of the county's leave for that unit and that month."""
    opens, _ = roster_window(month)
    return opens <= day <= roster_due_date(unit, month)


def last_closed_roster_month(today: date) -> date:
    """The latest payment month whose 20th–25th window has closed by `today`.

    After the 25th that is next month; before it, this month (whose window closed last
    month, and whose roster may be late only under the county's leave).
    """
    this_month = date(today.year, today.month, 1)
    return add_months(this_month, 1) if today.day > ROSTER_WINDOW[1] else this_month


def grant_roster_leave(
    *, unit: Unit, month: date, until: date, reason: str, actor: User
) -> RosterWindowLeave:
    """The county lets a unit submit a month's roster after the 25th, up to `until`."""
    from dengkou_aid.errors import DomainError, NotAllowed

    if not actor.has_role(Role.COUNTY_SUPERVISOR):
        raise NotAllowed("只有县民政局监管人员可以批准延期报送清册。")
    if not reason.strip():
        raise DomainError("请填写延期报送的理由。", field="reason")
    month = date(month.year, month.month, 1)
    if until <= roster_window(month)[1]:
        raise DomainError("延期截止日期应晚于当月25日。", field="until")
    return RosterWindowLeave.objects.create(
        unit=unit, month=month, until=until, reason=reason.strip(), granted_by=actor
    )


def _latest_leave(unit: Unit, month: date) -> date | None:
    leaves = RosterWindowLeave.objects.filter(unit=unit, month=month)
    return max((leave.until for leave in leaves), default=None)


def _unit_staff(unit: Unit) -> list[User]:
    users: dict[int, User] = {}
    for role in REMINDED_ROLES:
        for user in staff_with_role(role, unit_id=unit.pk):
            users.setdefault(user.pk, user)
    return list(users.values())
