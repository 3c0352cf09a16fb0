"""Income assessment (收入核算) by DOMAIN.md "Income and amounts", in Decimal only.

Household monthly income = Σ (monthly amount × months the income ran within the assessment
period) ÷ period months, over active members, leaving out exempt income. Per-capita income is
shown for the record, but every comparison and the dibao amount use the unrounded household
figures: `standard × members − counted income` is computed in one division at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

from .models import CareTier, Kind, Rounding, StandardKind

ZERO = Decimal("0")
YUAN = Decimal("1")
CENT = Decimal("0.01")
DAILY_LIVING_INDICATORS = 6
# The six daily-living indicators of 民发〔2021〕43号, as the form's checkboxes show them.
DAILY_LIVING_CHOICES = (
    ("eating", "自主吃饭"),
    ("dressing", "自主穿衣"),
    ("bed", "自主上下床"),
    ("toilet", "自主如厕"),
    ("indoors", "室内自主行走"),
    ("bathing", "自主洗澡"),
)
DAILY_LIVING_LABELS = dict(DAILY_LIVING_CHOICES)

CARE_STANDARD_KIND = {
    CareTier.SELF_CARE: StandardKind.TEKUN_CARE_SELF,
    CareTier.PARTIAL: StandardKind.TEKUN_CARE_PARTIAL,
    CareTier.FULL: StandardKind.TEKUN_CARE_FULL,
}


def round_amount(value: Decimal, rounding: str) -> Decimal:
    """Round a monthly amount as the county sets (default: up to the whole yuan)."""
    if rounding == Rounding.UP_YUAN:
        return value.quantize(YUAN, rounding=ROUND_CEILING).quantize(CENT)
    if rounding == Rounding.HALF_UP_YUAN:
        return value.quantize(YUAN, rounding=ROUND_HALF_UP).quantize(CENT)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def care_tier_for(unmet_indicators: int) -> str:
    """Six daily-living indicators: all met → self-care; 1–3 not met → partial; 4+ → full care."""
    if not 0 <= unmet_indicators <= DAILY_LIVING_INDICATORS:
        raise ValueError("unmet_indicators must be between 0 and 6")
    if unmet_indicators == 0:
        return CareTier.SELF_CARE
    if unmet_indicators <= 3:
        return CareTier.PARTIAL
    return CareTier.FULL


def period_months(basis: date, months: int) -> list[tuple[int, int]]:
    """The `months` whole calendar months before the basis date's month, oldest first.

    Entries are (year, month − 1). Basis 2026-12-02 over 12 months: 2025-12 … 2026-11; the basis
    month itself never counts, however far into it the basis date falls.
    """
    index = basis.year * 12 + basis.month - 1
    return [divmod(i, 12) for i in range(index - months, index)]


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def months_covered(
    start: date | None,
    end: date | None,
    months: list[tuple[int, int]],
    *,
    months_received: int | None = None,
) -> int:
    """How many of the period's months an income covers whole (from the 1st to the month's end).

    An income from 2026-06-01 covers June whole; one from 2026-06-15 first covers July. An
    income ending 2026-03-31 (or 2024-02-29) covers its last month; one ending the 30th does not.
    No start means it ran before the period began; no end, that it still runs. Where the
    months actually received are known (seasonal work), no more than those are counted.
    """
    first = -(10**9) if start is None else _month_index(start) + (start.day != 1)
    if end is None:
        last = 10**9
    else:
        last = _month_index(end) - ((end + timedelta(days=1)).month == end.month)
    covered = sum(1 for year, month0 in months if first <= year * 12 + month0 <= last)
    if months_received is not None:
        covered = min(covered, months_received)
    return covered


def period_label(basis: date, months: int) -> str:
    """The period in words: 2025年12月至2026年11月."""
    span = period_months(basis, months)
    (y1, m1), (y2, m2) = span[0], span[-1]
    return f"{y1}年{m1 + 1}月至{y2}年{m2 + 1}月"


@dataclass
class IncomeLine:
    person: str
    kind: str
    source: str
    monthly_amount: Decimal
    months: int
    exempt: bool
    exempt_reason: str = ""
    kind_label: str = ""
    period_text: str = ""

    @property
    def total(self) -> Decimal:
        return self.monthly_amount * self.months


@dataclass
class Result:
    kind: str
    period_months: int
    household_size: int
    total_period_income: Decimal
    exempt_period_income: Decimal
    standard_amount: Decimal
    care_tier: str = ""
    care_amount: Decimal = ZERO
    rounding: str = Rounding.UP_YUAN
    marginal_multiplier: Decimal = Decimal("1.5")
    lines: list[IncomeLine] = field(default_factory=list)
    asset_total: Decimal = ZERO
    asset_limit_per_capita: Decimal | None = None
    period_text: str = ""
    period_reason: str = ""
    care_unmet_labels: list[str] = field(default_factory=list)

    @property
    def assets_within_limit(self) -> bool:
        if self.asset_limit_per_capita is None:
            return True
        return self.asset_total <= self.asset_limit_per_capita * self.household_size

    # Household monthly figures, unrounded.
    @property
    def counted_period_income(self) -> Decimal:
        return self.total_period_income - self.exempt_period_income

    @property
    def total_monthly_income(self) -> Decimal:
        return self.total_period_income / self.period_months

    @property
    def exempt_monthly_income(self) -> Decimal:
        return self.exempt_period_income / self.period_months

    @property
    def counted_monthly_income(self) -> Decimal:
        return self.counted_period_income / self.period_months

    @property
    def per_capita_income(self) -> Decimal:
        return self.counted_period_income / (self.period_months * self.household_size)

    def _below(self, monthly_standard: Decimal) -> bool:
        # per-capita < standard, compared without dividing: Σincome < standard × members × months
        return (
            self.counted_period_income < monthly_standard * self.household_size * self.period_months
        )

    @property
    def eligible(self) -> bool:
        if self.kind == Kind.MARGINAL:
            return self.assets_within_limit and self._below(
                self.marginal_multiplier * self.standard_amount
            )
        return self._below(self.standard_amount)

    @property
    def exact_amount(self) -> Decimal:
        if not self.eligible or self.kind == Kind.MARGINAL:
            return ZERO
        if self.kind == Kind.TEKUN:
            return self.standard_amount + self.care_amount
        # (standard − per-capita) × members == standard × members − household income, one division.
        numerator = self.standard_amount * self.household_size * self.period_months
        return (numerator - self.counted_period_income) / self.period_months

    @property
    def amount(self) -> Decimal:
        return (
            round_amount(self.exact_amount, self.rounding)
            if self.exact_amount
            else ZERO.quantize(CENT)
        )

    def working(self) -> dict[str, Any]:
        """The calculation as shown to the clerk and the signers, every figure as a string."""
        money = lambda v: str(v.quantize(CENT, rounding=ROUND_HALF_UP))  # noqa: E731
        notes = []
        if self.kind == Kind.MARGINAL and self._below(self.standard_amount):
            notes.append("月人均收入低于低保标准，可按城乡低保申请。")
        if self.kind == Kind.MARGINAL and not self.assets_within_limit:
            notes.append(
                f"家庭财产{money(self.asset_total)}元，超过县定上限"
                f"（人均{money(self.asset_limit_per_capita)}元 × {self.household_size}人）。"
            )
        return {
            "kind": self.kind,
            "period_months": self.period_months,
            "period": self.period_text,
            "period_reason": self.period_reason,
            "care_unmet": self.care_unmet_labels,
            "household_size": self.household_size,
            "incomes": [
                {
                    "person": line.person,
                    "kind": line.kind_label or line.kind,
                    "kind_code": line.kind,
                    "period": line.period_text,
                    "source": line.source,
                    "monthly_amount": str(line.monthly_amount),
                    "months": line.months,
                    "total": str(line.total),
                    "counted": str(ZERO if line.exempt else line.total),
                    "exempt": line.exempt,
                    "exempt_reason": line.exempt_reason,
                }
                for line in self.lines
            ],
            "exemptions": [
                {
                    "person": line.person,
                    "source": line.source,
                    "reason": line.exempt_reason,
                    "total": str(line.total),
                }
                for line in self.lines
                if line.exempt
            ],
            "total_period_income": str(self.total_period_income),
            "exempt_period_income": str(self.exempt_period_income),
            "counted_monthly_income": money(self.counted_monthly_income),
            "per_capita_income": str(self.per_capita_income.quantize(Decimal("0.0001"))),
            "standard": str(self.standard_amount),
            "threshold": str(
                self.marginal_multiplier * self.standard_amount
                if self.kind == Kind.MARGINAL
                else self.standard_amount
            ),
            "marginal_multiplier": str(self.marginal_multiplier)
            if self.kind == Kind.MARGINAL
            else "",
            "care_tier": self.care_tier,
            "care_amount": str(self.care_amount),
            "rounding": Rounding(self.rounding).label,
            "rounding_code": self.rounding,
            "kind_label": Kind(self.kind).label,
            "care_tier_label": CareTier(self.care_tier).label if self.care_tier else "",
            "asset_total": money(self.asset_total),
            "asset_limit_per_capita": money(self.asset_limit_per_capita)
            if self.asset_limit_per_capita is not None
            else "",
            "exact_amount": str(self.exact_amount),
            "eligible": self.eligible,
            "amount": str(self.amount),
            "notes": notes,
        }


def calculate(
    *,
    kind: str,
    incomes: list[IncomeLine],
    household_size: int,
    period_months: int,
    standard_amount: Decimal,
    rounding: str = Rounding.UP_YUAN,
    marginal_multiplier: Decimal = Decimal("1.5"),
    care_tier: str = "",
    care_amount: Decimal = ZERO,
    asset_total: Decimal = ZERO,
    asset_limit_per_capita: Decimal | None = None,
) -> Result:
    """Pure arithmetic over given lines; the service gathers them from the database."""
    if household_size < 1:
        raise ValueError("household_size must be at least 1")
    total = sum((line.total for line in incomes), ZERO)
    exempt = sum((line.total for line in incomes if line.exempt), ZERO)
    return Result(
        kind=kind,
        period_months=period_months,
        household_size=household_size,
        total_period_income=total,
        exempt_period_income=exempt,
        standard_amount=standard_amount,
        care_tier=care_tier,
        care_amount=care_amount,
        rounding=rounding,
        marginal_multiplier=marginal_multiplier,
        lines=incomes,
        asset_total=asset_total,
        asset_limit_per_capita=asset_limit_per_capita,
    )


class MissingStandard(LookupError):
    """No policy standard is in force for a kind, area and day."""


PERIOD_CHOICES = (6, 12)


def gather(
    *,
    case,
    basis: date,
    rules,
    care_unmet: int | None = None,
    period: int | None = None,
    period_reason: str = "",
    care_unmet_indicators: list[str] | None = None,
):
    """Read a case's current facts and the standards in force and calculate; returns (result, standard).

    `period` is the clerk's choice of months where it differs from the county's setting (with
    `period_reason`); incomes of the kinds the county disregards are listed but not counted.
    """
    from .facts.selectors import current_facts
    from .models import AssetKind, IncomeKind, PolicyStandard

    facts = current_facts(case, on=basis)
    members = facts.members
    if case.kind == Kind.TEKUN:
        # Tekun supports one person: the applicant, on their own income.
        members = [person for person in members if person.pk == case.applicant_id]
    months_count = period or rules.assessment_months
    months = period_months(basis, months_count)
    disregarded = set(rules.disregarded_income_kinds or [])
    lines = []
    for person in members:
        for income in facts.incomes_of(person):
            covered = months_covered(
                income.period_start,
                income.period_end,
                months,
                months_received=income.months_received,
            )
            by_county = income.kind in disregarded
            lines.append(
                IncomeLine(
                    person=person.name,
                    kind=income.kind,
                    kind_label=IncomeKind(income.kind).label,
                    source=income.source,
                    monthly_amount=income.monthly_amount,
                    months=covered,
                    exempt=income.exempt or by_county,
                    exempt_reason=income.exempt_reason
                    or ("县定不计入家庭收入的收入类型" if by_county else ""),
                    period_text=_income_period_text(income),
                )
            )
    base_kind = StandardKind.TEKUN_BASIC if case.kind == Kind.TEKUN else StandardKind.DIBAO
    standard = PolicyStandard.objects.in_force(base_kind, case.area, basis)
    if standard is None:
        raise MissingStandard(base_kind)
    care_tier, care_amount = "", ZERO
    if case.kind == Kind.TEKUN:
        if care_unmet_indicators is not None:
            care_unmet = len(care_unmet_indicators)
        care_tier = care_tier_for(care_unmet or 0)
        care = PolicyStandard.objects.in_force(CARE_STANDARD_KIND[care_tier], case.area, basis)
        if care is None:
            raise MissingStandard(CARE_STANDARD_KIND[care_tier])
        care_amount = care.amount
    assets = sum((asset.value for asset in facts.assets if asset.kind != AssetKind.HOUSING), ZERO)
    result = calculate(
        kind=case.kind,
        incomes=lines,
        household_size=max(len(members), 1),
        period_months=months_count,
        standard_amount=standard.amount,
        rounding=rules.rounding,
        marginal_multiplier=rules.marginal_multiplier,
        care_tier=care_tier,
        care_amount=care_amount,
        asset_total=assets,
        asset_limit_per_capita=rules.marginal_asset_limit,
    )
    result.period_text = period_label(basis, months_count)
    result.period_reason = period_reason
    result.care_unmet_labels = [
        DAILY_LIVING_LABELS.get(code, code) for code in care_unmet_indicators or []
    ]
    return result, standard


def _income_period_text(income) -> str:
    start = f"{income.period_start:%Y-%m-%d}" if income.period_start else "核算期前"
    end = f"{income.period_end:%Y-%m-%d}" if income.period_end else "今"
    text = f"{start}至{end}"
    if income.months_received is not None:
        text += f"，实际领取{income.months_received}个月"
    return text


def calculation_sheet(record) -> dict[str, Any]:
    """A stored assessment as the calculation sheet shows it: every figure, in Chinese words.

    Reads the stored working; records made before the labels were stored fall back to the
    choice labels, so no code ever reaches the page.
    """
    from .models import IncomeKind

    working = record.working or {}
    kinds = dict(IncomeKind.choices)
    money = lambda v: Decimal(str(v)).quantize(CENT, rounding=ROUND_HALF_UP)  # noqa: E731
    lines = []
    for line in working.get("incomes", []):
        total = money(line.get("total", "0"))
        exempt = bool(line.get("exempt"))
        lines.append(
            {
                "person": line.get("person", ""),
                "kind": kinds.get(line.get("kind_code") or line.get("kind"), line.get("kind", "")),
                "source": line.get("source", ""),
                "period": line.get("period", ""),
                "monthly_amount": money(line.get("monthly_amount", "0")),
                "months": line.get("months", 0),
                "total": total,
                "counted": ZERO.quantize(CENT) if exempt else total,
                "exempt": exempt,
                "exempt_reason": line.get("exempt_reason", ""),
            }
        )
    total_period = money(working.get("total_period_income", "0"))
    exempt_period = money(working.get("exempt_period_income", "0"))
    rounding = working.get("rounding_code") or working.get("rounding") or Rounding.UP_YUAN
    rounding_label = dict(Rounding.choices).get(rounding, working.get("rounding", ""))
    return {
        "kind": record.case.kind,
        "kind_label": Kind(record.case.kind).label,
        "basis_date": record.basis_date,
        "period_months": record.period_months,
        "period": working.get("period") or period_label(record.basis_date, record.period_months),
        "period_reason": working.get("period_reason", ""),
        "lines": lines,
        "total_period_income": total_period,
        "exempt_period_income": exempt_period,
        "counted_period_income": total_period - exempt_period,
        "household_size": record.household_size,
        "counted_monthly_income": record.counted_monthly_income,
        "per_capita_income": record.per_capita_income.quantize(CENT, rounding=ROUND_HALF_UP),
        "standard": record.standard_amount,
        "standard_total": record.standard_amount * record.household_size,
        "marginal_threshold": working.get("threshold")
        if working.get("marginal_multiplier")
        else "",
        "marginal_multiplier": working.get("marginal_multiplier", ""),
        "asset_total": working.get("asset_total", ""),
        "asset_limit_per_capita": working.get("asset_limit_per_capita", ""),
        "care_tier": CareTier(record.care_tier).label if record.care_tier else "",
        "care_amount": record.care_amount,
        "care_unmet": working.get("care_unmet", []),
        "exact_amount": money(working.get("exact_amount", "0")),
        "rounding": rounding_label,
        "eligible": record.eligible,
        "amount": record.amount,
        "notes": working.get("notes", []),
    }
