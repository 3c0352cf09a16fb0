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
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from accounts.models import Role, User
from cases.models import Area, PolicyStandard, StandardKind
from dengkou_aid.errors import Conflict, DomainError, NotAllowed

from .in_force import in_force_queryset
from .models import (
    Category,
    ChangeKind,
    EntitlementChange,
    FundDemandPlan,
    FundDemandPlanSignature,
    FundDemandPlanSubmission,
    PlanStep,
)
from .services import ZERO, _require_county, add_months, next_month

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
    _require_open(year)
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
    _require_open(line.year)
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


# --- Sign-off, submission and the PDF ------------------------------------------------------------

STEP_ROLES = {PlanStep.PREPARE: Role.COUNTY_FINANCE, PlanStep.APPROVE: Role.COUNTY_SUPERVISOR}


def plan_lines(year: int) -> list[FundDemandPlan]:
    return list(
        FundDemandPlan.objects.filter(year=year)
        .select_related("unit")
        .order_by("unit__code", "category")
    )


def plan_content(year: int) -> dict[str, Any]:
    """What a sign-off covers: every line's unit, category and final amount, and the total."""
    lines = plan_lines(year)
    return {
        "year": year,
        "lines": [[line.unit.code, line.category, str(line.final_amount)] for line in lines],
        "total": str(sum((line.final_amount for line in lines), ZERO)),
    }


def submission_of(year: int) -> FundDemandPlanSubmission | None:
    return FundDemandPlanSubmission.objects.filter(year=year).first()


def valid_plan_signatures(year: int) -> dict[str, FundDemandPlanSignature]:
    """Per step, the latest sign-off over the plan as it stands now (older ones have lapsed)."""
    digest = FundDemandPlanSignature.digest(plan_content(year))
    signatures = FundDemandPlanSignature.objects.filter(year=year, content_hash=digest)
    return {s.step: s for s in signatures.order_by("signed_at", "id")}


def plan_state(year: int) -> str:
    if submission_of(year) is not None:
        return "已报送"
    signed = valid_plan_signatures(year)
    if PlanStep.APPROVE in signed:
        return "已审核，待报送"
    if PlanStep.PREPARE in signed:
        return "已编制签字，待审核"
    return "编制中" if FundDemandPlan.objects.filter(year=year).exists() else "尚未测算"


def _require_open(year: int) -> None:
    if submission_of(year) is not None:
        raise Conflict(f"{year}年资金需求计划已报送，不能再修改。", field="year")


@transaction.atomic
def sign_plan(*, year: int, actor: User) -> FundDemandPlanSignature:
    """The finance officer signs the plan as prepared, then a county supervisor as approved."""
    _require_county(actor)
    # One sign-off at a time per year: lock the year's lines.
    list(FundDemandPlan.objects.select_for_update().filter(year=year))
    _require_open(year)
    content = plan_content(year)
    if not content["lines"]:
        raise DomainError("请先测算资金需求计划。", field="year")
    signed = valid_plan_signatures(year)
    step = PlanStep.PREPARE if PlanStep.PREPARE not in signed else PlanStep.APPROVE
    if step in signed:
        raise Conflict("该计划已完成签字，请报送。", field="year")
    if not actor.has_role(STEP_ROLES[step]):
        raise NotAllowed(f"当前应由{Role(STEP_ROLES[step]).label}签字（{PlanStep(step).label}）。")
    return FundDemandPlanSignature.create_signed(
        signer=actor,
        role=STEP_ROLES[step],
        over=content,
        year=year,
        step=step,
        total=Decimal(content["total"]),
        content=content,
    )


@transaction.atomic
def submit_plan(*, year: int, actor: User) -> FundDemandPlanSubmission:
    """Submit the plan once both have signed it as it stands; it is frozen from then on."""
    _require_county(actor)
    list(FundDemandPlan.objects.select_for_update().filter(year=year))
    _require_open(year)
    signed = valid_plan_signatures(year)
    missing = [PlanStep(step).label for step in PlanStep if step not in signed]
    if missing:
        raise DomainError("报送前须完成签字：" + "、".join(missing) + "。", field="year")
    content = plan_content(year)
    try:
        with transaction.atomic():
            return FundDemandPlanSubmission.objects.create(
                year=year, total=Decimal(content["total"]), content=content, submitted_by=actor
            )
    except IntegrityError:
        raise Conflict(f"{year}年资金需求计划已报送。", field="year") from None


def plan_pdf(year: int) -> bytes:
    """The plan with its lines, total, sign-off boxes (filled once signed) and its state."""
    from dengkou_aid.lib.pdf import render_pdf

    lines = plan_lines(year)
    return render_pdf(
        "disbursement/pdf/fund_demand_plan.html",
        {
            "title": f"磴口县{year}年城乡低保、特困供养资金需求计划",
            "header": "磴口县民政局",
            "year": year,
            "lines": lines,
            "total": sum((line.final_amount for line in lines), ZERO),
            "signatures": valid_plan_signatures(year),
            "submission": submission_of(year),
            "state": plan_state(year),
        },
    )


__all__ = [
    "Area",
    "adjust_plan_line",
    "compute_fund_demand_plan",
    "plan_pdf",
    "sign_plan",
    "submit_plan",
]
