"""Reviews appear on the unit's and the village's lists; the workflow runs from the page;
each household shows its history."""

from __future__ import annotations

from datetime import date

from cases.models import Person
from disbursement.models import Review, ReviewState, ReviewTrigger
from disbursement.reviews import services as reviews

from ..conftest import signing_otp
from .conftest import at
from .test_review_outcomes import assessed, decided


def household_rows(case, *, wage: str) -> dict:
    """The visit form's rows as the page posts them: every member, the head's wage."""
    members = list(Person.objects.filter(household_id=case.household_id).order_by("id"))
    return {
        "member_name": [m.name for m in members],
        "member_relation": [m.relation for m in members],
        "member_work_ability": [m.work_ability for m in members],
        "member_person": [m.pk for m in members],
        "member_note": ["" for _ in members],
        "income_member": [members[0].name],
        "income_kind": ["wage"],
        "income_source": ["务工"],
        "income_monthly_amount": [wage],
        "income_months": [""],
        "income_period_start": [""],
        "income_period_end": [""],
        "income_exempt": [""],
        "income_exempt_reason": [""],
    }


def test_a_due_review_is_on_the_units_and_the_villages_list_only(paid, people, login, client):
    case = paid(volatile=True)
    with at(date(2026, 7, 10)):
        reviews.open_due_reviews()
    review = Review.objects.get()
    for user, visible in (
        (people.handler, True),
        (people.assistant, True),
        (people.supervisor, True),
        (people.outsider, False),
        (people.outsider_assistant, False),
    ):
        login(user)
        page = client.get("/reviews/").content.decode()
        assert (f"复核#{review.pk}" in page) is visible, user
        status = client.get(f"/reviews/{review.pk}/").status_code
        assert status == (200 if visible else 404), user
        client.logout()
    assert case.household_id == review.household_id


def test_overdue_reviews_are_marked_on_the_list(paid, people, login, client):
    paid(volatile=True)
    with at(date(2026, 7, 10)):
        reviews.open_due_reviews()
    with at(date(2026, 8, 1)):
        login(people.supervisor)
        page = client.get("/reviews/?overdue=1").content.decode()
    assert 'data-testid="overdue"' in page


def test_the_handler_runs_the_review_from_the_page(paid, people, login, client):
    case = paid(incomes=("500",))
    with at(date(2026, 11, 18)):
        login(people.handler)
        response = client.post(f"/reviews/households/{case.household_id}/open/")
        review = Review.objects.get()
        assert response["Location"] == f"/reviews/{review.pk}/"
        client.post(
            f"/reviews/{review.pk}/",
            {
                "action": "visit",
                "version": 0,
                "visited_on": "2026-11-18",
                "investigator1": "李经办",
                "investigator2": "周协理",
                "findings": "家中新增务工收入",
                **household_rows(case, wage="500"),
            },
        )
        client.post(f"/reviews/{review.pk}/", {"action": "assess", "version": 1})
        client.post(
            f"/reviews/{review.pk}/",
            {
                "action": "propose",
                "version": 2,
                "outcome": "decrease",
                "new_amount": "840",
                "reason": "收入增加",
            },
        )
        stale = client.post(
            f"/reviews/{review.pk}/", {"action": "assess", "version": 1}, follow=True
        )
    review = Review.objects.get(pk=review.pk)
    assert review.state == ReviewState.PROPOSED and review.new_amount == 840
    assert "不能办理此操作" in stale.content.decode() or "已被他人修改" in stale.content.decode()


def test_a_second_review_is_refused_on_the_page_with_the_reason(paid, people, login, client):
    case = paid()
    reviews.open_review(
        entitlement=case.entitlement, trigger=ReviewTrigger.MANUAL, actor=people.handler
    )
    login(people.handler)
    page = client.post(
        f"/reviews/households/{case.household_id}/open/", follow=True
    ).content.decode()
    assert "已有正在进行的复核" in page
    assert Review.objects.count() == 1


