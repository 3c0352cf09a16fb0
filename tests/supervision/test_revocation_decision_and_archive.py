"""A revocation issues a numbered revocation decision (撤销决定书); the case archive holds
every act of the case's life: reviews with their visits and signatures, change reports,
payment adjustments, the revocation with its signature and its document."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.test import Client

from cases.documents.archive import archive_sections
from dengkou_aid.lib.pdfcheck import has_embedded_cjk_font, pdf_text
from disbursement.models import ChangeReport, ReviewOutcome
from supervision.models import CountySignature, RevocationDecision
from supervision.services import revoke_decision

from ..conftest import signing_otp
from ..reviews.conftest import paid  # noqa: F401
from ..reviews.test_review_outcomes import assessed, decided

pytestmark = pytest.mark.django_db


def revoked(case, people):
    with time_machine.travel("2026-12-15 10:00 +08:00", tick=False):
        return revoke_decision(
            case=case,
            actor=people.supervisor,
            reason="隐瞒经营收入",
            stop_from=date(2027, 1, 1),
            otp_token=signing_otp(people.supervisor),
        )


def test_a_revocation_issues_a_numbered_signed_decision(paid, people, login):  # noqa: F811
    case = paid()
    revocation = revoked(case, people)
    decision = RevocationDecision.objects.get(revocation=revocation)
    assert decision.number == "磴民政撤〔2026〕1号" and decision.issued_on == date(2026, 12, 15)
    assert decision.signature.act == CountySignature.Act.REVOCATION_DECISION
    data = decision.file.open("rb").read()
    text = pdf_text(data).replace(" ", "").replace("\n", "")
    assert has_embedded_cjk_font(data)
    assert "撤销审核确认决定书" in text and "隐瞒经营收入" in text
    assert "自2027年1月起停发救助金" in text and "申请行政复议" in text
    assert login(people.handler).get(f"/files/revocation/{decision.pk}/").status_code == 200
    outsider = login(people.outsider, Client())
    assert outsider.get(f"/files/revocation/{decision.pk}/").status_code == 404


def test_the_archive_holds_every_act_of_the_case(paid, people):  # noqa: F811
    case = paid(incomes=("500",))
    review = decided(
        assessed(case, people),
        people,
        outcome=ReviewOutcome.DECREASE,
        on=date(2026, 11, 20),
        new_amount="840",
    )
    ChangeReport.objects.create(
        household=case.household,
        unit=people.unit_a,
        village=people.village_a,
        kind="income",
        details="家庭成员外出务工",
        reported_by=people.assistant,
    )
    revoked(case, people)
    sections = {s.key: s for s in archive_sections(case)}
    review_titles = [item.title for item in sections["reviews"].items]
    assert review_titles[1] == "复核入户调查"
    assert "李经办、周协理" in sections["reviews"].items[1].detail
    # The review's three signatures: the handler's proposal, the opinion, the decision.
    assert review_titles[2:] == [
        "复核经办人复核意见",
        "复核分管领导审核意见",
        "复核第一责任人审核确认",
    ]
    assert "家庭成员外出务工" in sections["change_reports"].items[0].detail
    adjustments = [item.detail for item in sections["adjustments"].items]
    assert any("1340.00元调整为840.00元" in d for d in adjustments)
    assert any("撤销审核确认决定" in d for d in adjustments)
    (revocation,) = sections["revocations"].items
    assert revocation.title == "撤销决定书 磴民政撤〔2026〕1号"
    assert revocation.pdf() is not None
    # The supervisor's revocation signature stands in the signature list with the others.
    assert [item.title for item in sections["signatures"].items][-1] == "撤销审核确认"
    assert "郑监管（磴口县民政局）" in sections["signatures"].items[-1].detail
    assert review.signatures.count() == 3
