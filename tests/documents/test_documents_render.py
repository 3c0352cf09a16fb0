"""Every document type renders to a PDF whose Chinese text extracts back, with a CJK font
embedded, a per-unit per-year number, and the signatures recorded for it."""

from __future__ import annotations

import hashlib

import pytest

from cases import services
from cases.documents.services import issue_document, read_document
from cases.models import CaseEvent, DocType, Document, Kind, Outcome, State
from dengkou_aid.lib.pdfcheck import pdf_fonts, pdf_text

from .builders import make_case, set_state

# (document, state the case is in, outcome, a phrase its text must carry)
CASES = [
    (DocType.CONSENT_FORM, State.ACCEPTED, Outcome.APPROVE, "家庭经济状况核对授权书"),
    (DocType.VERIFICATION_LETTER, State.VERIFICATION_REQUESTED, Outcome.APPROVE, "核对中心"),
    (DocType.HOME_VISIT, State.VISITED, Outcome.APPROVE, "入户调查记录表"),
    (DocType.INCOME_SHEET, State.ASSESSED, Outcome.APPROVE, "月人均收入"),
    (DocType.PUBLICITY_NOTICE, State.IN_PUBLICITY, Outcome.APPROVE, "现予公示"),
    (DocType.APPROVAL_DECISION, State.APPROVED, Outcome.APPROVE, "决定予以批准"),
    (DocType.REJECTION_NOTICE, State.CONFIRMED, Outcome.REJECT, "不予保障的理由"),
    (DocType.ADJUSTMENT_NOTICE, State.IN_PAYMENT, Outcome.APPROVE, "调整"),
]


def _compact(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize(
    ("doc_type", "state", "outcome", "phrase"), CASES, ids=[c[0] for c in CASES]
)
def test_each_document_renders_with_chinese_text_and_an_embedded_cjk_font(
    people, doc_type, state, outcome, phrase
):
    case = make_case(people, state, outcome=outcome)

    document = issue_document(case=case, doc_type=doc_type, actor=people.handler)

    data = read_document(document)
    text = _compact(pdf_text(data))
    assert _compact(DocType(doc_type).label) in text
    assert _compact(phrase) in text
    assert "巴彦高勒镇" in text
    assert _compact(document.number) in text
    fonts = pdf_fonts(data)
    assert any(f["emb"] == "yes" and "CJK" in f["name"] for f in fonts), fonts
    assert document.number.startswith(f"巴彦高勒镇〔{document.year}〕")
    assert document.number.endswith("第0001号")


def test_a_decision_shows_the_unit_number_date_and_the_recorded_signatures(people):
    case = make_case(people, State.APPROVED)

    document = issue_document(case=case, doc_type=DocType.APPROVAL_DECISION, actor=people.handler)

    text = _compact(pdf_text(read_document(document)))
    for name in ("李经办", "赵分管", "孙镇长"):
        assert name in text
    assert "第一责任人" in text and "同意" in text
    assert document.context["date"] in text
    assert [s["name"] for s in document.context["signatures"]] == ["李经办", "赵分管", "孙镇长"]


def test_numbers_run_per_unit_type_and_year(people):
    first = issue_document(
        case=make_case(people, State.APPROVED),
        doc_type=DocType.APPROVAL_DECISION,
        actor=people.handler,
    )
    second = issue_document(
        case=make_case(people, State.APPROVED, head_name="刘美玲"),
        doc_type=DocType.APPROVAL_DECISION,
        actor=people.handler,
    )
    other_type = issue_document(
        case=make_case(people, State.ACCEPTED, head_name="陈小兵"),
        doc_type=DocType.CONSENT_FORM,
        actor=people.handler,
    )

    assert (first.seq, second.seq, other_type.seq) == (1, 2, 1)
    assert "救助决字第0002号" in second.number


def test_a_reissue_takes_a_new_number_that_refers_to_the_old_and_both_stay(people):
    case = make_case(people, State.APPROVED)
    old = issue_document(case=case, doc_type=DocType.APPROVAL_DECISION, actor=people.handler)
    old_bytes = read_document(old)

    new = issue_document(
        case=case,
        doc_type=DocType.APPROVAL_DECISION,
        actor=people.handler,
        replaces=old,
        reason="申请人姓名录入有误",
    )

    assert new.number != old.number and new.replaces == old
    assert old.number in _compact(pdf_text(read_document(new)))
    assert read_document(Document.objects.get(pk=old.pk)) == old_bytes
    assert hashlib.sha256(old_bytes).hexdigest() == old.sha256
    assert CaseEvent.objects.filter(case=case, action="document_issued").count() == 2


def test_a_reissue_without_a_reason_is_refused(people):
    from dengkou_aid.errors import DomainError

    case = make_case(people, State.APPROVED)
    old = issue_document(case=case, doc_type=DocType.APPROVAL_DECISION, actor=people.handler)

    with pytest.raises(DomainError, match="理由"):
        issue_document(
            case=case, doc_type=DocType.APPROVAL_DECISION, actor=people.handler, replaces=old
        )


def test_a_stop_notice_for_a_terminated_case_says_stop(people):
    case = make_case(people, State.APPROVED)
    case = set_state(case, State.TERMINATED, termination_reason="家庭收入超过低保标准")

    document = issue_document(case=case, doc_type=DocType.ADJUSTMENT_NOTICE, actor=people.handler)

    text = _compact(pdf_text(read_document(document)))
    assert "停发" in text and "家庭收入超过低保标准" in text


def test_a_marginal_familys_decision_confirms_it_with_no_payment_words(people):
    case = make_case(people, State.APPROVED, kind=Kind.MARGINAL)

    document = issue_document(case=case, doc_type=DocType.APPROVAL_DECISION, actor=people.handler)

    text = _compact(pdf_text(read_document(document)))
    assert "低保边缘家庭认定决定书" in text and "认定你户为低保边缘家庭" in text
    for payment in ("月救助金额", "发放", "打入", "账户", "予以批准"):
        assert payment not in text, payment


def test_a_refusal_to_accept_has_its_own_notice_with_the_reasons(people):
    case = make_case(people, State.SUBMITTED)
    services.refuse(actor=people.handler, case=case, reason="申请人户籍不在本镇")

    notice = Document.objects.get(case=case)
    text = _compact(pdf_text(read_document(notice)))
    assert notice.doc_type == DocType.REFUSAL_NOTICE
    assert "不予受理通知书" in text and "决定不予受理" in text
    assert "不予受理的理由：申请人户籍不在本镇" in text
