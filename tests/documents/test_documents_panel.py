"""The case page's documents panel: every document of the case with its number, date and
signatures, to view, print or download through the file door; the next one to issue; the
uploads with their versions, a wrong one superseded (never deleted) from the case page; the
archive one click away."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Notification
from cases import services
from cases.models import Case, CaseFile, DocType, FileCategory, Kind, MaterialRequirement, State

from ..conftest import signing_otp
from ..factories import PersonFactory
from ..files import pdf_bytes, png_bytes
from .builders import make_case

BROKEN_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


@pytest.fixture
def requirement(db):
    return MaterialRequirement.objects.create(
        kind=Kind.DIBAO, code="application", name="社会救助申请书", order=0
    )


def _panel(html: str) -> str:
    start = html.index('data-testid="documents-panel"')
    return html[start : html.index("</section>", start)]


def test_after_acceptance_the_declaration_and_authorization_can_be_printed_from_the_case_page(
    people, login
):
    case = make_case(people, State.ACCEPTED)
    client = login(people.handler)
    panel = _panel(client.get(f"/cases/{case.pk}/").content.decode())
    assert 'data-testid="issue-consent_form"' in panel
    assert "尚未委托县民政局开展家庭经济状况核对" in panel  # the letter says why not yet

    response = client.post(
        f"/documents/cases/{case.pk}/issue/", {"doc_type": DocType.CONSENT_FORM, "back": "case"}
    )

    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/#documents"
    document = case.documents.get()
    panel = _panel(client.get(f"/cases/{case.pk}/").content.decode())
    assert document.number in panel and f"/documents/{document.pk}/" in panel
    assert f"/files/document/{document.pk}/?download=1" in panel
    saved = client.get(f"/files/document/{document.pk}/?download=1")
    shown = client.get(f"/files/document/{document.pk}/")
    assert saved["Content-Disposition"].startswith("attachment")
    assert shown["Content-Disposition"].startswith("inline")


def test_a_signed_document_shows_who_signed_it(people, login):
    case = make_case(people, State.APPROVED)
    services_issue = login(people.handler).post(
        f"/documents/cases/{case.pk}/issue/",
        {"doc_type": DocType.APPROVAL_DECISION, "back": "case"},
    )
    assert services_issue.status_code == 302

    panel = _panel(login(people.handler).get(f"/cases/{case.pk}/").content.decode())

    assert "第一责任人审核确认" in panel and "不予保障告知书" not in panel


def test_a_confirmed_decision_is_issued_by_the_workflow_step_from_the_panel(people, login):
    case = make_case(people, State.CONFIRMED)
    client = login(people.handler)

    panel = _panel(client.get(f"/cases/{case.pk}/").content.decode())

    assert f"/cases/{case.pk}/do/issue_decision/" in panel
    asked = client.post(f"/cases/{case.pk}/do/issue_decision/", {"version": case.version})
    assert asked.status_code == 200  # first what will be issued, then the confirmation button
    assert Case.objects.get(pk=case.pk).state == State.CONFIRMED
    client.post(f"/cases/{case.pk}/do/issue_decision/", {"version": case.version, "confirmed": "1"})
    case = Case.objects.get(pk=case.pk)
    assert case.state == State.APPROVED
    assert case.documents.filter(doc_type=DocType.APPROVAL_DECISION).count() == 1


def test_a_leader_sees_the_documents_but_no_step_that_is_the_handlers(people, login):
    client = login(people.direct)  # sign in first: the case's signatures take the next code
    case = make_case(people, State.CONFIRMED)

    panel = _panel(client.get(f"/cases/{case.pk}/").content.decode())

    assert "批准决定书" in panel and "/do/issue_decision/" not in panel


def test_the_notice_to_issue_documents_leads_to_the_panel(
    people, django_capture_on_commit_callbacks
):
    case = make_case(people, State.OPINION_SIGNED)

    with django_capture_on_commit_callbacks(execute=True):
        services.confirm(
            actor=people.first, case=case, outcome="approve", otp_token=signing_otp(people.first)
        )

    notice = Notification.objects.get(user=people.handler, title__contains="请出具文书")
    assert notice.url == f"/cases/{case.pk}/#documents"


def test_a_wrong_upload_is_superseded_from_the_case_page_and_both_versions_are_shown(
    people, requirement, login
):
    case = make_case(people, State.ACCEPTED)
    client = login(people.handler)
    client.post(
        f"/cases/{case.pk}/upload/",
        {
            "requirement": requirement.pk,
            "category": FileCategory.MATERIAL,
            "file": SimpleUploadedFile("错传的申请书.png", png_bytes()),
        },
    )
    wrong = CaseFile.objects.get(case=case)

    refused = client.post(
        f"/documents/cases/{case.pk}/files/{wrong.pk}/correct/",
        {
            "file": SimpleUploadedFile("坏的.pdf", BROKEN_PDF),
            "correction_reason": "传错了",
            "back": "case",
        },
    )
    html = refused.content.decode()
    assert refused.status_code == 400
    assert 'data-testid="supersede-error"' in html and "PDF文件已损坏" in html
    assert 'value="传错了"' in html

    done = client.post(
        f"/documents/cases/{case.pk}/files/{wrong.pk}/correct/",
        {
            "file": SimpleUploadedFile("申请书.pdf", pdf_bytes()),
            "correction_reason": "传错了",
            "back": "case",
        },
    )

    assert done["Location"] == f"/cases/{case.pk}/#documents"
    panel = _panel(client.get(f"/cases/{case.pk}/").content.decode())
    assert "现行版本" in panel and "已被替代" in panel and "错传的申请书.png" in panel
    assert CaseFile.objects.filter(case=case).count() == 2


def test_the_archive_is_one_click_away_with_what_is_missing(people, requirement, login):
    case = make_case(people, State.ACCEPTED)

    panel = _panel(login(people.handler).get(f"/cases/{case.pk}/").content.decode())

    assert f"/documents/cases/{case.pk}/archive/" in panel
    assert f"/documents/cases/{case.pk}/archive.pdf" in panel
    assert "档案缺少1项：社会救助申请书" in panel


def test_the_case_page_costs_the_same_queries_with_one_or_many_documents_and_files(
    people, requirement, login, django_assert_max_num_queries
):
    case = make_case(people, State.APPROVED)
    client = login(people.handler)
    url = f"/cases/{case.pk}/"
    client.get(url)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(5):
        CaseFile.objects.create(
            case=case,
            category=FileCategory.MATERIAL,
            requirement=requirement,
            file=SimpleUploadedFile("a.pdf", pdf_bytes()),
            original_name="a.pdf",
            mime="application/pdf",
            size=10,
            sha256="0" * 64,
            uploaded_by=people.handler,
        )
        PersonFactory(household=case.household, relation="child")
    from cases.documents.services import issue_document

    issue_document(case=case, doc_type=DocType.APPROVAL_DECISION, actor=people.handler)
    issue_document(case=case, doc_type=DocType.INCOME_SHEET, actor=people.handler)
    issue_document(case=case, doc_type=DocType.INCOME_SHEET, actor=people.handler)
    with django_assert_max_num_queries(few):
        client.get(url)
