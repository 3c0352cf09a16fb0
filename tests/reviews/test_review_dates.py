"""The next review date follows the county's rule: yearly when steady, half-yearly when volatile."""

from __future__ import annotations

from datetime import date

from cases.models import CountyRules, Kind
from disbursement.models import ReviewRule, ReviewSchedule
from disbursement.reviews.schedule import add_months_to_day, next_review_date
from disbursement.reviews.services import ensure_schedules

from .conftest import at

LAST = date(2026, 1, 10)


def test_tekun_households_are_reviewed_yearly_even_with_irregular_income(paid):
    case = paid(kind=Kind.TEKUN, members=1, volatile=True)
    assert next_review_date(case.entitlement, LAST) == date(2027, 1, 10)


def test_steady_dibao_households_are_reviewed_yearly(paid):
    case = paid()
    assert next_review_date(case.entitlement, LAST) == date(2027, 1, 10)
    assert next_review_date(case.household, LAST) == date(2027, 1, 10)


def test_households_with_a_member_able_to_work_and_irregular_income_every_six_months(paid):
    case = paid(volatile=True)
    assert next_review_date(case.entitlement, LAST) == date(2026, 7, 10)
    assert next_review_date(case.household, LAST) == date(2026, 7, 10)


def test_the_county_can_change_the_rule(paid):
    CountyRules.objects.create(
        effective_from=date(2025, 1, 1), review_months_volatile=3, review_months_stable=24
    )
    assert next_review_date(paid(volatile=True).entitlement, LAST) == date(2026, 4, 10)
    assert next_review_date(paid().entitlement, LAST) == date(2028, 1, 10)


def test_a_month_end_date_stays_in_its_month():
    assert add_months_to_day(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months_to_day(date(2027, 8, 31), 6) == date(2028, 2, 29)


def test_a_new_entitlement_is_scheduled_for_review_from_its_decision(paid):
    steady, volatile = paid(), paid(volatile=True)
    by_case = {s.entitlement.case_id: s for s in ReviewSchedule.objects.all()}
    assert by_case[steady.pk].rule == ReviewRule.STABLE
    assert by_case[steady.pk].last_review_on == date(2026, 1, 10)
    assert by_case[steady.pk].next_review_on == date(2027, 1, 10)
    assert by_case[volatile.pk].rule == ReviewRule.VOLATILE
    assert by_case[volatile.pk].next_review_on == date(2026, 7, 10)


def test_the_monthly_task_fills_missing_schedules_from_the_decision(paid):
    steady, volatile = paid(), paid(volatile=True)
    tekun = paid(kind=Kind.TEKUN, members=1, volatile=True, decided_on=date(2025, 8, 31))
    month_end = paid(volatile=True, decided_on=date(2025, 8, 31))
    ReviewSchedule.objects.all().delete()  # entitlements from before schedules existed
    with at(date(2026, 3, 1)):
        assert ensure_schedules() == 4
        assert ensure_schedules() == 0
    by_case = {s.entitlement.case_id: s for s in ReviewSchedule.objects.all()}
    assert by_case[steady.pk].rule == ReviewRule.STABLE
    assert by_case[steady.pk].next_review_on == date(2027, 1, 10)
    assert by_case[volatile.pk].rule == ReviewRule.VOLATILE
    assert by_case[volatile.pk].next_review_on == date(2026, 7, 10)
    assert by_case[tekun.pk].rule == ReviewRule.STABLE
    assert by_case[tekun.pk].next_review_on == date(2026, 8, 31)
    assert by_case[month_end.pk].last_review_on == date(2025, 8, 31)
    assert by_case[month_end.pk].next_review_on == date(2026, 2, 28)
