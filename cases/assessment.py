"""Income assessment (收入核算) by DOMAIN.md "Income and amounts", in Decimal only.

Household monthly income = Σ (monthly amount × months the income ran within the assessment
period) ÷ period months, over active members, leaving out exempt income. Per-capita income is
shown for the record, but every comparison and the dibao amount use the unrounded household
figures: `standard × members − counted income` is computed in one division at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

from .models import CareTier, Kind, Rounding, StandardKind

ZERO = Decimal("0")
YUAN = Decimal("1")
CENT = Decimal("0.01")
DAILY_LIVING_INDICATORS = 6  # eating, dressing, getting up, toileting, moving indoors, bathing

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
    """The `months` calendar months ending with the basis date's month, oldest first."""
    index = basis.year * 12 + basis.month - 1
    return [divmod(i, 12) for i in range(index - months + 1, index + 1)]


def months_covered(start: date, end: date | None, months: list[tuple[int, int]]) -> int:
    """How many of the period's months an income ran in (any day of the month counts)."""
    first = start.year * 12 + start.month - 1
    last = end.year * 12 + end.month - 1 if end else 10**9
    return sum(1 for year, month0 in months if first <= year * 12 + month0 <= last)


@dataclass
class IncomeLine:
    person: str
    kind: str
    source: str
    monthly_amount: Decimal
    months: int
    exempt: bool
    exempt_reason: str = ""

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
            return self._below(self.marginal_multiplier * self.standard_amount)
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
        return {
            "kind": self.kind,
            "period_months": self.period_months,
            "household_size": self.household_size,
            "incomes": [
                {
                    "person": line.person,
                    "kind": line.kind,
                    "source": line.source,
                    "monthly_amount": str(line.monthly_amount),
                    "months": line.months,
                    "total": str(line.total),
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
            "rounding": self.rounding,
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
    )


class MissingStandard(LookupError):
    """No policy standard is in force for a kind, area and day."""


def gather(*, case, basis: date, rules, care_unmet: int | None = None):
    """Read a case's members, incomes and standards in force and calculate; returns (result, standard)."""
    from .models import Person, PolicyStandard

    members = [
        person
        for person in Person.objects.filter(household_id=case.household_id).prefetch_related(
            "incomes"
        )
        if person.left_on is None or person.left_on > basis
    ]
    if case.kind == Kind.TEKUN:
        # Tekun supports one person: the applicant, on their own income.
        members = [person for person in members if person.pk == case.applicant_id]
    months = period_months(basis, rules.assessment_months)
    lines = []
    for person in members:
        for income in person.incomes.all():
            covered = months_covered(income.period_start, income.period_end, months)
            if covered:
                lines.append(
                    IncomeLine(
                        person=person.name,
                        kind=income.kind,
                        source=income.source,
                        monthly_amount=income.monthly_amount,
                        months=covered,
                        exempt=income.exempt,
                        exempt_reason=income.exempt_reason,
                    )
                )
    base_kind = StandardKind.TEKUN_BASIC if case.kind == Kind.TEKUN else StandardKind.DIBAO
    standard = PolicyStandard.objects.in_force(base_kind, case.area, basis)
    if standard is None:
        raise MissingStandard(base_kind)
    care_tier, care_amount = "", ZERO
    if case.kind == Kind.TEKUN:
        care_tier = care_tier_for(care_unmet or 0)
        care = PolicyStandard.objects.in_force(CARE_STANDARD_KIND[care_tier], case.area, basis)
        if care is None:
            raise MissingStandard(CARE_STANDARD_KIND[care_tier])
        care_amount = care.amount
    result = calculate(
        kind=case.kind,
        incomes=lines,
        household_size=max(len(members), 1),
        period_months=rules.assessment_months,
        standard_amount=standard.amount,
        rounding=rules.rounding,
        marginal_multiplier=rules.marginal_multiplier,
        care_tier=care_tier,
        care_amount=care_amount,
    )
    return result, standard
