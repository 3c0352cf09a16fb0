"""The assessment period: the N whole calendar months before the basis date's month, and an
income counted only for the whole months of the period it covers."""

from datetime import date
from decimal import Decimal

import pytest

from cases.assessment import (
    IncomeLine,
    calculate,
    months_covered,
    period_label,
    period_months,
)
from cases.models import Kind


def months(basis: date, n: int = 12) -> list[tuple[int, int]]:
    return period_months(basis, n)


def as_text(span: list[tuple[int, int]]) -> list[str]:
    return [f"{year}-{month0 + 1:02d}" for year, month0 in span]


def test_the_period_is_the_twelve_months_before_the_basis_month_never_the_basis_month():
    assert as_text(months(date(2026, 12, 2))) == [
        "2025-12",
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-04",
        "2026-05",
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
    ]
    assert period_label(date(2026, 12, 2), 12) == "2025年12月至2026年11月"


def test_a_six_month_period_ends_with_the_month_before_the_basis_month():
    assert as_text(months(date(2026, 12, 2), 6)) == [
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
    ]


@pytest.mark.parametrize(
    ("basis", "first", "last"),
    [
        (date(2026, 12, 1), "2025-12", "2026-11"),  # first day of the month
        (date(2026, 12, 31), "2025-12", "2026-11"),  # last day: December still does not count
        (date(2026, 1, 15), "2025-01", "2025-12"),  # across the new year
        (date(2024, 2, 29), "2023-02", "2024-01"),  # leap day as basis date
        (date(2024, 3, 1), "2023-03", "2024-02"),  # the day after the leap day
    ],
)
def test_the_period_at_month_ends_and_leap_days(basis, first, last):
    span = as_text(months(basis))
    assert (span[0], span[-1], len(span)) == (first, last, 12)


def test_the_issues_example_an_income_from_june_first_counts_six_months_not_seven():
    # Basis 2026-12-02, 12 months: Dec 2025 … Nov 2026. From 2026-06-01 the income covers
    # June, July, August, September, October, November whole: 6 months. December 2026 has run
    # two days and is not in the period at all.
    assert months_covered(date(2026, 6, 1), None, months(date(2026, 12, 2))) == 6


def test_the_issues_example_by_hand_gives_two_thousand_and_twenty_yuan():
    # Three members, urban standard 840 元, one wage of 1,000 元/month from 2026-06-01.
    # Counted: 1,000 × 6 = 6,000 over 12 months = 500 元/month for the household.
    # Dibao = 840 × 3 − 500 = 2,520 − 500 = 2,020 元 (whole yuan already; the old rule counted
    # 7 months: 2,520 − 583.33 = 1,936.67 → 1,937 元).
    covered = months_covered(date(2026, 6, 1), None, months(date(2026, 12, 2)))
    line = IncomeLine(
        person="王丽",
        kind="wage",
        source="务工",
        monthly_amount=Decimal("1000"),
        months=covered,
        exempt=False,
    )
    result = calculate(
        kind=Kind.DIBAO,
        incomes=[line],
        household_size=3,
        period_months=12,
        standard_amount=Decimal("840"),
    )
    assert result.counted_monthly_income == Decimal("500")
    assert result.amount == Decimal("2020.00")


def test_an_income_starting_mid_month_first_counts_the_next_month():
    span = months(date(2026, 12, 2))
    assert months_covered(date(2026, 6, 2), None, span) == 5
    assert months_covered(date(2026, 6, 30), None, span) == 5


def test_an_income_ending_mid_month_does_not_count_its_last_month():
    span = months(date(2026, 12, 2))
    assert months_covered(None, date(2026, 3, 31), span) == 4  # Dec, Jan, Feb, Mar
    assert months_covered(None, date(2026, 3, 30), span) == 3  # Dec, Jan, Feb
    assert months_covered(None, date(2026, 4, 1), span) == 4


def test_an_income_ending_on_february_the_last_day_counts_february_in_leap_and_common_years():
    leap = months(date(2024, 12, 5))  # Dec 2023 … Nov 2024
    common = months(date(2026, 12, 5))  # Dec 2025 … Nov 2026
    assert months_covered(None, date(2024, 2, 29), leap) == 3  # Dec, Jan, Feb
    assert months_covered(None, date(2024, 2, 28), leap) == 2  # 29 February was not covered
    assert months_covered(None, date(2026, 2, 28), common) == 3


def test_an_income_starting_on_the_leap_day_first_counts_march():
    span = months(date(2024, 12, 5))
    assert months_covered(date(2024, 2, 29), None, span) == 9  # March … November


def test_an_income_within_one_month_counts_nothing_unless_it_covers_it_whole():
    span = months(date(2026, 12, 2))
    assert months_covered(date(2026, 5, 3), date(2026, 5, 28), span) == 0
    assert months_covered(date(2026, 5, 1), date(2026, 5, 31), span) == 1


def test_an_income_before_or_after_the_period_counts_nothing():
    span = months(date(2026, 12, 2))
    assert months_covered(date(2020, 1, 1), date(2025, 11, 30), span) == 0
    assert months_covered(date(2026, 12, 1), None, span) == 0


def test_an_income_without_dates_counts_the_whole_period_of_either_length():
    assert months_covered(None, None, months(date(2026, 12, 2), 12)) == 12
    assert months_covered(None, None, months(date(2026, 12, 2), 6)) == 6


def test_the_same_income_counts_fewer_months_over_the_six_month_period():
    # From 2026-03-01: 9 months of the 12-month period, all 6 of the 6-month one.
    assert months_covered(date(2026, 3, 1), None, months(date(2026, 12, 2), 12)) == 9
    assert months_covered(date(2026, 3, 1), None, months(date(2026, 12, 2), 6)) == 6
    assert months_covered(date(2026, 9, 1), None, months(date(2026, 12, 2), 6)) == 3


def test_months_actually_received_cap_the_months_counted():
    span = months(date(2026, 12, 2))
    assert months_covered(None, None, span, months_received=4) == 4
    assert months_covered(date(2026, 10, 1), None, span, months_received=4) == 2
