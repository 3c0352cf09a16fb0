"""Reads of the disbursement app: who may see which roster, subtotals, the county's month view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.http import HttpRequest

from accounts.access import not_found, scope_for
from accounts.models import UNIT_ROLES, Role, Unit, User
from cases.models import State

from .models import (
    DRAFT_STATES,
    SUBMITTED_STATES,
    Category,
    CountyFundRequest,
    Entitlement,
    ExportJob,
    FundRelease,
    PaymentRoster,
    RosterKind,
    RosterSignature,
    RosterState,
    SignatureStep,
)
from .services import ZERO, next_step, units_expected


def rosters_visible_to(user: User) -> QuerySet[PaymentRoster]:
    """All rosters for county staff, the unit's own for its staff, none for anyone else."""
    scope = scope_for(user)
    if scope.everything:
        return PaymentRoster.objects.all()
    if scope.unit_id is not None and scope.village_id is None:
        return PaymentRoster.objects.filter(unit_id=scope.unit_id)
    return PaymentRoster.objects.none()


def roster_for_user(
    user: User, roster_id: object, *, request: HttpRequest | None = None
) -> PaymentRoster:
    try:
        return rosters_visible_to(user).select_related("unit").get(pk=int(roster_id))
    except (PaymentRoster.DoesNotExist, TypeError, ValueError):
        raise not_found(request, user, "roster", roster_id) from None


def entitlements_visible_to(user: User) -> QuerySet[Entitlement]:
    return scope_for(user).filter(Entitlement.objects.all())


def entitlement_for_user(
    user: User, entitlement_id: object, *, request: HttpRequest | None = None
) -> Entitlement:
    try:
        return entitlements_visible_to(user).get(pk=int(entitlement_id))
    except (Entitlement.DoesNotExist, TypeError, ValueError):
        raise not_found(request, user, "entitlement", entitlement_id) from None


def cases_awaiting_account(user: User):
    """Approved cases of the user's unit that have no entitlement (no account entered) yet."""
    from cases.models import Case

    return (
        scope_for(user)
        .filter(Case.objects.filter(state=State.APPROVED, entitlement__isnull=True))
        .exclude(monthly_amount__isnull=True)
        .exclude(monthly_amount__lte=0)
        .select_related("applicant", "village")
        .order_by("decided_on", "id")
    )


def subtotals(roster: PaymentRoster) -> list[dict[str, Any]]:
    """Count and amount per category, in the roster's printed order (one GROUP BY)."""
    rows = {
        row["category"]: row
        for row in roster.lines.values("category").annotate(count=Count("id"), amount=Sum("amount"))
    }
    return [
        {
            "category": c.value,
            "label": c.label,
            "count": rows[c]["count"],
            "amount": rows[c]["amount"],
        }
        for c in Category
        if c in rows
    ]


def can_sign(user: User, roster: PaymentRoster) -> bool:
    from .services import STEP_ROLES

    if roster.state != RosterState.PREPARED or user.unit_id != roster.unit_id:
        return False
    step = next_step(roster)
    return step is not None and user.has_role(STEP_ROLES[step])


def can_submit(user: User, roster: PaymentRoster) -> bool:
    return (
        roster.state == RosterState.SIGNED
        and user.unit_id == roster.unit_id
        and user.has_role(Role.HANDLER, Role.FIRST_RESPONSIBLE)
    )


def can_correct(user: User, roster: PaymentRoster) -> bool:
    """The unit's handler may regenerate or discard a supplementary draft before it is submitted."""
    return (
        roster.kind == RosterKind.SUPPLEMENTARY
        and roster.state in DRAFT_STATES
        and user.unit_id == roster.unit_id
        and user.has_role(Role.HANDLER)
    )


def is_county_finance(user: User) -> bool:
    return user.is_county_staff and user.has_role(Role.COUNTY_FINANCE, Role.COUNTY_SUPERVISOR)


def sees_full_accounts(user: User) -> bool:
    """Only the county finance role needs whole account numbers (for the bank)."""
    return user.is_county_staff and user.has_role(Role.COUNTY_FINANCE)


@dataclass
class UnitMonth:
    unit: Unit
    expected: bool
    regular: PaymentRoster | None
    supplementary: list[PaymentRoster]
    released: Decimal

    @property
    def submitted(self) -> bool:
        return self.regular is not None and self.regular.state in (
            RosterState.SUBMITTED,
            RosterState.ACCEPTED,
        )


def month_overview(month: date) -> list[UnitMonth]:
    """Every approval unit's rosters for a month, for the county page (three queries)."""
    expected = set(units_expected(month).values_list("pk", flat=True))
    rosters = PaymentRoster.objects.filter(month=month).live().order_by("id")
    by_unit: dict[int, list[PaymentRoster]] = {}
    for roster in rosters:
        by_unit.setdefault(roster.unit_id, []).append(roster)
    released = dict(
        FundRelease.objects.filter(month=month)
        .values("unit_id")
        .annotate(s=Sum("amount"))
        .values_list("unit_id", "s")
    )
    result = []
    for unit in Unit.objects.approval_units().filter(is_active=True).order_by("code"):
        own = by_unit.get(unit.pk, [])
        result.append(
            UnitMonth(
                unit=unit,
                expected=unit.pk in expected,
                regular=next((r for r in own if r.kind == RosterKind.REGULAR), None),
                supplementary=[r for r in own if r.kind == RosterKind.SUPPLEMENTARY],
                released=released.get(unit.pk, ZERO),
            )
        )
    return result


