"""Signing like signing (谁签字，谁负责): an act that cannot be undone shows what will be signed
and asks to confirm; a leader re-enters a one-time code to sign; the outcome reads as what it is
(a proposal as a proposal, a marginal family's confirmation without payment words); a refusal
to accept issues its own notice."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditLog
from cases import services
from cases.models import Case, DocType, Kind, Outcome, Signature, SignatureStep, State
from cases.selectors import outcome_summary
from dengkou_aid.errors import DomainError

from ..conftest import signing_otp
from ..factories import CaseFactory, HouseholdFactory, PersonFactory


@pytest.fixture
def proposed(people):
    """A case the handler has proposed for approval, waiting for the leader's opinion."""
    household = HouseholdFactory(village=people.village_a)
    return CaseFactory(
        applicant=PersonFactory(household=household, name="张明东"),
        household=household,
        state=State.PROPOSED,
        outcome=Outcome.APPROVE,
    )


@pytest.fixture(autouse=True)
def _no_wait_between_codes(settings):
    # A wrong code makes django-otp wait a second before the next try; these tests try at once.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def wrong_code(user) -> str:
    right = signing_otp(user)
    return f"{(int(right) + 1) % 1_000_000:06d}"


# --- the one-time code, by the service ---------------------------------------------------


def test_a_leader_who_signs_without_a_code_signs_nothing(people, proposed):
    with pytest.raises(DomainError, match="动态口令") as refused:
        services.sign_opinion(actor=people.direct, case=proposed, opinion="agree")
    assert refused.value.field == "otp_token"
    assert not Signature.objects.exists()
    assert Case.objects.get(pk=proposed.pk).state == State.PROPOSED


def test_a_wrong_code_is_refused_in_chinese_counted_and_audited_with_nothing_signed(
    people, proposed
):
    with pytest.raises(DomainError, match="动态口令错误，未签字") as refused:
        services.sign_opinion(
            actor=people.direct, case=proposed, opinion="agree", otp_token=wrong_code(people.direct)
        )
    assert refused.value.field == "otp_token"
    assert not Signature.objects.exists()
    assert Case.objects.get(pk=proposed.pk).state == State.PROPOSED
    assert TOTPDevice.objects.get(user=people.direct).throttling_failure_count == 1
    assert AuditLog.objects.filter(action=AuditLog.Action.OTP_FAILED, user=people.direct).exists()


def test_the_right_code_signs_with_who_role_unit_when_opinion_and_hash(people, proposed):
    services.sign_opinion(
        actor=people.direct,
        case=proposed,
        opinion="agree",
        text="同意经办人意见",
        otp_token=signing_otp(people.direct),
    )
    signature = Signature.objects.get(case=proposed)
    assert (signature.signer, signature.signer_name) == (people.direct, "赵分管")
    assert (signature.role, signature.unit) == ("direct_responsible", people.unit_a)
    assert signature.signed_at is not None
    assert (signature.step, signature.verdict, signature.text) == (
        SignatureStep.OPINION,
        "同意",
        "同意经办人意见",
    )
    assert signature.content_hash == Signature.digest(signature.content)
    assert Case.objects.get(pk=proposed.pk).state == State.OPINION_SIGNED


def test_a_code_is_taken_once(people, proposed):
    code = signing_otp(people.direct)
    services.sign_opinion(actor=people.direct, case=proposed, opinion="agree", otp_token=code)
    other = CaseFactory(
        applicant=PersonFactory(household=HouseholdFactory(village=people.village_a)),
        state=State.PROPOSED,
        outcome=Outcome.APPROVE,
    )
    with pytest.raises(DomainError, match="动态口令错误"):
        services.sign_opinion(actor=people.direct, case=other, opinion="agree", otp_token=code)


# --- the confirmation, by the pages ------------------------------------------------------


def sign_page(login, user, case, **body):
    client = login(user, Client())
    return client, client.post(
        f"/cases/{case.pk}/do/sign_opinion/", {"version": case.version, "opinion": "agree", **body}
    )


