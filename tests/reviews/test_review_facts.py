"""A review's home visit records the household as found, and the recalculation reads that.

Rural dibao standard (demo) 670 元; assessment period 12 months; amounts rounded up to the
whole yuan. Each amount below is computed by hand beside the assertion.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cases.facts.selectors import current_facts as case_facts
from cases.facts.selectors import fact_history
from cases.models import CountyRules, DocType, FactChange, FactChannel, Person
from dengkou_aid.errors import DomainError
from disbursement.models import ReviewOutcome, ReviewState, ReviewTrigger
from disbursement.reviews import facts as review_facts
from disbursement.reviews import services as reviews
from disbursement.services import amount_in_force, generate_roster

from ..conftest import signing_otp
from .conftest import at

NOV, DEC = date(2026, 11, 1), date(2026, 12, 1)
VISITORS = [{"name": "李经办"}, {"name": "周协理"}]
DAY = date(2026, 11, 18)


def members_of(case, *, leaving: int = 0) -> list[dict]:
    """The household's members as form rows; the last `leaving` have moved out."""
    people = list(Person.objects.filter(household_id=case.household_id).order_by("id"))
    kept = people[: len(people) - leaving] if leaving else people
    return [
        {"name": p.name, "relation": p.relation, "work_ability": p.work_ability, "person": p.pk}
        for p in kept
    ]


def wage(case, amount: str, **more) -> dict:
    head = Person.objects.filter(household_id=case.household_id).order_by("id").first()
    return {"member": head.name, "kind": "wage", "source": "务工", "monthly_amount": amount, **more}


def visited(case, people, *, incomes=(), leaving: int = 0, assets=(), day=DAY):
    with at(day):
        review = reviews.open_review(
            entitlement=case.entitlement, trigger=ReviewTrigger.MANUAL, actor=people.handler
        )
        found = review_facts.facts_from_rows(
            members=members_of(case, leaving=leaving),
            incomes=list(incomes),
            assets=list(assets),
            period_months=12,
        )
        return reviews.record_review_visit(
            review=review,
            actor=people.handler,
            visited_on=day,
            investigators=VISITORS,
            findings="入户核实家庭情况",
            facts=found,
        )


def assessed(review, people, day=DAY):
    with at(day):
        return reviews.assess_review(review=review, actor=people.handler)


def decided(review, people, *, outcome, on=date(2026, 11, 20), new_amount=None):
    with at(on):
        review = reviews.propose_outcome(
            review=review,
            actor=people.handler,
            outcome=outcome,
            reason="复核核实",
            new_amount=new_amount,
        )
        review = reviews.sign_review_opinion(
            review=review, actor=people.direct, agree=True, otp_token=signing_otp(people.direct)
        )
        return reviews.decide_review(
            review=review, actor=people.first, agree=True, otp_token=signing_otp(people.first)
        )


def roster_amount(case, people, month):
    roster = generate_roster(unit=people.unit_a, month=month, actor=people.handler)
    line = roster.lines.filter(entitlement=case.entitlement).first()
    return line.amount if line else None


# --- The recalculation reads the visit ---------------------------------------------------------


def test_a_wage_found_at_the_visit_is_counted_though_the_case_records_none(paid, people):
    case = paid()  # two members, no income on the case's records, 1340 元 a month
    review = assessed(visited(case, people, incomes=[wage(case, "3000")]), people)
    # 3000 × 12 months ÷ 12 ÷ 2 members = 1500.0000 per head, above 670: no longer eligible.
    assert review.working["per_capita_income"] == "1500.0000"
    assert review.working["counted_monthly_income"] == "3000.00"
    assert review.assessed_eligible is False
    assert review.assessed_amount == Decimal("0.00")


