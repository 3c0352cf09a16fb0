"""Revocation stops payment from the stated month; rectification needs an answer before closing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Notification
from cases.models import Case, SignatureStep, State
from dengkou_aid.errors import Conflict, DomainError, NotAllowed
from disbursement.models import AccountKind, ChangeKind, ChangeSource
from disbursement.services import (
    adjust_entitlement,
    create_entitlement,
    in_force_queryset,
    stop_entitlement,
)
from supervision.models import Finding, Rectification, Revocation, Rule
from supervision.services import (
    answer_rectification,
    decide_rectification,
    order_rectification,
    revoke_decision,
)

from ..conftest import signing_otp

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_case(people, decided_case):
    case = decided_case()
    create_entitlement(
        case=case,
        account_kind=AccountKind.SOCIAL_SECURITY,
        account_number="12345678",
        bank_name="磴口县农商银行",
        holder_name="张明东",
        actor=people.handler,
        start_month=date(2026, 4, 1),
    )
    return case


def test_revocation_stops_payment_from_the_stated_month_and_ends_the_case(
    people, paid_case, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        revocation = revoke_decision(
            case=paid_case,
            actor=people.supervisor,
            reason="隐瞒经营收入",
            stop_from=date(2026, 7, 1),
            otp_token=signing_otp(people.supervisor),
        )
    case = Case.objects.get(pk=paid_case.pk)
    assert case.state == State.TERMINATED
    assert revocation.signature.step == SignatureStep.REVOCATION
    assert revocation.signature.signer == people.supervisor
    assert case.events.filter(action="revoke").exists()
    paid = lambda month: in_force_queryset(month).filter(case=case).exists()  # noqa: E731
    assert paid(date(2026, 6, 1)) and not paid(date(2026, 7, 1))
    assert Notification.objects.filter(
        user=people.first, key=f"revocation:{revocation.pk}"
    ).exists()


def test_revocation_during_a_phase_out_brings_the_scheduled_stop_forward(people, paid_case):
    entitlement = paid_case.entitlement
    stop_entitlement(
        entitlement=entitlement,
        effective_month=date(2026, 10, 1),
        reason="收入超过保障标准，渐退期至2026年9月",
        source=ChangeSource.PHASE_OUT,
        actor=people.handler,
    )

    revoke_decision(
        case=paid_case,
        actor=people.supervisor,
        reason="隐瞒经营收入",
        stop_from=date(2026, 7, 1),
        otp_token=signing_otp(people.supervisor),
    )

    paid = lambda month: in_force_queryset(month).filter(case=paid_case).exists()  # noqa: E731
    assert paid(date(2026, 6, 1))
    assert not any(paid(date(2026, m, 1)) for m in (7, 8, 9, 10))
    entitlement.refresh_from_db()
    assert entitlement.end_month == date(2026, 6, 1)
    stops = entitlement.changes.filter(kind=ChangeKind.STOP).order_by("effective_month")
    assert [c.effective_month for c in stops] == [date(2026, 7, 1), date(2026, 10, 1)]


def test_a_scheduled_stop_cannot_be_pushed_later_or_turned_into_a_payment(people, paid_case):
    entitlement = paid_case.entitlement
    stop = dict(reason="渐退期结束", source=ChangeSource.PHASE_OUT, actor=people.handler)
    stop_entitlement(entitlement=entitlement, effective_month=date(2026, 10, 1), **stop)
    with pytest.raises(Conflict, match="该待遇已停发"):
        stop_entitlement(entitlement=entitlement, effective_month=date(2026, 12, 1), **stop)
    with pytest.raises(Conflict, match="该待遇已停发"):
        adjust_entitlement(
            entitlement=entitlement,
            effective_month=date(2026, 8, 1),
            new_amount=Decimal("100.00"),
            **stop,
        )


def test_revocation_without_a_reason_or_by_a_township_is_refused(people, paid_case):
    with pytest.raises(DomainError, match="理由"):
        revoke_decision(
            case=paid_case, actor=people.supervisor, reason=" ", stop_from=date(2026, 7, 1)
        )
    with pytest.raises(NotAllowed):
        revoke_decision(case=paid_case, actor=people.first, reason="x", stop_from=date(2026, 7, 1))
    assert not Revocation.objects.exists()
    assert Case.objects.get(pk=paid_case.pk).state == State.IN_PAYMENT


def test_the_revoke_page_signs_and_revokes(people, paid_case, login):
    client = login(people.supervisor)
    response = client.post(
        f"/supervision/cases/{paid_case.pk}/revoke/",
        {"reason": "冒领", "stop_from": "2026-08", "otp_token": signing_otp(people.supervisor)},
    )
    assert response.status_code == 302
    assert Revocation.objects.get().stop_from == date(2026, 8, 1)


@pytest.fixture
def finding(people, decided_case):
    return Finding.objects.create(
        rule=Rule.PUBLICITY_SHORT, case=decided_case(), unit=people.unit_a, evidence={"days": 5}
    )


def test_a_rectification_is_ordered_answered_and_accepted(people, finding):
    due = timezone.localdate() + timedelta(days=10)
    rectification = order_rectification(
        finding=finding, actor=people.supervisor, instruction="补足公示期", due_on=due
    )
    assert Notification.objects.filter(
        user=people.direct, key=f"rectification:{rectification.pk}"
    ).exists()
    with pytest.raises(Conflict, match="尚未反馈"):
        decide_rectification(rectification=rectification, actor=people.supervisor, accept=True)
    with pytest.raises(NotAllowed):
        answer_rectification(rectification=rectification, actor=people.outsider, answer="已补")
    answer_rectification(rectification=rectification, actor=people.handler, answer="已重新公示7日")
    decide_rectification(
        rectification=rectification, actor=people.supervisor, accept=False, note="未附照片"
    )
    rectification.refresh_from_db()
    assert rectification.state == Rectification.State.ORDERED
    answer_rectification(rectification=rectification, actor=people.first, answer="已补公示照片")
    decide_rectification(rectification=rectification, actor=people.supervisor, accept=True)
    finding.refresh_from_db()
    assert finding.state == Finding.State.CLOSED
    assert [h["action"] for h in Rectification.objects.get().history] == [
        "answer",
        "reopen",
        "answer",
        "accept",
    ]


def test_closing_a_rectification_without_an_answer_is_refused_through_the_page(
    people, finding, login
):
    rectification = order_rectification(
        finding=finding,
        actor=people.supervisor,
        instruction="补足公示期",
        due_on=timezone.localdate() + timedelta(days=3),
    )
    client = login(people.supervisor)
    response = client.post(
        f"/supervision/rectifications/{rectification.pk}/decide/",
        {"verdict": "accept"},
        follow=True,
    )
    assert "尚未反馈整改情况" in response.content.decode()
    assert Rectification.objects.get().state == Rectification.State.ORDERED


def test_a_township_user_opening_another_units_finding_gets_404(people, finding, login):
    assert login(people.outsider).get(f"/supervision/findings/{finding.pk}/").status_code == 404
    own = login(people.handler, Client())
    assert own.get(f"/supervision/findings/{finding.pk}/").status_code == 200
