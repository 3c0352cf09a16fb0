"""The archive export never fails on a stored file: an unreadable one (no startxref, missing
from storage, changed since upload, encrypted, a broken image) becomes a page naming the file
and why, and the volume still completes, numbered "第N页 共M页" throughout, with a table of
contents whose page numbers are the volume's and a bookmark per part."""

from __future__ import annotations

import hashlib
import io
import itertools
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader, PdfWriter

from cases.documents.archive import correct_file, export_pdf
from cases.documents.services import issue_document
from cases.models import CaseFile, DocType, FileCategory, Kind, MaterialRequirement, State
from dengkou_aid.lib.pdfcheck import pdf_text

from ..files import pdf_bytes, png_bytes
from .builders import make_case

BROKEN_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


@pytest.fixture
def requirement(db):
    return MaterialRequirement.objects.create(
        kind=Kind.DIBAO, code="application", name="社会救助申请书", order=0
    )


def _stored(case, requirement, user, data, name, mime="application/pdf"):
    """A file as an older version of the system would have kept it: no check at upload."""
    return CaseFile.objects.create(
        case=case,
        category=FileCategory.MATERIAL,
        requirement=requirement,
        file=SimpleUploadedFile(name, data, content_type=mime),
        original_name=name,
        mime=mime,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=user,
    )


def _encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _flat(text: str) -> str:
    return "".join(text.split())


def _outline(reader: PdfReader) -> list[tuple[str, int]]:
    return [(o.title, reader.get_destination_page_number(o)) for o in reader.outline]


@pytest.mark.parametrize(
    ("data", "mime", "reason"),
    [
        (BROKEN_PDF, "application/pdf", "PDF文件已损坏或格式不正确"),
        (_encrypted_pdf(), "application/pdf", "PDF文件已加密"),
        (b"\x89PNG\r\n\x1a\n broken", "image/png", "图片文件已损坏"),
    ],
)
def test_an_unreadable_stored_file_becomes_a_page_saying_why(
    people, requirement, data, mime, reason
):
    case = make_case(people, State.APPROVED)
    _stored(case, requirement, people.handler, data, "扫描件-坏.pdf", mime)

    volume = export_pdf(case)

    text = _flat(pdf_text(volume))
    assert "本件无法打印" in text and "扫描件-坏.pdf" in text and reason in text
    assert case.number in text


def test_a_file_missing_from_storage_or_changed_since_upload_is_named_too(people, requirement):
    case = make_case(people, State.APPROVED)
    lost = _stored(case, requirement, people.handler, pdf_bytes(), "丢失的申请书.pdf")
    changed = _stored(case, requirement, people.handler, pdf_bytes(), "被改动的申请书.pdf")
    lost.file.storage.delete(lost.file.name)
    with changed.file.storage.open(changed.file.name, "wb") as handle:
        handle.write(pdf_bytes(2))

    text = _flat(pdf_text(export_pdf(case)))

    assert "丢失的申请书.pdf" in text and "存储的文件已丢失" in text
    assert "被改动的申请书.pdf" in text and "摘要不一致" in text


def test_every_page_is_numbered_in_the_volume_and_the_contents_point_at_the_parts(
    people, requirement
):
    case = make_case(people, State.APPROVED)
    _stored(case, requirement, people.handler, pdf_bytes(2), "申请书.pdf")
    _stored(case, requirement, people.handler, BROKEN_PDF, "坏文件.pdf")
    issue_document(case=case, doc_type=DocType.APPROVAL_DECISION, actor=people.handler)

    reader = PdfReader(io.BytesIO(export_pdf(case)))

    total = len(reader.pages)
    for n, page in enumerate(reader.pages, start=1):
        assert f"第{n}页共{total}页" in _flat(page.extract_text())
    outline = _outline(reader)
    assert outline[0] == ("封面及目录", 0)
    titles = [title for title, _ in outline]
    assert "申报材料及上传附件：社会救助申请书" in titles
    assert any(title.startswith("文书：批准决定书") for title in titles)
    cover = _flat("".join(reader.pages[i].extract_text() for i in range(outline[1][1])))
    for title, index in outline[1:]:
        # The printed contents give each part the page its bookmark points at.
        assert re.search(re.escape(_flat(title)) + r".*?" + str(index + 1), cover), title
    assert pages_of(outline, total)[1] == 2  # the two-page upload kept both pages


def pages_of(outline, total):
    starts = [index for _, index in outline] + [total]
    return [b - a for a, b in itertools.pairwise(starts)]


def test_a_superseded_upload_is_listed_but_only_the_current_version_is_printed(people, requirement):
    case = make_case(people, State.ACCEPTED)
    wrong = _stored(
        case, requirement, people.handler, png_bytes(color="red"), "错传.png", "image/png"
    )
    correct_file(
        case=case,
        original=wrong,
        upload=SimpleUploadedFile("正确的申请书.pdf", pdf_bytes()),
        reason="传错了文件",
        actor=people.handler,
    )

    volume = export_pdf(case)

    reader = PdfReader(io.BytesIO(volume))
    parts = [title for title, _ in _outline(reader)]
    assert parts.count("申报材料及上传附件：社会救助申请书") == 1
    text = _flat(pdf_text(volume))
    assert "错传.png" in text and "已被更正版本替代" in text and "传错了文件" in text


def test_the_demo_cases_export_even_with_a_damaged_file(people, requirement, login):
    case = make_case(people, State.APPROVED)
    _stored(case, requirement, people.handler, BROKEN_PDF, "演示材料.pdf")

    response = login(people.handler).get(f"/documents/cases/{case.pk}/archive.pdf")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "演示材料.pdf" in _flat(pdf_text(response.content))


def test_whatever_else_goes_wrong_with_a_part_the_volume_still_completes(people, monkeypatch):
    from cases.documents import archive

    case = make_case(people, State.APPROVED)
    issue_document(case=case, doc_type=DocType.APPROVAL_DECISION, actor=people.handler)

    def explode(document):
        raise RuntimeError("boom")

    monkeypatch.setattr(archive, "read_document", explode)

    text = _flat(pdf_text(export_pdf(case)))

    assert "本件无法打印" in text and "文件无法读取" in text and "boom" not in text


def test_a_document_whose_file_is_gone_answers_404_at_the_file_door(people, login):
    case = make_case(people, State.APPROVED)
    document = issue_document(case=case, doc_type=DocType.APPROVAL_DECISION, actor=people.handler)
    document.file.storage.delete(document.file.name)

    response = login(people.handler).get(f"/files/document/{document.pk}/")

    assert response.status_code == 404