def test_the_visit_keeps_what_it_found_and_the_case_records_carry_it_as_review_changes(
    paid, people
):
    case = paid()
    review = visited(
        case,
        people,
        incomes=[wage(case, "3000")],
        assets=[{"kind": "vehicle", "value": "20000", "description": "二手农用车"}],
    )
    found = review_facts.recorded_facts(review)
    assert [m.name for m in found.members] == [m["name"] for m in members_of(case)]
    assert [(i.kind, i.monthly_amount) for i in found.incomes] == [("wage", Decimal("3000.00"))]
    assert [(a.kind, a.value) for a in found.assets] == [("vehicle", Decimal("20000.00"))]
    # The household's versioned facts now hold what the visit found (issue 16: one record).
    facts = case_facts(case, on=DAY)
    assert [(i.kind, i.monthly_amount) for i in facts.incomes] == [("wage", Decimal("3000.00"))]
    assert [(a.kind, a.value) for a in facts.assets] == [("vehicle", Decimal("20000.00"))]


def test_a_wage_the_visit_records_becomes_the_households_current_income_with_history(paid, people):
    case = paid()  # two members, no income on record
    review = visited(case, people, incomes=[wage(case, "3000")])
    head = Person.objects.filter(household_id=case.household_id).order_by("id").first()
    facts = case_facts(case, on=DAY)
    assert [(i.person_id, i.kind, i.source, i.monthly_amount) for i in facts.incomes] == [
        (head.pk, "wage", "务工", Decimal("3000.00"))
    ]
    changes = list(FactChange.objects.filter(case=case))
    assert [(c.channel, c.channel_ref, c.subject, c.operation) for c in changes] == [
        (FactChannel.REVIEW, review.pk, "income", "add")
    ]
    assert changes[0].before == {}
    assert changes[0].after["monthly_amount"] == "3000.00"
    history = fact_history(case)
    assert history[-1]["channel"] == "定期复核入户调查"
    assert history[-1]["reason"] == "复核入户调查（2026年11月18日）"
    assert {"field": "月均金额（元）", "before": "—", "after": "3000.00"} in history[-1]["rows"]
    assert case.events.filter(action="fact_change", data__channel=FactChannel.REVIEW).exists()
    # The figures of the recalculation are those of the visit, as before.
    review = assessed(review, people)
    assert review.working["counted_monthly_income"] == "3000.00"


def test_a_higher_wage_at_the_next_visit_changes_the_recorded_income_before_to_after(paid, people):
    case = paid()
    first = visited(case, people, incomes=[wage(case, "1000")])
    reviews.close_review(review=first, reason="测试：结束本次复核")
    visited(case, people, incomes=[wage(case, "3000")], day=date(2026, 11, 19))
    facts = case_facts(case, on=date(2026, 11, 19))
    assert [i.monthly_amount for i in facts.incomes] == [Decimal("3000.00")]
    last = FactChange.objects.filter(case=case).order_by("-id").first()
    assert (last.channel, last.operation) == (FactChannel.REVIEW, "change")
    assert (last.before["monthly_amount"], last.after["monthly_amount"]) == ("1000.00", "3000.00")
    assert {"field": "月均金额（元）", "before": "1000.00", "after": "3000.00"} in fact_history(
        case
    )[-1]["rows"]


def test_a_decrease_follows_the_wage_found(paid, people):
    case = paid()
    review = assessed(visited(case, people, incomes=[wage(case, "500")]), people)
    # 670 × 2 − 500 = 840 元.
    assert review.assessed_amount == Decimal("840.00")
    review = decided(review, people, outcome=ReviewOutcome.DECREASE, new_amount="840")
    assert review.effective_month == DEC
    assert roster_amount(case, people, NOV) == Decimal("1340.00")
    assert roster_amount(case, people, DEC) == Decimal("840.00")
    assert review.notice.doc_type == DocType.ADJUSTMENT_NOTICE
    assert review.notice.context["change"] == "调整"
    assert review.notice.context["new_amount"] == "840.00"


def test_an_income_received_for_some_months_counts_for_those_months(paid, people):
    case = paid()
    review = assessed(visited(case, people, incomes=[wage(case, "1200", months="5")]), people)
    # 1200 × 5 months ÷ 12 = 500 元 a month; 670 × 2 − 500 = 840 元.
    assert review.working["counted_monthly_income"] == "500.00"
    assert review.assessed_amount == Decimal("840.00")