def test_the_phase_out_page_says_until_when(paid, people, login, client):
    case = paid(incomes=("2000",))
    review = decided(assessed(case, people), people, outcome="phase_out", on=date(2026, 11, 20))
    login(people.handler)
    page = client.get(f"/reviews/{review.pk}/").content.decode()
    assert "发放至2027年5月" in page


def test_the_household_history_shows_decisions_reviews_and_amounts_over_time(
    paid, people, login, client
):
    case = paid(incomes=("500",))
    decided(
        assessed(case, people), people, outcome="decrease", on=date(2026, 11, 20), new_amount="840"
    )
    login(people.handler)
    page = client.get(f"/reviews/households/{case.household_id}/").content.decode()
    assert case.number in page
    assert "2026年2月" in page and "2026年11月" in page and "1340.00" in page
    assert "2026年12月" in page and "840.00" in page and "至今" in page
    assert "减发" in page
    client.logout()
    login(people.outsider)
    assert client.get(f"/reviews/households/{case.household_id}/").status_code == 404


def test_a_tekun_review_ticks_the_daily_living_indicators_not_met(paid, people, login, client):
    case = paid(kind="tekun", members=1, amount="2286")
    with at(date(2026, 11, 18)):
        review = reviews.open_review(
            entitlement=case.entitlement, trigger=ReviewTrigger.MANUAL, actor=people.handler
        )
        review = reviews.record_review_visit(
            review=review,
            actor=people.handler,
            visited_on=date(2026, 11, 18),
            investigators=[{"name": "李经办"}, {"name": "周协理"}],
            findings="可自行进食、穿衣，洗澡、如厕需人协助",
        )
        login(people.handler)
        page = client.get(f"/reviews/{review.pk}/").content.decode()
        assert 'name="care_unmet_item"' in page and "室内行走" in page
        client.post(
            f"/reviews/{review.pk}/",
            {
                "action": "assess",
                "version": review.version,
                "care_unmet_item": ["bathing", "toileting"],
            },
        )
    review = Review.objects.get(pk=review.pk)
    # Two indicators not met: partial care. Rural basic 1020 + partial care 495 = 1515 元.
    assert review.working["care_tier"] == "partial"
    assert review.assessed_amount == 1515


def test_a_review_shows_the_amount_in_force_not_a_stop_scheduled_ahead(paid, people, login, client):
    from disbursement.models import ChangeSource
    from disbursement.services import stop_entitlement

    case = paid(amount="1340")
    stop_entitlement(
        entitlement=case.entitlement,
        effective_month=date(2027, 3, 1),
        reason="渐退期满",
        source=ChangeSource.PHASE_OUT,
        actor=people.handler,
    )
    with at(date(2026, 11, 18)):
        login(people.handler)
        client.post(f"/reviews/households/{case.household_id}/open/")
        page = client.get(f"/reviews/{Review.objects.get().pk}/").content.decode()
    assert "现行月救助金额：1340.00元（自2027年3月起：停发）" in page


def test_a_leader_signs_a_review_on_the_page_only_with_their_one_time_code(
    paid, people, login, client
):
    review = assessed(paid(incomes=("500",)), people)
    review = reviews.propose_outcome(
        review=review, actor=people.handler, outcome="decrease", reason="x", new_amount="840"
    )
    login(people.direct)
    form = client.get(f"/reviews/{review.pk}/").content.decode()
    assert 'name="otp_token"' in form
    wrong = client.post(
        f"/reviews/{review.pk}/",
        {
            "action": "opinion",
            "version": review.version,
            "agree": "1",
            "text": "同意减发",
            "otp_token": "000000",
        },
    )
    page = wrong.content.decode()
    assert wrong.status_code == 400
    assert 'data-testid="otp-error"' in page and "动态口令错误" in page
    assert "同意减发" in page
    assert Review.objects.get(pk=review.pk).state == ReviewState.PROPOSED
    client.post(
        f"/reviews/{review.pk}/",
        {
            "action": "opinion",
            "version": review.version,
            "agree": "1",
            "text": "同意减发",
            "otp_token": signing_otp(people.direct),
        },
    )
    assert Review.objects.get(pk=review.pk).state == ReviewState.OPINION_SIGNED
