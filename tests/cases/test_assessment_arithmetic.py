"""The income calculation's arithmetic, with exact Decimal figures."""

from decimal import Decimal

import pytest

from cases.assessment import IncomeLine, calculate, care_tier_for, round_amount
from cases.models import CareTier, Kind, Rounding


def line(amount: str, months: int = 12, exempt: bool = False) -> IncomeLine:
    return IncomeLine(
        person="张明东",
        kind="wage",
        source="务工",
        monthly_amount=Decimal(amount),
        months=months,
        exempt=exempt,
        exempt_reason="奖励" if exempt else "",
    )


def test_dibao_amount_is_the_difference_rounded_up_to_the_yuan():
    result = calculate(
        kind=Kind.DIBAO,
        incomes=[line("1000.50")],
        household_size=3,
        period_months=12,
        standard_amount=Decimal("670"),
    )
    assert result.per_capita_income == Decimal("1000.50") / 3
    assert result.eligible
    assert result.exact_amount == Decimal("1009.50")
    assert result.amount == Decimal("1010.00")


def test_dibao_amount_is_never_computed_from_a_rounded_per_capita_figure():
    # 100/3 per head rounded to 33.33 would give 3 × (670 − 33.33) = 1910.01 → 1911;
    # exactly it is 2010 − 100 = 1910.
    result = calculate(
        kind=Kind.DIBAO,
        incomes=[line("100")],
        household_size=3,
        period_months=12,
        standard_amount=Decimal("670"),
    )
    assert result.exact_amount == Decimal("1910")
    assert result.amount == Decimal("1910.00")


def test_income_over_part_of_the_period_is_averaged_over_the_whole_period():
    result = calculate(
        kind=Kind.DIBAO,
        incomes=[line("1200", months=5)],
        household_size=2,
        period_months=12,
        standard_amount=Decimal("670"),
    )
    assert result.counted_monthly_income == Decimal("500")
    assert result.amount == Decimal("840.00")


def test_exempt_income_is_listed_but_not_counted():
    result = calculate(
        kind=Kind.DIBAO,
        incomes=[line("300"), line("200", exempt=True)],
        household_size=1,
        period_months=12,
        standard_amount=Decimal("670"),
    )
    assert result.counted_monthly_income == Decimal("300")
    assert result.amount == Decimal("370.00")
    working = result.working()
    assert [e["reason"] for e in working["exemptions"]] == ["奖励"]
    assert working["per_capita_income"] == "300.0000"


def test_per_capita_equal_to_the_standard_is_not_eligible():
    result = calculate(
        kind=Kind.DIBAO,
        incomes=[line("1340")],
        household_size=2,
        period_months=12,
        standard_amount=Decimal("670"),
    )
    assert not result.eligible
    assert result.amount == Decimal("0.00")


def test_marginal_is_eligible_below_one_and_a_half_times_the_standard_with_no_amount():
    below = calculate(
        kind=Kind.MARGINAL,
        incomes=[line("1004.99")],
        household_size=1,
        period_months=12,
        standard_amount=Decimal("670"),
    )
    at = calculate(
        kind=Kind.MARGINAL,
        incomes=[line("1005")],
        household_size=1,
        period_months=12,
        standard_amount=Decimal("670"),
    )
    assert below.eligible and below.amount == Decimal("0.00")
    assert not at.eligible


def test_tekun_amount_is_the_basic_standard_plus_the_care_standard():
    result = calculate(
        kind=Kind.TEKUN,
        incomes=[],
        household_size=1,
        period_months=12,
        standard_amount=Decimal("1020"),
        care_tier=CareTier.FULL,
        care_amount=Decimal("1266"),
    )
    assert result.eligible
    assert result.amount == Decimal("2286.00")


@pytest.mark.parametrize(
    ("unmet", "tier"),
    [
        (0, CareTier.SELF_CARE),
        (1, CareTier.PARTIAL),
        (3, CareTier.PARTIAL),
        (4, CareTier.FULL),
        (6, CareTier.FULL),
    ],
)
def test_care_tier_follows_the_six_daily_living_indicators(unmet, tier):
    assert care_tier_for(unmet) == tier


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [(Rounding.UP_YUAN, "1910.00"), (Rounding.HALF_UP_YUAN, "1909.00"), (Rounding.CENT, "1909.34")],
)
def test_rounding_follows_the_county_rule(rounding, expected):
    assert round_amount(Decimal("1909.3350"), rounding) == Decimal(expected)