def test_an_exempt_income_found_at_the_visit_is_not_counted(paid, people):
    case = paid()
    award = wage(case, "600", kind="transfer", source="见义勇为奖励", exempt="1")
    review = assessed(visited(case, people, incomes=[wage(case, "500"), award]), people)
    # Only the wage counts: 670 × 2 − 500 = 840 元.
    assert review.assessed_amount == Decimal("840.00")
    assert review.working["exempt_period_income"] == "7200.00"  # 600 × 12


def test_an_increase_follows_a_wage_that_stopped(paid, people):
    case = paid(amount="840", incomes=("500",))  # paid 670 × 2 − 500 = 840 since February
    review = assessed(visited(case, people, incomes=[]), people)
    # The wage ended: 670 × 2 − 0 = 1340 元.
    assert review.assessed_amount == Decimal("1340.00")
    review = decided(review, people, outcome=ReviewOutcome.INCREASE, new_amount="1340")
    assert roster_amount(case, people, NOV) == Decimal("840.00")
    assert roster_amount(case, people, DEC) == Decimal("1340.00")
    assert review.change.kind == "increase"


def test_a_member_who_moved_out_leaves_the_household_size(paid, people):
    case = paid()
    review = assessed(visited(case, people, leaving=1), people)
    # One member left, no income: 670 × 1 = 670 元.
    assert review.working["household_size"] == 1
    assert review.assessed_amount == Decimal("670.00")


# --- Stop and phase-out --------------------------------------------------------------------------


def test_an_ineligible_household_may_be_stopped_at_once(paid, people):
    case = paid()
    review = assessed(visited(case, people, incomes=[wage(case, "3000")]), people)
    review = decided(review, people, outcome=ReviewOutcome.STOP)
    assert review.phase_out_until is None
    assert roster_amount(case, people, NOV) == Decimal("1340.00")
    assert roster_amount(case, people, DEC) is None
    assert review.notice.context["change"] == "停发"
    assert review.notice.context["effective_month"] == "2026年12月"


def test_phase_out_pays_the_county_months_then_stops(paid, people):
    case = paid()
    review = assessed(visited(case, people, incomes=[wage(case, "3000")]), people)
    review = decided(review, people, outcome=ReviewOutcome.PHASE_OUT)
    # Decided on 20 November: effective December; 6 months (Dec–May) paid unchanged; stops June.
    assert CountyRules.in_force().phase_out_months == 6
    assert review.effective_month == DEC
    assert review.phase_out_until == date(2027, 5, 1)
    assert [roster_amount(case, people, date(2027, m, 1)) for m in (1, 5)] == [
        Decimal("1340.00"),
        Decimal("1340.00"),
    ]
    assert roster_amount(case, people, date(2027, 6, 1)) is None
    assert amount_in_force(case.entitlement, date(2027, 6, 1)) == Decimal("0")
    assert review.change.source == "phase_out"
    assert review.notice.context["change"] == "停发"
    assert review.notice.context["effective_month"] == "2027年6月"
    assert "发放至2027年05月止" in review.notice.context["reason"]


def test_the_phase_out_months_are_the_countys(paid, people):
    CountyRules.objects.create(effective_from=date(2026, 1, 1), phase_out_months=3)
    case = paid()
    review = assessed(visited(case, people, incomes=[wage(case, "3000")]), people)
    review = decided(review, people, outcome=ReviewOutcome.PHASE_OUT)
    # 3 months: December, January, February; stopped from March 2027.
    assert review.phase_out_until == date(2027, 2, 1)
    assert roster_amount(case, people, date(2027, 2, 1)) == Decimal("1340.00")
    assert roster_amount(case, people, date(2027, 3, 1)) is None


def test_phase_out_is_only_for_income_above_the_standard(paid, people):
    case = paid()
    review = assessed(visited(case, people, incomes=[wage(case, "500")]), people)
    with at(DAY), pytest.raises(DomainError, match="渐退仅适用于"):
        reviews.propose_outcome(
            review=review, actor=people.handler, outcome=ReviewOutcome.PHASE_OUT, reason="x"
        )


