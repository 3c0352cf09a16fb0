"""Case deadlines: working days left, the case list's sorting and filters, and the daily scan.

A case's clock runs from acceptance to the decision (`CLOCK_STATES`); withdrawn, refused and
decided cases show no countdown. The scan warns the handler and the unit's direct-responsible
leaders at 5 and 2 working days left and flags overdue cases to the county supervisors; every
warning carries a key naming the case, its due date and the level, so it is sent once even
when the scan runs twice or restarts after a crash (an extension re-arms the warnings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import BooleanField, QuerySet, Value, When
from django.db.models import Case as SqlCase
from django.utils import timezone

from accounts.models import Role, User
from accounts.notify import county_supervisors, notify, staff_with_role
from cases.models import CLOCK_STATES, Case
from dengkou_aid.lib.workdays import WorkdayCalendar

from . import calendar
from .holidays import recompute_provisional_deadlines

WARN_AT = (5, 2)
BUCKETS = {"overdue": "已超期", "2": "2个工作日内到期", "5": "5个工作日内到期"}


@dataclass(frozen=True)
class DeadlineBadge:
    """What a list shows next to a running case: days left, or days overdue."""

    days: int
    overdue: bool
    provisional: bool
    level: str  # "overdue", "urgent" (<= 2), "soon" (<= 5) or "ok"
    label: str

    @property
    def css(self) -> str:
        return {"overdue": "tag error", "urgent": "tag error", "soon": "tag missing"}.get(
            self.level, "tag"
        )


def working_days_left(
    case: Case, *, today: date | None = None, cal: WorkdayCalendar | None = None
) -> int | None:
    """Working days after today up to the due date (negative once past); None if the clock stopped."""
    if not _clock_running(case):
        return None
    cal = cal or calendar.current_calendar()
    return cal.workdays_between(today or timezone.localdate(), case.due_date)


def deadline_badge(
    case: Case, *, today: date | None = None, cal: WorkdayCalendar | None = None
) -> DeadlineBadge | None:
    """The countdown a case list shows, or None when the case's clock has stopped."""
    if not _clock_running(case):
        return None
    cal = cal or calendar.current_calendar()
    countdown = cal.workdays_left(today or timezone.localdate(), case.due_date)
    provisional = case.deadline_provisional or countdown.provisional
    suffix = "（暂定）" if provisional else ""
    if countdown.overdue:
        days = max(-countdown.days, 1)
        return DeadlineBadge(-days, True, provisional, "overdue", f"已超期{days}个工作日{suffix}")
    level = "urgent" if countdown.days <= 2 else "soon" if countdown.days <= 5 else "ok"
    label = "今日到期" if countdown.days == 0 else f"剩余{countdown.days}个工作日"
    return DeadlineBadge(countdown.days, False, provisional, level, label + suffix)


def with_deadline_badges(
    cases, *, today: date | None = None
) -> list[tuple[Case, DeadlineBadge | None]]:
    """Pair each case with its badge, reading the calendar once for the whole list."""
    cal = calendar.current_calendar()
    today = today or timezone.localdate()
    return [(case, deadline_badge(case, today=today, cal=cal)) for case in cases]


# --- Selectors for the case list -----------------------------------------------------------


def running_clock(queryset: QuerySet[Case]) -> QuerySet[Case]:
    return queryset.filter(state__in=CLOCK_STATES, due_date__isnull=False)


