"""A review's outcome, signed by the chain, changes the next roster from the next payable month."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from accounts.models import Role
from cases.models import CountyRules, DocType
from dengkou_aid.errors import Conflict, DomainError, NotAllowed
from disbursement.models import ReviewOutcome, ReviewSchedule, ReviewState, ReviewTrigger
from disbursement.reviews import services as reviews
from disbursement.services import amount_in_force, generate_roster

from ..conftest import make_user, signing_otp
from .conftest import at

NOV, DEC, JAN = date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)
VISITORS = [{"name": "李经办"}, {"name": "周协理"}]


def assessed(case, people, day=date(2026, 11, 18)):
    with at(day):
        review = reviews.open_review(
            entitlement=case.entitlement, trigger=ReviewTrigger.MANUAL, actor=people.handler
        )
        review = reviews.record_review_visit(
            review=review,
            actor=people.handler,
            visited_on=day,
            investigators=VISITORS,
            findings="入户核实",
        )
        return reviews.assess_review(review=review, actor=people.handler)


def decided(review, people, *, outcome, on, new_amount=None):
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


def test_the_review_recalculates_income_with_the_case_rules(paid, people):
    review = assessed(paid(incomes=("500",)), people)
    assert review.state == ReviewState.ASSESSED
    assert review.assessed_eligible
    assert review.assessed_amount == Decimal("840.00")  # 670 × 2 − 500
    assert review.working["household_size"] == 2


def test_a_decrease_decided_on_the_20th_is_paid_from_next_month(paid, people):
    case = paid(incomes=("500",))
    november_before = roster_amount(case, people, NOV)
    review = decided(
        assessed(case, people),
        people,
        outcome=ReviewOutcome.DECREASE,
        on=date(2026, 11, 20),
        new_amount="840",
    )
    assert review.effective_month == DEC
    assert roster_amount(case, people, NOV) == november_before == Decimal("1340.00")
    assert roster_amount(case, people, DEC) == Decimal("840.00")
    assert review.change.source == "review"
    assert review.notice is not None and review.notice.doc_type == DocType.ADJUSTMENT_NOTICE


def test_a_decrease_decided_on_the_21st_waits_a_month_more(paid, people):
    case = paid(incomes=("500",))
    review = decided(
        assessed(case, people),
        people,
        outcome=ReviewOutcome.DECREASE,
        on=date(2026, 11, 21),
        new_amount="840",
    )
    assert review.effective_month == JAN
    assert roster_amount(case, people, DEC) == Decimal("1340.00")
    assert roster_amount(case, people, JAN) == Decimal("840.00")


def test_an_increase_is_paid_from_the_next_payable_month(paid, people):
    case = paid(amount="1000")
    review = decided(
        assessed(case, people),
        people,
        outcome=ReviewOutcome.INCREASE,
        on=date(2026, 11, 19),
        new_amount="1340",
    )
    assert roster_amount(case, people, NOV) == Decimal("1000.00")
    assert roster_amount(case, people, DEC) == Decimal("1340.00")
    assert review.change.kind == "increase"


def test_continuing_changes_nothing_and_sets_the_next_review(paid, people):
    case = paid()
    review = decided(
        assessed(case, people), people, outcome=ReviewOutcome.CONTINUE, on=date(2026, 11, 20)
    )
    assert review.change is None and review.notice is None
    assert amount_in_force(case.entitlement, JAN) == Decimal("1340.00")
    assert ReviewSchedule.objects.get(entitlement=case.entitlement).next_review_on == date(
        2027, 11, 20
    )


def test_a_stop_asked_for_by_the_household_stops_from_the_next_payable_month(paid, people):
    case = paid()
    review = decided(
        assessed(case, people), people, outcome=ReviewOutcome.STOP, on=date(2026, 11, 20)
    )
    assert review.phase_out_until is None
    assert roster_amount(case, people, NOV) == Decimal("1340.00")
    assert roster_amount(case, people, DEC) is None
    assert review.notice.context["change"] == "停发"


def test_income_above_the_standard_stops_only_after_the_phase_out_period(paid, people):
    case = paid(incomes=("2000",))
    review = assessed(case, people)
    assert review.assessed_eligible is False
    review = decided(review, people, outcome=ReviewOutcome.PHASE_OUT, on=date(2026, 11, 20))
    assert CountyRules.in_force().phase_out_months == 6
    assert review.income_above_standard
    assert review.phase_out_until == date(2027, 5, 1)
    assert roster_amount(case, people, date(2027, 5, 1)) == Decimal("1340.00")
    assert roster_amount(case, people, date(2027, 6, 1)) is None
    assert review.change.source == "phase_out"
    assert "2027年05月" in review.notice.context["reason"]


def test_an_ineligible_household_cannot_be_continued(paid, people):
    review = assessed(paid(incomes=("2000",)), people)
    with pytest.raises(DomainError, match="应为停发"):
        reviews.propose_outcome(
            review=review, actor=people.handler, outcome=ReviewOutcome.CONTINUE, reason="x"
        )


def test_the_chain_is_handler_then_direct_then_first_responsible(paid, people):
    review = assessed(paid(incomes=("500",)), people)
    with pytest.raises(NotAllowed):
        reviews.propose_outcome(
            review=review, actor=people.direct, outcome="decrease", reason="x", new_amount="840"
        )
    review = reviews.propose_outcome(
        review=review, actor=people.handler, outcome="decrease", reason="x", new_amount="840"
    )
    with pytest.raises(Conflict):
        reviews.decide_review(
            review=review, actor=people.first, agree=True, otp_token=signing_otp(people.first)
        )
    with pytest.raises(NotAllowed):
        reviews.sign_review_opinion(
            review=review,
            actor=people.outsider_direct,
            agree=True,
            otp_token=signing_otp(people.outsider_direct),
        )
    review = reviews.sign_review_opinion(
        review=review, actor=people.direct, agree=True, otp_token=signing_otp(people.direct)
    )
    assert [s.step for s in review.signatures.all()] == ["proposal", "opinion"]
    assert all(len(s.content_hash) == 64 for s in review.signatures.all())


def test_one_person_cannot_sign_two_steps_of_a_review(paid, people):
    both = make_user(people.unit_a, Role.HANDLER, Role.DIRECT_RESPONSIBLE, username="both")
    review = assessed(paid(incomes=("500",)), people)
    review = reviews.propose_outcome(
        review=review,
        actor=both,
        outcome="decrease",
        reason="x",
        new_amount="840",
        otp_token=signing_otp(both),
    )
    with pytest.raises(NotAllowed, match="重复签署"):
        reviews.sign_review_opinion(
            review=review, actor=both, agree=True, otp_token=signing_otp(both)
        )


def test_a_leader_who_disagrees_sends_it_back_to_the_handler(paid, people):
    review = assessed(paid(incomes=("500",)), people)
    review = reviews.propose_outcome(
        review=review, actor=people.handler, outcome="decrease", reason="x", new_amount="840"
    )
    review = reviews.sign_review_opinion(
        review=review,
        actor=people.direct,
        agree=False,
        text="收入核算有误",
        otp_token=signing_otp(people.direct),
    )
    assert review.state == ReviewState.ASSESSED and review.outcome == ""


def test_a_verification_is_asked_first_when_the_rule_requires_it(paid, people):
    case = paid(volatile=True)
    with at(date(2026, 7, 10)):
        reviews.open_due_reviews()
    review = case.entitlement.reviews.get()
    with pytest.raises(Conflict, match="先委托"):
        reviews.record_review_visit(
            review=review,
            actor=people.handler,
            visited_on=date(2026, 7, 10),
            investigators=VISITORS,
            findings="x",
        )
    with at(date(2026, 7, 11)):
        review = reviews.request_review_verification(review=review, actor=people.handler)
        review = reviews.record_review_visit(
            review=review,
            actor=people.handler,
            visited_on=date(2026, 7, 11),
            investigators=VISITORS,
            findings="x",
        )
    assert review.state == ReviewState.VISITED
    assert case.verification_requests.count() == 1


# Each outcome around the cut-off: (household, proposed new amount, amount after; None = stopped).
OUTCOMES = {
    ReviewOutcome.INCREASE: ({"amount": "1000"}, "1340", Decimal("1340.00")),
    ReviewOutcome.DECREASE: ({"incomes": ("500",)}, "840", Decimal("840.00")),
    ReviewOutcome.STOP: ({}, None, None),
}


@pytest.mark.parametrize("outcome", list(OUTCOMES))
@pytest.mark.parametrize(
    ("day", "effective", "month_before"),
    [(date(2026, 11, 20), DEC, NOV), (date(2026, 11, 21), JAN, DEC)],
    ids=["on-the-20th", "on-the-21st"],
)
def test_each_outcome_takes_effect_from_the_next_payable_month_around_the_20th(
    paid, people, outcome, day, effective, month_before
):
    household, new_amount, after = OUTCOMES[outcome]
    case = paid(**household)
    before = amount_in_force(case.entitlement, NOV)

    review = decided(assessed(case, people), people, outcome=outcome, on=day, new_amount=new_amount)

    assert review.effective_month == effective
    assert review.phase_out_until is None
    assert roster_amount(case, people, month_before) == before
    assert roster_amount(case, people, effective) == after
    assert roster_amount(case, people, date(2027, 2, 1)) == after
    assert review.change.effective_month == effective
    assert review.notice is not None
    assert review.notice.doc_type == DocType.ADJUSTMENT_NOTICE
    assert review.notice.context["effective_month"] == f"{effective.year}年{effective.month}月"
    assert review.notice.context["change"] == ("停发" if outcome == ReviewOutcome.STOP else "调整")


def test_a_leader_who_types_a_wrong_code_signs_nothing_on_a_review(paid, people):
    review = assessed(paid(incomes=("500",)), people)
    review = reviews.propose_outcome(
        review=review, actor=people.handler, outcome="decrease", reason="x", new_amount="840"
    )
    with pytest.raises(DomainError, match="动态口令错误"):
        reviews.sign_review_opinion(
            review=review, actor=people.direct, agree=True, otp_token="000000"
        )
    assert [s.step for s in review.signatures.all()] == ["proposal"]