def test_an_ineligible_household_cannot_be_decreased(paid, people):
    case = paid()
    review = assessed(visited(case, people, incomes=[wage(case, "3000")]), people)
    with at(DAY), pytest.raises(DomainError, match="停发或渐退"):
        reviews.propose_outcome(
            review=review,
            actor=people.handler,
            outcome=ReviewOutcome.DECREASE,
            reason="x",
            new_amount="100",
        )


# --- What the visit refuses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("income", "field", "message"),
    [
        ({"monthly_amount": "-5"}, "income_amount_1", "月均金额须为不小于0的数字"),
        ({"monthly_amount": "三千"}, "income_amount_1", "月均金额须为不小于0的数字"),
        ({"months": "13"}, "income_months_1", "1到12之间"),
        (
            {"period_start": "2026-06-01", "period_end": "2026-05-01"},
            "income_end_1",
            "截止日期不能早于起始日期",
        ),
        ({"period_start": "2026-13-01"}, "income_start_1", "起始日期格式"),
        ({"member": "不在户的人"}, "income_member_1", "在户成员"),
    ],
)
def test_bad_income_lines_are_refused_with_a_message_by_the_field(
    paid, people, income, field, message
):
    case = paid()
    with pytest.raises(review_facts.FactsError) as refused:
        review_facts.facts_from_rows(
            members=members_of(case),
            incomes=[wage(case, "500", **income)],
            assets=[],
            period_months=12,
        )
    assert message in refused.value.errors[field]
    assert refused.value.errors[field].startswith("第1项收入")


def test_an_asset_value_that_is_not_a_number_and_no_member_are_refused(paid, people):
    with pytest.raises(review_facts.FactsError) as refused:
        review_facts.facts_from_rows(
            members=[{"name": ""}],
            incomes=[],
            assets=[{"kind": "vehicle", "value": "两万", "description": "车"}],
            period_months=12,
        )
    assert "至少填写一位" in refused.value.errors["member_name_1"]
    assert "估值须为不小于0的数字" in refused.value.errors["asset_value_1"]


def test_without_facts_the_visit_takes_the_case_records_as_they_stand(paid, people):
    case = paid(incomes=("500",))
    with at(DAY):
        review = reviews.open_review(
            entitlement=case.entitlement, trigger=ReviewTrigger.MANUAL, actor=people.handler
        )
        review = reviews.record_review_visit(
            review=review,
            actor=people.handler,
            visited_on=DAY,
            investigators=VISITORS,
            findings="无变化",
        )
    assert review.state == ReviewState.VISITED
    assert [i.monthly_amount for i in review_facts.recorded_facts(review).incomes] == [
        Decimal("500.00")
    ]


def test_the_applicant_cannot_be_left_out_of_the_household(paid, people):
    case = paid()
    others = members_of(case)[1:]
    with pytest.raises(review_facts.FactsError) as refused:
        review_facts.facts_from_rows(
            members=others, incomes=[], assets=[], period_months=12, applicant=case.applicant
        )
    assert (
        f"申请人{case.applicant.name}不能从在户成员中移除" in refused.value.errors["member_name_1"]
    )


def test_the_visit_is_written_on_the_case_timeline(paid, people):
    case = paid()
    visited(case, people, incomes=[wage(case, "3000")])
    event = case.events.get(action="review_visit")
    assert "在户2人" in event.note
    assert f"{case.applicant.name}工资性收入3000.00元/月" in event.note


def test_the_next_review_starts_from_what_the_last_one_found(paid, people):
    case = paid()
    review = assessed(visited(case, people, incomes=[wage(case, "500", months="6")]), people)
    decided(review, people, outcome=ReviewOutcome.DECREASE, new_amount="1090")
    with at(date(2027, 5, 20)):
        second = reviews.open_review(
            entitlement=case.entitlement, trigger=ReviewTrigger.MANUAL, actor=people.handler
        )
        known = review_facts.current_facts(second, on=date(2027, 5, 20))
    # The case's records still show no income; the last review found the 500 元 wage.
    assert [(i.member, i.monthly_amount, i.months) for i in known.incomes] == [
        (case.applicant.name, Decimal("500.00"), None)
    ]