def annotate_clock(queryset: QuerySet[Case]) -> QuerySet[Case]:
    """Add `clock_is_running` so a list can sort running cases first."""
    return queryset.annotate(
        clock_is_running=SqlCase(
            When(state__in=CLOCK_STATES, due_date__isnull=False, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def order_by_deadline(queryset: QuerySet[Case]) -> QuerySet[Case]:
    """Running cases first, the least working days left first (due-date order is the same order)."""
    return annotate_clock(queryset).order_by("-clock_is_running", "due_date", "id")


def filter_deadline(
    queryset: QuerySet[Case], bucket: str, *, today: date | None = None
) -> QuerySet[Case]:
    """Keep the running cases in a bucket: "overdue", "2" or "5" (working days left, at most)."""
    today = today or timezone.localdate()
    running = running_clock(queryset)
    if bucket == "overdue":
        return running.filter(due_date__lt=today)
    if bucket in ("2", "5"):
        # Working days left <= k exactly when due comes before the (k+1)-th working day.
        limit = calendar.current_calendar().add_workdays(today, int(bucket) + 1).date
        return running.filter(due_date__gte=today, due_date__lt=limit)
    return queryset


def overdue_cases(*, today: date | None = None) -> QuerySet[Case]:
    """Every unit's overdue cases, oldest due date first (for the county)."""
    today = today or timezone.localdate()
    return (
        running_clock(Case.objects.all())
        .filter(due_date__lt=today)
        .select_related("unit", "village", "handler")
        .order_by("due_date", "id")
    )


# --- The daily scan ------------------------------------------------------------------------


@dataclass
class ScanResult:
    scanned: int = 0
    warned: int = 0
    flagged: int = 0
    notices: int = 0
    recomputed: int = 0
    unknown_years: list[int] = field(default_factory=list)


def scan_deadlines(*, today: date | None = None) -> ScanResult:
    """Warn at 5 and 2 working days left, flag overdue cases; each notice sent once."""
    today = today or timezone.localdate()
    result = ScanResult()
    result.recomputed = recompute_provisional_deadlines()
    result.unknown_years = calendar.alert_upcoming_unknown_year(today)
    cal = calendar.current_calendar()
    supervisors = list(county_supervisors())
    case_ids = running_clock(Case.objects.all()).order_by("id").values_list("pk", flat=True)
    for case_id in list(case_ids):
        result.scanned += 1
        _scan_one(case_id, today=today, cal=cal, supervisors=supervisors, result=result)
    return result


def _scan_one(
    case_id: int, *, today: date, cal: WorkdayCalendar, supervisors: list[User], result: ScanResult
) -> None:
    # One transaction per case: a crash loses at most this case's notices, and a rerun adds them.
    with transaction.atomic():
        case = Case.objects.select_related("unit", "handler").filter(pk=case_id).first()
        if case is None or not _clock_running(case):
            return
        countdown = cal.workdays_left(today, case.due_date)
        if countdown.overdue:
            sent = _flag_overdue(case, today=today, cal=cal, supervisors=supervisors)
            result.flagged += bool(sent)
        else:
            sent = _warn(case, days=countdown.days)
            result.warned += bool(sent)
        result.notices += sent


def _warn(case: Case, *, days: int) -> int:
    level = next((level for level in sorted(WARN_AT) if days <= level), None)
    if level is None:
        return 0
    due = f"{case.due_date:%Y-%m-%d}"
    left = "今日到期" if days == 0 else f"剩余{days}个工作日"
    title = f"案件{case.number}办结期限将至：{left}"
    body = (
        f"{case.unit}受理的{case.get_kind_display()}案件{case.number}，办结期限为{due}，{left}。"
        "请及时办理；确需延期的，应在期限届满前说明理由办理延期。"
    )
    key = f"deadline:{case.pk}:{due}:{level}"
    return _notify_all(_unit_people(case), key=key, title=title, body=body, url=_case_url(case))


def _flag_overdue(case: Case, *, today: date, cal: WorkdayCalendar, supervisors: list[User]) -> int:
    due = f"{case.due_date:%Y-%m-%d}"
    late = max(cal.workdays_between(case.due_date, today), 1)
    title = f"超期案件：{case.unit}{case.number}已超期{late}个工作日"
    body = (
        f"{case.unit}受理的{case.get_kind_display()}案件{case.number}，办结期限为{due}，"
        f"截至{today:%Y-%m-%d}仍未办结。"
    )
    key = f"deadline:{case.pk}:{due}:overdue"
    recipients = [*supervisors, *_unit_people(case)]
    return _notify_all(recipients, key=key, title=title, body=body, url="/cases/deadlines/")


def _unit_people(case: Case) -> list[User]:
    """The case's handler (every handler of the unit if none is named) and direct leaders."""
    people = list(staff_with_role(Role.DIRECT_RESPONSIBLE, unit_id=case.unit_id))
    if case.handler is not None and case.handler.is_active:
        people.append(case.handler)
    else:
        people.extend(staff_with_role(Role.HANDLER, unit_id=case.unit_id))
    return people


def _notify_all(users, *, key: str, title: str, body: str, url: str) -> int:
    seen: set[int] = set()
    sent = 0
    for user in users:
        if user.pk in seen:
            continue
        seen.add(user.pk)
        sent += notify(user, key=key, title=title, body=body, url=url) is not None
    return sent


def _case_url(case: Case) -> str:
    return f"/cases/{case.pk}/"


def _clock_running(case: Case) -> bool:
    return case.state in CLOCK_STATES and case.due_date is not None
