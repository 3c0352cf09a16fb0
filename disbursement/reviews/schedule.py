"""When an entitlement's next periodic review falls due: the county's rule and the date.

Below both `disbursement.services` (which schedules the first review when an entitlement is
created) and `reviews.services` (which opens and decides the reviews), so neither imports the
other back.
"""

from __future__ import annotations

from datetime import date

from cases.models import CountyRules, Household, Kind, Person, WorkAbility
from disbursement.models import Entitlement, ReviewRule, ReviewSchedule


def add_months_to_day(day: date, months: int) -> date:
    """The same day `months` later, the last day of the month where that day does not exist."""
    year, index = divmod(day.month - 1 + months, 12)
    year += day.year
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, index + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def review_rule_for(household_or_entitlement: Household | Entitlement) -> str:
    """Tekun and steady households: stable; a member able to work with irregular income: volatile."""
    if isinstance(household_or_entitlement, Entitlement):
        if household_or_entitlement.kind == Kind.TEKUN:
            return ReviewRule.STABLE
        household_id = household_or_entitlement.household_id
    else:
        household_id = household_or_entitlement.pk
        kinds = set(
            Entitlement.objects.filter(household_id=household_id).values_list("kind", flat=True)
        )
        if kinds == {Kind.TEKUN}:
            return ReviewRule.STABLE
    volatile = Person.objects.filter(
        household_id=household_id,
        left_on__isnull=True,
        work_ability=WorkAbility.ABLE,
        income_irregular=True,
    ).exists()
    return ReviewRule.VOLATILE if volatile else ReviewRule.STABLE


def months_for(rule: str, rules: CountyRules) -> int:
    if rule == ReviewRule.VOLATILE:
        return rules.review_months_volatile
    return rules.review_months_stable


def next_review_date(
    household_or_entitlement: Household | Entitlement, last_review: date, *, rules=None
) -> date:
    """The next periodic review after `last_review`, by the county's rule in force today."""
    rules = rules or CountyRules.in_force()
    return add_months_to_day(
        last_review, months_for(review_rule_for(household_or_entitlement), rules)
    )


def schedule_review(*, entitlement: Entitlement, last_review: date) -> ReviewSchedule:
    """Set (or move) an entitlement's next review date from its last review or decision."""
    rule = review_rule_for(entitlement)
    schedule, _ = ReviewSchedule.objects.update_or_create(
        entitlement=entitlement,
        defaults={
            "household_id": entitlement.household_id,
            "rule": rule,
            "last_review_on": last_review,
            "next_review_on": add_months_to_day(
                last_review, months_for(rule, CountyRules.in_force())
            ),
        },
    )
    return schedule
