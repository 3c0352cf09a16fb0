"""In Debian's Chromium: unit A's handler goes from the home page to a case's documents panel
by links only, is refused a malformed PDF with the reason in Chinese, uploads a good one,
supersedes it with a corrected version, prints the declaration and authorization, and
exports the archive: one PDF whose pages, bookmarks and text are checked with pypdf. A case
like the demo's, holding a stored file that no longer opens, still exports, with a page
naming the file and why."""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader

from cases.models import CaseFile, FileCategory, Kind, MaterialRequirement, State

from ..conftest import service_missing
from ..documents.builders import make_case
from ..e2e_support import browser, chromium_available, signed_in
from ..files import pdf_bytes

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

BROKEN_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


def _volume(page, live_server) -> tuple[PdfReader, str]:
    """The archive export behind the panel's link, fetched with the page's session."""
    href = page.get_attribute("[data-testid=archive-export]", "href")
    response = page.request.get(f"{live_server.url}{href}")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.body()))
    text = "".join("".join(p.extract_text().split()) for p in reader.pages)
    return reader, text


def _outline(reader: PdfReader) -> list[tuple[str, int]]:
    return [(o.title, reader.get_destination_page_number(o)) for o in reader.outline]


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_handler_works_a_case_from_the_home_page_to_its_archive(live_server, people):
    if not chromium_available():
        service_missing("chromium")
    application = MaterialRequirement.objects.create(
        kind=Kind.DIBAO, code="application", name="社会救助申请书", order=0
    )
    case = make_case(people, State.ACCEPTED)
    demo_like = make_case(people, State.APPROVED, head_name="刘志强")
    CaseFile.objects.create(
        case=demo_like,
        category=FileCategory.MATERIAL,
        requirement=application,
        file=SimpleUploadedFile("演示材料.pdf", BROKEN_PDF),
        original_name="演示材料.pdf",
        mime="application/pdf",
        size=len(BROKEN_PDF),
        sha256=hashlib.sha256(BROKEN_PDF).hexdigest(),
        uploaded_by=people.handler,
    )

    with browser() as chromium:
        page = signed_in(chromium, live_server, people.handler)
        # From the home page's 待出具文书, straight to the case's documents panel.
        due = page.locator("[data-block=documents-due]")
        with page.expect_navigation():
            due.locator(f"a:has-text('{case.number}')").click()
        assert page.url.endswith(f"/cases/{case.pk}/#documents")
        panel = page.locator("[data-testid=documents-panel]")
        assert "档案缺少1项：社会救助申请书" in panel.inner_text()

        # A malformed PDF is refused, in Chinese, beside the field; the choice is kept.
        upload = page.locator("[data-testid=materials] form")
        upload.locator("select[name=requirement]").select_option(label="社会救助申请书")
        upload.locator("input[type=file]").set_input_files(
            {"name": "申请书.pdf", "mimeType": "application/pdf", "buffer": BROKEN_PDF}
        )
        with page.expect_navigation():
            upload.locator("button:has-text('上传')").click()
        error = page.inner_text("[data-testid=file-error]")
        assert "PDF文件已损坏或格式不正确" in error
        assert not CaseFile.objects.filter(case=case).exists()

        upload = page.locator("[data-testid=materials] form")
        assert upload.locator("select[name=requirement] option:checked").inner_text() == (
            "社会救助申请书"
        )
        upload.locator("input[type=file]").set_input_files(
            {"name": "申请书-扫描有误.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}
        )
        with page.expect_navigation():
            upload.locator("button:has-text('上传')").click()
        assert "材料已上传。" in page.inner_text(".messages")
        assert "档案齐全。" in page.inner_text("[data-testid=documents-panel]")

        # The wrong scan is superseded from the panel; both versions stay, the new one current.
        supersede = page.locator("[data-testid=supersede]").first
        supersede.locator("input[type=file]").set_input_files(
            {"name": "申请书-重新扫描.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes(2)}
        )
        supersede.locator("input[name=correction_reason]").fill("原扫描件缺页")
        with page.expect_navigation():
            supersede.locator("button").click()
        history = page.inner_text("[data-testid=file-history]")
        assert "申请书-重新扫描.pdf" in history and "现行版本" in history
        assert "已被替代：申请书-扫描有误.pdf" in history
        assert CaseFile.objects.filter(case=case).count() == 2

        # The declaration and authorization, printed right after acceptance.
        with page.expect_navigation():
            page.click("[data-testid=issue-consent_form]")
        row = page.locator("tr[data-doc-type=consent_form]")
        number = case.documents.get().number
        assert number in row.inner_text()
        assert row.locator("a:has-text('打印')").get_attribute("href") == (
            f"/files/document/{case.documents.get().pk}/"
        )

        reader, text = _volume(page, live_server)
        outline = _outline(reader)
        titles = [title for title, _ in outline]
        assert titles[0] == "封面及目录"
        # Only the current version is printed: two pages, after the cover.
        assert titles.count("申报材料及上传附件：社会救助申请书") == 1
        start = dict(outline)["申报材料及上传附件：社会救助申请书"]
        following = [i for _, i in outline if i > start] + [len(reader.pages)]
        assert min(following) - start == 2
        assert any(title.startswith("文书：社会救助诚信声明") for title in titles)
        assert case.number in text and "申请书-扫描有误.pdf" in text
        total = len(reader.pages)
        assert f"第1页共{total}页" in text and f"第{total}页共{total}页" in text

        # A demo-like case with a stored file that no longer opens: reached from the home
        # page (its decision is still to be issued), and its archive still exports.
        with page.expect_navigation():
            page.click("nav.mainnav >> text=工作台")
        due = page.locator("[data-block=documents-due]")
        with page.expect_navigation():
            due.locator(f"a:has-text('{demo_like.number}')").click()
        reader, text = _volume(page, live_server)
        assert "本件无法打印" in text and "演示材料.pdf" in text and "PDF文件已损坏" in text
        assert demo_like.number in text
        assert "申报材料及上传附件：社会救助申请书" in [title for title, _ in _outline(reader)]
