"""Uploads keep only PDF, JPEG and PNG judged by content: a PDF that opens, unencrypted and
without scripts; an image decoded and re-encoded; stored under a random name with the
extension of the detected type. Everything else is refused with the reason next to the field."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    TextStringObject,
)

from cases.models import CaseFile

from ..factories import CaseFactory, HouseholdFactory, PersonFactory
from ..files import jpeg_bytes, pdf_bytes, png_bytes

HTML = (
    b"<html><body><script>fetch('/api/cases/').then(r=>r.text()).then(alert)</script></body></html>"
)
HEADERS = {
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
    "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00",
}
SCRIPT = TextStringObject("app.alert('x')")


def _js_action() -> DictionaryObject:
    return DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): SCRIPT}
    )


def _written(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _pdf_with(change) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    change(writer)
    return _written(writer)


def _open_action(writer: PdfWriter) -> None:
    writer._root_object[NameObject("/OpenAction")] = _js_action()


def _names_tree(writer: PdfWriter) -> None:
    # The document-level scripts: /Names /JavaScript /Names [(name) action].
    scripts = DictionaryObject(
        {
            NameObject("/Names"): ArrayObject(
                [TextStringObject("x"), writer._add_object(_js_action())]
            )
        }
    )
    writer._root_object[NameObject("/Names")] = DictionaryObject(
        {NameObject("/JavaScript"): writer._add_object(scripts)}
    )


def _catalog_aa(writer: PdfWriter) -> None:
    writer._root_object[NameObject("/AA")] = DictionaryObject({NameObject("/WC"): _js_action()})


def _page_aa(writer: PdfWriter) -> None:
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): _js_action()})


def _annotation(writer: PdfWriter) -> None:
    link = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([FloatObject(0), FloatObject(0)] * 2),
            NameObject("/A"): _js_action(),
        }
    )
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(link)])


def _encrypted(writer: PdfWriter) -> None:
    writer.encrypt(user_password="", owner_password="owner")


def refused_files() -> list[tuple[str, bytes]]:
    """Every kind of file that must not be kept."""
    files = [
        (f"scan.{suffix}", header + HTML)
        for suffix in ("html", "htm", "svg", "xhtml")
        for header in HEADERS.values()
    ]
    files += [(f"scan.{suffix}", pdf_bytes()) for suffix in ("html", "htm", "svg", "xhtml")]
    files += [(f"photo.{suffix}", png_bytes()) for suffix in ("html", "svg")]
    files += [
        ("scan.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("malformed.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"),  # no startxref
        ("truncated.pdf", pdf_bytes()[:-80]),
        ("encrypted.pdf", _pdf_with(_encrypted)),
        ("open-action.pdf", _pdf_with(_open_action)),
        ("names-javascript.pdf", _pdf_with(_names_tree)),
        ("catalog-aa.pdf", _pdf_with(_catalog_aa)),
        ("page-aa.pdf", _pdf_with(_page_aa)),
        ("annotation-js.pdf", _pdf_with(_annotation)),
        ("broken.jpg", HEADERS["jpeg"] + b"\x00" * 200),
        ("broken.png", HEADERS["png"] + b"\x00" * 200),
        ("animation.gif", b"GIF89a" + b"\x00" * 64),
    ]
    return files


@pytest.fixture
def open_case(people):
    household = HouseholdFactory(village=people.village_a)
    return CaseFactory(applicant=PersonFactory(household=household), household=household)


def test_no_mixed_malformed_encrypted_or_scripted_file_is_kept_from_the_page(
    people, open_case, login
):
    client = login(people.handler)
    files = refused_files()
    accepted, errors_by_field = 0, 0
    for name, content in files:
        response = client.post(
            f"/cases/{open_case.pk}/upload/",
            {"category": "material", "file": SimpleUploadedFile(name, content)},
        )
        accepted += response.status_code < 400
        errors_by_field += 'data-testid="file-error"' in response.content.decode()
    assert len(files) == 30
    assert accepted == 0
    assert errors_by_field == len(files)
    assert CaseFile.objects.count() == 0


def test_no_refused_file_is_kept_through_the_api(people, open_case, api):
    client = api(people.handler)
    statuses = [
        client.post(
            f"/api/cases/{open_case.pk}/materials/",
            {"file": SimpleUploadedFile(name, content)},
            format="multipart",
        ).status_code
        for name, content in refused_files()
    ]
    assert [s for s in statuses if s < 400] == []
    assert CaseFile.objects.count() == 0


@pytest.mark.parametrize(
    ("reason", "name", "content"),
    [
        ("PDF文件已损坏或格式不正确", "malformed.pdf", b"%PDF-1.4\ntrailer<<>>\n%%EOF\n"),
        ("PDF文件已加密", "encrypted.pdf", _pdf_with(_encrypted)),
        ("PDF文件含有脚本或自动执行的动作", "open-action.pdf", _pdf_with(_open_action)),
        ("图片文件已损坏或格式不正确", "broken.png", HEADERS["png"] + HTML),
        ("文件名后缀“.html”与文件内容（PDF）不符", "scan.html", pdf_bytes()),
    ],
)
def test_the_page_says_why_next_to_the_field_and_keeps_the_choices(
    people, open_case, login, reason, name, content
):
    response = login(people.handler).post(
        f"/cases/{open_case.pk}/upload/",
        {"category": "photo", "file": SimpleUploadedFile(name, content)},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert re.search(rf'data-testid="file-error">[^<]*{re.escape(reason)}', page)
    assert '<option value="photo" selected>' in page


@pytest.mark.parametrize(
    ("name", "content", "mime", "extension"),
    [
        ("申请书.pdf", pdf_bytes(), "application/pdf", "pdf"),
        ("户口本.jpeg", jpeg_bytes(), "image/jpeg", "jpg"),
        ("残疾证", png_bytes(), "image/png", "png"),
    ],
)
def test_a_good_file_is_kept_under_a_random_name_with_the_detected_extension(
    people, open_case, login, name, content, mime, extension
):
    response = login(people.handler).post(
        f"/cases/{open_case.pk}/upload/",
        {"category": "material", "file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 302
    stored = CaseFile.objects.get()
    assert re.fullmatch(rf"cases/\d{{4}}/\d{{2}}/[0-9a-f]{{32}}\.{extension}", stored.file.name)
    assert (stored.original_name, stored.mime) == (name, mime)
    with stored.file.open("rb") as handle:
        assert len(handle.read()) == stored.size


def test_anything_appended_to_an_image_is_dropped_by_re_encoding(people, open_case, login):
    polyglot = png_bytes() + HTML
    login(people.handler).post(
        f"/cases/{open_case.pk}/upload/",
        {"category": "photo", "file": SimpleUploadedFile("photo.png", polyglot)},
    )
    stored = CaseFile.objects.get()
    with stored.file.open("rb") as handle:
        kept = handle.read()
    assert b"<html" not in kept and b"script" not in kept
    assert stored.file.name.endswith(".png") and kept.startswith(b"\x89PNG")


def test_a_plain_pdf_with_links_and_outlines_is_accepted(people, open_case, login):
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_outline_item("第一页", 0)
    content = _written(writer)
    assert len(PdfReader(io.BytesIO(content)).pages) == 1
    response = login(people.handler).post(
        f"/cases/{open_case.pk}/upload/",
        {"category": "material", "file": SimpleUploadedFile("目录.pdf", content)},
    )
    assert response.status_code == 302
    assert CaseFile.objects.get().file.name.endswith(".pdf")


@pytest.mark.parametrize(
    "change",
    [_open_action, _names_tree, _catalog_aa, _page_aa, _annotation],
    ids=lambda c: c.__name__,
)
def test_each_place_a_pdf_can_hide_a_script_is_found(change):
    from dengkou_aid.lib.uploads import UploadRejected, check_upload

    with pytest.raises(UploadRejected, match="PDF文件含有脚本或自动执行的动作"):
        check_upload(SimpleUploadedFile("a.pdf", _pdf_with(change)))
