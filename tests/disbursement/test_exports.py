"""Excel and PDF exports: totals match, Chinese text extracts, accounts masked unless finance."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook

from accounts.models import AuditLog
from dengkou_aid.lib.pdfcheck import has_embedded_cjk_font, pdf_text
from disbursement.exports import county_pdf, request_export, roster_pdf
from disbursement.models import ExportJob

from .conftest import DECEMBER


def _workbook(job):
    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE, job.error
    with job.file.open("rb") as handle:
        return load_workbook(io.BytesIO(handle.read()))


def test_the_roster_excel_opens_and_its_totals_match(
    people, submitted_roster, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = request_export(
            kind=ExportJob.Kind.ROSTER_XLSX, actor=people.handler, roster=submitted_roster
        )

    book = _workbook(job)
    assert book.sheetnames == ["汇总", "巴彦高勒镇"]
    rows = list(book["巴彦高勒镇"].iter_rows(values_only=True))
    assert rows[0][0] == "序号"
    lines = [r for r in rows[1:] if isinstance(r[0], int)]
    assert len(lines) == 2
    assert sum(Decimal(str(r[7])) for r in lines) == submitted_roster.total_amount
    assert rows[-1][0] == "合计" and Decimal(str(rows[-1][7])) == Decimal("1510")
    summary = list(book["汇总"].iter_rows(values_only=True))
    assert Decimal(str(summary[-1][5])) == Decimal("1510")
    assert all(str(r[6]).startswith("*") for r in lines)  # masked for the unit


def test_county_finance_gets_whole_numbers_and_the_read_is_logged(
    people, submitted_roster, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = request_export(kind=ExportJob.Kind.COUNTY_XLSX, actor=people.finance, month=DECEMBER)

    book = _workbook(job)
    lines = [r for r in book["巴彦高勒镇"].iter_rows(values_only=True) if isinstance(r[0], int)]
    assert all(str(r[6]).isdigit() and len(str(r[6])) == 19 for r in lines)
    log = AuditLog.objects.get(action=AuditLog.Action.SENSITIVE_READ, user=people.finance)
    assert "2条" in log.detail


def test_a_supervisor_export_stays_masked_and_unlogged(
    people, submitted_roster, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = request_export(
            kind=ExportJob.Kind.COUNTY_XLSX, actor=people.supervisor, month=DECEMBER
        )
    lines = [
        r for r in _workbook(job)["巴彦高勒镇"].iter_rows(values_only=True) if isinstance(r[0], int)
    ]
    assert all(str(r[6]).startswith("*") for r in lines)
    assert not AuditLog.objects.filter(action=AuditLog.Action.SENSITIVE_READ).exists()


def test_the_roster_pdf_reads_back_in_chinese_with_an_embedded_cjk_font(submitted_roster):
    document = roster_pdf(submitted_roster)
    text = pdf_text(document)
    assert "资金发放清册" in text
    assert "巴彦高勒镇" in text
    assert "农村牧区低保" in text
    assert "第一责任人" in text and "孙镇长" in text
    assert "1510.00" in text
    assert has_embedded_cjk_font(document)


def test_the_county_pdf_reads_back_in_chinese(submitted_roster):
    text = pdf_text(county_pdf(DECEMBER))
    assert "请款汇总" in text and "巴彦高勒镇" in text and "1510.00" in text


def test_the_export_page_polls_and_downloads(
    people, login, submitted_roster, django_capture_on_commit_callbacks
):
    client = login(people.handler)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/disbursement/exports/", {"kind": "roster_xlsx", "roster": submitted_roster.pk}
        )
    assert response.status_code == 302
    status = client.get(response["Location"] + "?format=json").json()
    assert status["state"] == "done" and status["progress"] == 100
    download = client.get(response["Location"] + "download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content)[:2] == b"PK"
    other = login(people.handler2, c=__import__("django.test", fromlist=["Client"]).Client())
    assert other.get(response["Location"] + "download/").status_code == 404


def test_a_county_export_is_stored_under_a_random_name_and_saved_under_a_chinese_one(
    people, login, submitted_roster, django_capture_on_commit_callbacks
):
    from urllib.parse import unquote

    client = login(people.finance)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/disbursement/exports/", {"kind": "county_xlsx", "month": "2026-12"})
    job = ExportJob.objects.get(requested_by=people.finance)
    stored = job.file.name.rsplit("/", 1)[-1]
    assert "county" not in stored and "202612" not in stored
    assert len(stored.removesuffix(".xlsx")) >= 22  # 128 bits of token
    download = client.get(f"/files/export/{job.pk}/")
    assert download["Content-Disposition"].startswith("attachment;")
    assert unquote(download["Content-Disposition"]).endswith("全县-2026年12月-发放汇总.xlsx")


def test_downloading_a_full_account_export_is_audited_each_time(
    people, login, submitted_roster, django_capture_on_commit_callbacks
):
    client = login(people.finance)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/disbursement/exports/", {"kind": "county_xlsx", "month": "2026-12"})
    job = ExportJob.objects.get(requested_by=people.finance)
    reads = AuditLog.objects.filter(action=AuditLog.Action.SENSITIVE_READ, user=people.finance)
    generated = reads.count()
    for _ in range(3):
        assert client.get(f"/disbursement/exports/{job.pk}/download/").status_code == 200
    downloads = reads.filter(detail__startswith="下载文件")
    assert reads.count() - generated == 3 == downloads.count()
    assert {row.object_id for row in downloads} == {str(job.pk)}
