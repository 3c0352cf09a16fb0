"""The monthly task opens each due review once, and overdue reviews reach the county."""

from __future__ import annotations

from datetime import date

import pytest

from accounts.models import Notification
from dengkou_aid.errors import Conflict
from disbursement.models import Review, ReviewState, ReviewTrigger
from disbursement.reviews.services import flag_overdue_reviews, open_review
from disbursement.services import stop_entitlement
from disbursement.tasks import open_due_reviews

from .conftest import at


def test_a_due_review_opens_once_however_often_the_task_runs(paid, people):
    volatile, steady = paid(volatile=True), paid()
    with at(date(2026, 7, 10)):
        assert open_due_reviews.delay().get() == 1
        assert open_due_reviews.delay().get() == 0
    review = Review.objects.get()
    assert review.household_id == volatile.household_id
    assert review.trigger == ReviewTrigger.SCHEDULE
    assert review.due_on == date(2026, 7, 10)
    assert review.verification_required
    assert not Review.objects.filter(household_id=steady.household_id).exists()
    assert (
        Notification.objects.filter(user=people.handler, key__startswith="reviews-due:").count()
        == 1
    )


def test_a_stopped_household_is_not_reviewed(paid, people):
    case = paid(volatile=True)
    stop_entitlement(
        entitlement=case.entitlement,
        effective_month=date(2026, 6, 1),
        reason="申请退出",
        source="correction",
        actor=people.handler,
    )
    with at(date(2026, 7, 10)):
        assert open_due_reviews() == 0


def test_a_second_open_review_for_a_household_is_refused_with_the_reason(paid, people):
    case = paid(volatile=True)
    with at(date(2026, 7, 10)):
        open_due_reviews()
        with pytest.raises(Conflict, match="已有正在进行的复核"):
            open_review(
                entitlement=case.entitlement, trigger=ReviewTrigger.MANUAL, actor=people.handler
            )
    assert Review.objects.filter(household_id=case.household_id).count() == 1


def test_a_handler_of_another_unit_cannot_open_a_review(paid, people):
    from dengkou_aid.errors import NotAllowed

    case = paid()
    with pytest.raises(NotAllowed):
        open_review(
            entitlement=case.entitlement, trigger=ReviewTrigger.MANUAL, actor=people.outsider
        )


def test_overdue_reviews_are_flagged_to_county_supervisors_once(paid, people):
    paid(volatile=True)
    with at(date(2026, 7, 10)):
        open_due_reviews()
    with at(date(2026, 8, 3)):
        assert flag_overdue_reviews() == 1
        flag_overdue_reviews()
    notices = Notification.objects.filter(
        user=people.supervisor, key__startswith="reviews-overdue:"
    )
    assert notices.count() == 1
    assert "逾期" in notices.get().title
    assert not Notification.objects.filter(
        user=people.handler, key__startswith="reviews-overdue:"
    ).exists()
    assert Review.objects.get().state == ReviewState.OPEN
