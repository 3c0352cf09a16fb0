"""An imported case's archive takes the old paper file's scans, marked as such."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from cases.documents.archive import LEGACY_RECORDS, completeness
from cases.models import Case, CaseFile, FileCategory

from ..files import PDF_BYTES
from .conftest import confirm, csv_file, household, latest_batch, upload


def imported_case(caseload, login):
    client = login(caseload.handler)
    upload(client, "caseload", csv_file(household("H1", 2)))
    confirm(client, latest_batch())
    return client, Case.objects.get(household__import_key="H1")


def scan(name: str = "原档案.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def test_an_imported_case_asks_for_its_paper_file_not_the_systems_records(caseload, login):
    client, case = imported_case(caseload, login)
    missing = [row.label for row in completeness(case) if not row.present]
    assert LEGACY_RECORDS in missing
    assert "入户调查记录" not in " ".join(missing)
    page = client.get(f"/documents/cases/{case.pk}/archive/").content.decode()
    assert 'data-testid="legacy-scan"' in page


def test_the_handler_attaches_the_scans_and_they_are_marked_as_legacy(caseload, login):
    client, case = imported_case(caseload, login)
    response = client.post(f"/documents/cases/{case.pk}/legacy-scans/", {"file": scan()})
    assert response.status_code == 302
    stored = CaseFile.objects.get(case=case)
    assert stored.category == FileCategory.LEGACY
    assert LEGACY_RECORDS not in [r.label for r in completeness(case) if not r.present]
    page = client.get(f"/documents/cases/{case.pk}/archive/").content.decode()
    assert "原纸质档案扫描件（存量导入）" in page
    assert case.events.filter(action="upload_legacy_scan").exists()


def test_a_scan_without_a_file_is_refused_beside_the_field(caseload, login):
    client, case = imported_case(caseload, login)
    response = client.post(f"/documents/cases/{case.pk}/legacy-scans/", {})
    assert response.status_code == 400
    assert "请选择扫描件文件。" in response.content.decode()
    assert not CaseFile.objects.filter(case=case).exists()
