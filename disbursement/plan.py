"""The yearly fund demand plan (资金年度需求计划, 五(二)1(2)).

Per unit and category: the entitlements in force now, carried through next year with the
last 12 months' average of new and stopped entitlements, and scaled month by month by the
standard changes already decided (PolicyStandard rows with a future effective_from).
The county may then adjust each line and export the plan.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from accounts.models import User
from cases.models import Area, PolicyStandard, StandardKind
from dengkou_aid.errors import DomainError

from .models import Category, ChangeKind, EntitlementChange, FundDemandPlan
from .services import ZERO, _require_county, add_months, in_force_queryset, next_month

# The standard a category's amounts follow.
STANDARD_OF = {
    Category.DIBAO_URBAN: StandardKind.DIBAO,
    Category.DIBAO_RURAL: StandardKind.DIBAO,
    Category.TEKUN_SELF_CARE: StandardKind.TEKUN_BASIC,
    Category.TEKUN_PARTIAL: StandardKind.TEKUN_BASIC,
    Category.TEKUN_FULL: StandardKind.TEKUN_BASIC,
}


def months_between(a: date, b: date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def standard_factor(category: str, area: str, base: date, month: date) -> Decimal:
    """How much the category's standard in force in `month` exceeds the one in force at `base`."""
    kind = STANDARD_OF.get(category)
    if kind is None:
        return Decimal(1)
    now = PolicyStandard.objects.in_force(kind, area, base)
    then = PolicyStandard.objects.in_force(kind, area, month)
    if now is None or then is None or not now.amount:
        return Decimal(1)
    return then.amount / now.amount


@transaction.atomic
def compute_fund_demand_plan(*, year: int, actor: User) -> list[FundDemandPlan]:
    """Project next year's need per unit and category; the county's adjustments are kept."""
    _require_county(actor)
    base = next_month(timezone.localdate())
    if date(year, 12, 1) < base:
        raise DomainError("只能编制当年或以后年度的需求计划。", field="year")
    current = (
        in_force_queryset(base)
        .values("unit_id", "category", "area")
        .annotate(n=Count("id"), s=Sum("amount_due"))
    )
    trend = _trend(base)
    groups: dict[tuple[int, str], dict] = defaultdict(
        lambda: {
            "n": 0,
            "s": ZERO,
            "new": Decimal(0),
            "stop": Decimal(0),
            "projected": ZERO,
            "f": [],
        }
    )
    for row in current:
        key = (row["unit_id"], row["category"])
        n, s = row["n"], row["s"] or ZERO
        new, stop = trend.get((row["unit_id"], row["category"], row["area"]), (0, 0))
        avg = s / n if n else ZERO
        group = groups[key]
        group["n"] += n
        group["s"] += s
        group["new"] += Decimal(new) / 12
        group["stop"] += Decimal(stop) / 12
        for m in range(1, 13):
            month = date(year, m, 1)
            ahead = max(0, months_between(base, month))
            count = max(Decimal(0), n + (Decimal(new) - Decimal(stop)) / 12 * ahead)
            factor = standard_factor(row["category"], row["area"], base, month)
            group["f"].append(factor)
            group["projected"] += count * avg * factor
    lines = []
    for (unit_id, category), g in sorted(groups.items()):
        line, _ = FundDemandPlan.objects.update_or_create(
            year=year,
            unit_id=unit_id,
            category=category,
            defaults={
                "current_count": g["n"],
                "current_monthly": g["s"],
                "new_per_month": _q(g["new"]),
                "stopped_per_month": _q(g["stop"]),
                "standard_factor": (sum(g["f"]) / len(g["f"])).quantize(Decimal("0.0001")),
                "projected_amount": _q(g["projected"]),
                "computed_at": timezone.now(),
            },
        )
        lines.append(line)
    return lines


def _trend(base: date) -> dict[tuple[int, str, str], tuple[int, int]]:
    """New starts and stops over the 12 months before `base`, per unit, category and area."""
    rows = (
        EntitlementChange.objects.filter(
            kind__in=(ChangeKind.START, ChangeKind.STOP),
            effective_month__gte=add_months(base, -12),
            effective_month__lt=base,
        )
        .values("entitlement__unit_id", "entitlement__category", "entitlement__area", "kind")
        .annotate(n=Count("id"))
    )
    result: dict[tuple[int, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        key = (row["entitlement__unit_id"], row["entitlement__category"], row["entitlement__area"])
        result[key][0 if row["kind"] == ChangeKind.START else 1] += row["n"]
    return {k: (v[0], v[1]) for k, v in result.items()}


def _q(value: Decimal) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@transaction.atomic
def adjust_plan_line(
    *, line: FundDemandPlan, adjusted_amount: Decimal, note: str, actor: User
) -> FundDemandPlan:
    """The county sets its own figure for a line, with a note saying why."""
    _require_county(actor)
    amount = Decimal(adjusted_amount)
    if amount < 0:
        raise DomainError("调整后金额不能为负数。", field="adjusted_amount")
    if not (note or "").strip():
        raise DomainError("请填写调整说明。", field="adjustment_note")
    line.adjusted_amount = _q(amount)
    line.adjustment_note = note.strip()
    line.adjusted_by = actor
    line.save(update_fields=["adjusted_amount", "adjustment_note", "adjusted_by"])
    return line


__all__ = ["Area", "adjust_plan_line", "compute_fund_demand_plan"]