def test_the_leader_sees_what_will_be_signed_before_anything_is_signed(login, people, proposed):
    _, page = sign_page(login, people.direct, proposed, text="同意")
    text = page.content.decode()
    assert page.status_code == 200
    assert "请确认：签署审核意见" in text and "所签内容" in text
    for shown in (proposed.number, "张明东", "拟批准", "赵分管", "巴彦高勒镇", 'name="otp_token"'):
        assert shown in text, shown
    assert not Signature.objects.exists()


def test_a_wrong_code_on_the_page_returns_the_confirmation_with_the_reason_beside_the_field(
    login, people, proposed
):
    _, page = sign_page(
        login, people.direct, proposed, confirmed="1", otp_token=wrong_code(people.direct)
    )
    assert page.status_code == 400
    assert 'data-testid="otp-error">动态口令错误，未签字' in page.content.decode()
    assert not Signature.objects.exists()


def test_the_right_code_on_the_page_signs(login, people, proposed):
    client = login(people.direct, Client())
    page = client.post(
        f"/cases/{proposed.pk}/do/sign_opinion/",
        {
            "version": proposed.version,
            "opinion": "agree",
            "confirmed": "1",
            "otp_token": signing_otp(people.direct),
        },
    )
    assert page.status_code == 302
    assert Signature.objects.get(case=proposed).signer == people.direct


def test_a_refusal_to_accept_asks_to_confirm_then_issues_its_own_notice(login, people):
    case = CaseFactory(
        applicant=PersonFactory(household=HouseholdFactory(village=people.village_a)),
        state=State.SUBMITTED,
    )
    client = login(people.handler, Client())
    body = {"version": case.version, "reason": "申请人户籍不在本镇"}
    page = client.post(f"/cases/{case.pk}/do/refuse/", body)
    assert page.status_code == 200 and "不予受理通知书" in page.content.decode()
    assert Case.objects.get(pk=case.pk).state == State.SUBMITTED
    assert (
        client.post(f"/cases/{case.pk}/do/refuse/", {**body, "confirmed": "1"}).status_code == 302
    )
    case = Case.objects.get(pk=case.pk)
    notice = case.documents.get()
    assert case.state == State.REFUSED
    assert notice.doc_type == DocType.REFUSAL_NOTICE and "不予受理字第" in notice.number


# --- the outcome in words ----------------------------------------------------------------


def test_a_proposal_to_reject_reads_as_such_never_as_agreement(people):
    proposed = case_in(people, State.PROPOSED, outcome=Outcome.REJECT)
    content = {"kind": Kind.DIBAO, "outcome": Outcome.REJECT}
    signature = Signature(step=SignatureStep.PROPOSAL, opinion="agree", content=content)
    assert signature.verdict == "拟不予保障"
    assert outcome_summary(proposed) == {"decided": False, "words": "拟不予保障", "amount": None}


def case_in(people, state, **fields):
    household = HouseholdFactory(village=people.village_a)
    return CaseFactory(applicant=PersonFactory(household=household), state=state, **fields)


def test_the_amount_shows_only_once_the_first_responsible_has_decided(people):
    waiting = case_in(people, State.OPINION_SIGNED, outcome=Outcome.APPROVE, monthly_amount=370)
    assert outcome_summary(waiting) == {"decided": False, "words": "拟批准", "amount": None}
    decided = case_in(people, State.CONFIRMED, outcome=Outcome.APPROVE, monthly_amount=370)
    assert outcome_summary(decided) == {"decided": True, "words": "批准", "amount": 370}


def test_a_marginal_family_is_confirmed_as_such_without_payment_words(people):
    marginal = case_in(
        people, State.APPROVED, kind=Kind.MARGINAL, outcome=Outcome.APPROVE, monthly_amount=0
    )
    assert outcome_summary(marginal) == {
        "decided": True,
        "words": "认定为低保边缘家庭",
        "amount": None,
    }


def test_through_the_api_a_leader_without_a_code_is_refused_beside_the_field(api, people, proposed):
    response = api(people.direct).post(
        f"/api/cases/{proposed.pk}/transitions/sign_opinion/", {"opinion": "agree"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "otp_token"
    assert not Signature.objects.exists()
