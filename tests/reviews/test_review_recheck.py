"""A review's "委托县核对中心重新核对" lands in the county verification officer's queue like a
new case's request, and the officer's report comes back to the review."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from accounts.models import Notification
from cases import rechecks
from cases.models import State
from dengkou_aid.errors import Conflict, NotAllowed
from disbursement.models import Review, ReviewState, ReviewTrigger
from disbursement.reviews import services as reviews

from .conftest import at

DAY = date(2026, 11, 18)
VISITORS = [{"name": "李经办"}, {"name": "周协理"}]
REPORT = {
    "agency": ["公安", "市场监管", ""],
    "result": ["无新增车辆", "新登记个体工商户一户", ""],
    "summary": "发现新登记个体工商户，经营收入待核实",
}


def asked(case, people) -> Review:
    with at(DAY):
        review = reviews.open_review(
            entitlement=case.entitlement,
            trigger=ReviewTrigger.MANUAL,
            actor=people.handler,
            verification_required=True,
        )
        return reviews.request_review_verification(
            review=review, actor=people.handler, note="家庭经营情况有变化"
        )


def test_the_request_lands_in_the_officers_queue_and_the_report_comes_back(
    paid, people, login, client, django_capture_on_commit_callbacks
):
    case = paid()
    with django_capture_on_commit_callbacks(execute=True):
        review = asked(case, people)
    assert review.state == ReviewState.VERIFICATION_REQUESTED
    assert case.state in (State.APPROVED, State.IN_PAYMENT)  # the household stays in payment
    assert Notification.objects.filter(user=people.verifier, title__contains=case.number).exists()

    login(people.verifier)
    home = client.get("/home/").content.decode()
    assert "在保家庭复核重新核对" in home and case.number in home
    queue = client.get("/cases/verification/").content.decode()
    assert 'data-testid="recheck-task"' in queue and case.number in queue
    assert "家庭经营情况有变化" in queue
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/cases/verification/rechecks/{review.verification_request_id}/report/",
            {**REPORT, "disqualifying": "on"},
        )
    assert response.status_code == 302
    after = client.get("/cases/verification/").content.decode()
    assert "重新核对报告已录入" in after and 'data-testid="recheck-task"' not in after
    client.logout()

    login(people.handler)
    page = client.get(f"/reviews/{review.pk}/").content.decode()
    assert "发现新登记个体工商户，经营收入待核实" in page
    assert "市场监管：新登记个体工商户一户" in page
    assert case.events.filter(action="recheck_report").exists()
    assert Notification.objects.filter(user=people.handler, title__contains="重新核对报告").exists()


def test_the_recalculation_waits_for_the_report_and_a_disqualifying_one_makes_it_ineligible(
    paid, people
):
    case = paid()
    review = asked(case, people)
    with at(DAY):
        review = reviews.record_review_visit(
            review=review,
            actor=people.handler,
            visited_on=DAY,
            investigators=VISITORS,
            findings="入户核实",
        )
        with pytest.raises(Conflict, match="尚未出具重新核对报告"):
            reviews.assess_review(review=review, actor=people.handler)
        rechecks.record_recheck_report(
            actor=people.verifier,
            request=review.verification_request,
            findings=[{"agency": "不动产登记", "result": "新购商品房一套"}],
            summary="发现新购商品房",
            disqualifying=True,
        )
        review = reviews.assess_review(review=review, actor=people.handler)
    # The visit found no income (670 × 2 = 1340 would be due), but the report disqualifies.
    assert review.assessed_eligible is False
    assert review.assessed_amount == Decimal("0.00")
    assert "重新核对报告：发现新购商品房" in review.working["notes"]


def test_only_the_county_officer_reports_and_only_once(paid, people):
    case = paid()
    review = asked(case, people)
    report = dict(findings=[{"agency": "公安", "result": "无"}], summary="未发现变化")
    with pytest.raises(NotAllowed):
        rechecks.record_recheck_report(
            actor=people.handler, request=review.verification_request, **report
        )
    rechecks.record_recheck_report(
        actor=people.verifier, request=review.verification_request, **report
    )
    with pytest.raises(Conflict, match="已出具"):
        rechecks.record_recheck_report(
            actor=people.verifier, request=review.verification_request, **report
        )
    assert not rechecks.pending_rechecks().exists()


def test_an_officer_report_without_findings_is_refused_with_the_reason(paid, people, login, client):
    case = paid()
    review = asked(case, people)
    login(people.verifier)
    page = client.post(
        f"/cases/verification/rechecks/{review.verification_request_id}/report/",
        {"agency": [""], "result": [""], "summary": "无"},
        follow=True,
    ).content.decode()
    assert "请填写至少一个部门的核对结果" in page
    assert rechecks.pending_rechecks().count() == 1


def test_the_handler_asks_for_the_recheck_from_the_review_page(paid, people, login, client):
    case = paid()
    with at(DAY):
        review = reviews.open_review(
            entitlement=case.entitlement, trigger=ReviewTrigger.MANUAL, actor=people.handler
        )
        login(people.handler)
        page = client.get(f"/reviews/{review.pk}/").content.decode()
        assert "委托县核对中心重新核对" in page
        client.post(f"/reviews/{review.pk}/", {"action": "verify", "version": review.version})
        page = client.get(f"/reviews/{review.pk}/").content.decode()
    review = Review.objects.get(pk=review.pk)
    assert review.state == ReviewState.VERIFICATION_REQUESTED
    assert rechecks.pending_rechecks().get() == review.verification_request
    assert "核对报告尚未出具" in page