def _bar(categories: list[str], series: dict[str, list]) -> dict[str, Any]:
    """A chart spec in the shape static/js/dashboard.js draws (the dashboard's own shape)."""
    return {
        "type": "bar",
        "categories": categories,
        "series": [{"name": n, "data": [float(v or 0) for v in d]} for n, d in series.items()],
        "stack": False,
    }


def county_month_charts(overview: list[UnitMonth], release_rows: list) -> dict[str, dict]:
    """A chart beside each table of the county month page: paid per unit, requested/released."""
    shown = [u for u in overview if u.regular is not None or u.supplementary]
    paid = [
        (u.regular.total_amount if u.regular else ZERO)
        + sum((s.total_amount for s in u.supplementary if s.state in SUBMITTED_STATES), ZERO)
        for u in shown
    ]
    by_unit: dict[str, list[Decimal]] = {}
    for row in release_rows:
        figures = by_unit.setdefault(row.unit.name, [ZERO, ZERO])
        figures[0] += row.requested
        figures[1] += row.released
    return {
        "rosters": _bar([u.unit.name for u in shown], {"清册金额（元）": paid}),
        "releases": _bar(
            list(by_unit),
            {
                "请款（元）": [v[0] for v in by_unit.values()],
                "已拨付（元）": [v[1] for v in by_unit.values()],
            },
        ),
    }


def roster_leaves(month: date):
    """The county's leaves to submit the month's rosters after the 25th."""
    from cases.models import RosterWindowLeave

    return RosterWindowLeave.objects.filter(month=month).select_related("unit", "granted_by")


def fund_requests(month: date) -> QuerySet[CountyFundRequest]:
    return CountyFundRequest.objects.filter(month=month).select_related("created_by")


def exports_of(user: User) -> QuerySet[ExportJob]:
    return ExportJob.objects.filter(requested_by=user)


def export_for_user(user: User, job_id: object, *, request: HttpRequest | None = None) -> ExportJob:
    """A user downloads only their own exports (they may hold whole account numbers)."""
    try:
        return exports_of(user).get(pk=int(job_id))
    except (ExportJob.DoesNotExist, TypeError, ValueError):
        raise not_found(request, user, "export", job_id) from None


def county_finance_home(user: User) -> dict[str, Any]:
    """The county finance officer's home block: next month's rosters, unit by unit."""
    from django.urls import reverse

    from .services import next_month

    month = next_month()
    overview = [u for u in month_overview(month) if u.expected or u.regular is not None]
    waiting = [u for u in overview if not u.submitted]
    url = reverse("disbursement:county_month", kwargs={"month": f"{month:%Y-%m}"})
    items = [
        {
            "url": reverse("disbursement:roster_detail", args=[u.regular.pk]) if u.regular else url,
            "label": u.unit.name,
            "note": u.regular.get_state_display() if u.regular else "未编制",
        }
        for u in waiting[:20]
    ]
    return {
        "title": f"{month:%Y年%m月}资金发放清册",
        "items": items,
        "count": len(waiting),
        "empty": "各单位清册均已报送，可生成请款汇总。" if overview else "本月暂无发放对象。",
        "links": [
            {"url": url, "label": "清册汇总与请款"},
            {
                "url": reverse("disbursement:plan", args=[month.year + 1]),
                "label": "年度资金需求计划",
            },
        ],
    }


def nav_items(user: User) -> list[dict[str, str]]:
    """Navigation entries of this app for the base layout."""
    from django.urls import reverse

    if is_county_finance(user):
        return [{"url": reverse("disbursement:roster_list"), "label": "资金发放"}]
    if user.is_authenticated and user.unit_id and user.has_role(*sorted(UNIT_ROLES)):
        return [{"url": reverse("disbursement:roster_list"), "label": "发放清册"}]
    return []


def rosters_awaiting(user: User, role: str) -> QuerySet[PaymentRoster]:
    """The unit's rosters whose next act is this role's: the handler prepares (signs first)
    and submits a fully signed one; then the direct-, then the first-responsible signs.
    One query, whatever the number of rosters."""
    if not user.unit_id:
        return PaymentRoster.objects.none()
    signed = RosterSignature.objects.filter(roster=OuterRef("pk"), round=OuterRef("round"))
    rosters = (
        rosters_visible_to(user)
        .filter(unit_id=user.unit_id)
        .annotate(
            has_prepare=Exists(signed.filter(step=SignatureStep.PREPARE)),
            has_direct=Exists(signed.filter(step=SignatureStep.DIRECT)),
            has_first=Exists(signed.filter(step=SignatureStep.FIRST)),
        )
        .order_by("month", "id")
    )
    prepared = Q(state=RosterState.PREPARED)
    if role == Role.HANDLER:
        return rosters.filter((prepared & Q(has_prepare=False)) | Q(state=RosterState.SIGNED))
    if role == Role.DIRECT_RESPONSIBLE:
        return rosters.filter(prepared, has_prepare=True, has_direct=False)
    if role == Role.FIRST_RESPONSIBLE:
        return rosters.filter(prepared, has_direct=True, has_first=False)
    return PaymentRoster.objects.none()
