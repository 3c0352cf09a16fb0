"""The case archive: everything in one place, the completeness check against the kind's
checklist and the records the state needs, the single-PDF export with a table of contents,
and corrections that add a version while keeping the original."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfReader

from cases.documents.archive import completeness, correct_file, missing_items
from cases.documents.services import issue_document
from cases.models import (
    CaseEvent,
    CaseFile,
    DocType,
    FileCategory,
    Kind,
    MaterialRequirement,
    State,
)
from dengkou_aid.errors import NotAllowed
from dengkou_aid.lib.pdfcheck import pdf_text

from .builders import make_case


def _png(color="red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def checklist(db):
    return [
        MaterialRequirement.objects.create(
            kind=Kind.DIBAO, code="application", name="社会救助申请书", order=0
        ),
        MaterialRequirement.objects.create(
            kind=Kind.DIBAO, code="income_proof", name="家庭收入证明", order=1
        ),
        MaterialRequirement.objects.create(
            kind=Kind.DIBAO, code="id_card", name="居民身份证", platform_supplied=True, order=2
        ),
    ]


def _upload(case, requirement, user, content=None, name="申请书.png"):
    data = content or _png()
    return CaseFile.objects.create(
        case=case,
        category=FileCategory.MATERIAL,
        requirement=requirement,
        file=SimpleUploadedFile(name, data, content_type="image/png"),
        original_name=name,
        mime="image/png",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=user,
    )


def test_the_check_lists_missing_materials_but_not_those_the_platform_supplies(people, checklist):
    case = make_case(people, State.ACCEPTED)
    _upload(case, checklist[0], people.handler)

    assert missing_items(case) == ["家庭收入证明"]


def test_the_check_asks_for_the_records_the_state_implies(people, checklist):
    case = make_case(people, State.APPROVED)
    for requirement in checklist[:2]:
        _upload(case, requirement, people.handler)

    assert missing_items(case) == ["批准决定书"]
    issue_document(case=case, doc_type=DocType.APPROVAL_DECISION, actor=people.handler)
    assert missing_items(case) == []
    assert {row.group for row in completeness(case)} == {"申报材料", "办理记录", "文书"}


def test_a_case_that_lost_its_signature_shows_it_missing(people, checklist):
    from cases.events import void_signatures
    from cases.models import SignatureStep

    case = make_case(people, State.CONFIRMED)
    void_signatures(case, steps=(SignatureStep.DECISION,), reason="测试作废")

    assert "第一责任人审核确认签署" in missing_items(case)


def test_the_archive_page_shows_everything_and_marks_what_is_missing_in_red(
    people, checklist, login
):
    case = make_case(people, State.APPROVED)
    issue_document(case=case, doc_type=DocType.APPROVAL_DECISION, actor=people.handler)

    html = login(people.handler).get(f"/documents/cases/{case.pk}/archive/").content.decode()

    for title in (
        "诚信声明及核对授权",
        "核对报告",
        "入户调查记录",
        "民主评议",
        "收入核算",
        "公示",
        "签署记录",
        "批准决定书",
    ):
        assert title in html, title
    assert '<li class="missing"><span class="tag">申报材料</span>社会救助申请书' in html
    assert "家庭收入证明：缺失" in html


def test_another_units_handler_cannot_open_the_archive(people, checklist, login):
    case = make_case(people, State.APPROVED)

    response = login(people.outsider).get(f"/documents/cases/{case.pk}/archive/")

    assert response.status_code == 404


def test_the_export_is_one_pdf_with_a_table_of_contents_then_documents_and_uploads(
    people, checklist, login
):
    case = make_case(people, State.APPROVED)
    _upload(case, checklist[0], people.handler)
    issue_document(case=case, doc_type=DocType.APPROVAL_DECISION, actor=people.handler)
    issue_document(case=case, doc_type=DocType.INCOME_SHEET, actor=people.handler)

    response = login(people.handler).get(f"/documents/cases/{case.pk}/archive.pdf")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    data = response.content
    pages = len(PdfReader(io.BytesIO(data)).pages)
    text = "".join(pdf_text(data).split())
    assert "目录" in text and "批准决定书" in text and "收入核算表" in text and "申请书.png" in text
    assert pages >= 4  # cover, the upload, two documents


def test_a_correction_adds_a_version_with_its_reason_and_keeps_the_original(people, checklist):
    case = make_case(people, State.ACCEPTED)
    original = _upload(case, checklist[0], people.handler)
    upload = SimpleUploadedFile("申请书-更正.png", _png("blue"), content_type="image/png")

    corrected = correct_file(
        case=case, original=original, upload=upload, reason="原件缺少签名页", actor=people.handler
    )

    assert corrected.supersedes == original and corrected.correction_reason == "原件缺少签名页"
    assert CaseFile.objects.filter(case=case).count() == 2
    assert CaseEvent.objects.filter(case=case, action="file_corrected").exists()


def test_a_correction_by_someone_outside_the_unit_is_refused(people, checklist):
    case = make_case(people, State.ACCEPTED)
    original = _upload(case, checklist[0], people.handler)
    upload = SimpleUploadedFile("x.png", _png(), content_type="image/png")

    with pytest.raises(NotAllowed):
        correct_file(case=case, original=original, upload=upload, reason="x", actor=people.outsider)
    assert CaseFile.objects.filter(case=case).count() == 1


def test_the_correction_page_keeps_both_versions(people, checklist, login):
    case = make_case(people, State.ACCEPTED)
    original = _upload(case, checklist[0], people.handler)
    client = login(people.handler)

    client.post(
        f"/documents/cases/{case.pk}/files/{original.pk}/correct/",
        {"file": SimpleUploadedFile("更正.png", _png("green")), "correction_reason": "扫描不清"},
    )
    html = client.get(f"/documents/cases/{case.pk}/archive/").content.decode()

    assert "申请书.png" in html and "更正.png" in html and "扫描不清" in html


def test_the_api_reports_what_is_missing(people, checklist, api):
    case = make_case(people, State.ACCEPTED)

    response = api(people.handler).get(f"/api/documents/cases/{case.pk}/completeness/")

    assert response.status_code == 200
    assert response.json()["missing"] == ["社会救助申请书", "家庭收入证明"]
