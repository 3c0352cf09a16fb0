"""Stored files leave the server only through the signed-in, permission-checked door."""

from __future__ import annotations

import hashlib
import importlib
import io
from datetime import date
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import Resolver404, clear_url_caches, resolve
from openpyxl import Workbook

from accounts.models import AuditLog
from cases.models import CaseFile, DocType, Document, FileCategory
from disbursement.models import ExportJob, ImportBatch
from supervision.models import Bulletin, SpotCheckDraw, SpotCheckPhoto, SpotCheckSample

from ..factories import CaseFactory, HouseholdFactory, PersonFactory

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


def xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


def _stored(record, field_name: str, name: str, data: bytes):
    getattr(record, field_name).save(name, ContentFile(data), save=False)
    record.save()
    return record


@pytest.fixture
def case_a(people):
    household = HouseholdFactory(village=people.village_a)
    return CaseFactory(applicant=PersonFactory(household=household))


@pytest.fixture
def stored(people, case_a):
    """One stored file of every kind, each with the person it belongs to."""
    material = _stored(
        CaseFile(
            case=case_a,
            category=FileCategory.MATERIAL,
            original_name="户口簿.jpg",
            mime="image/jpeg",
            size=len(JPEG),
            sha256=hashlib.sha256(JPEG).hexdigest(),
            uploaded_by=people.handler,
        ),
        "file",
        "hukou.jpg",
        JPEG,
    )
    document = _stored(
        Document(
            case=case_a,
            unit=people.unit_a,
            doc_type=DocType.APPROVAL_DECISION,
            year=2026,
            seq=1,
            number="巴民批〔2026〕1号",
            sha256=hashlib.sha256(PDF).hexdigest(),
            generated_by=people.handler,
        ),
        "file",
        "decision.pdf",
        PDF,
    )
    export = _stored(
        ExportJob(
            kind=ExportJob.Kind.COUNTY_XLSX,
            month=date(2026, 12, 1),
            full_accounts=True,
            requested_by=people.finance,
            state=ExportJob.State.DONE,
        ),
        "file",
        "county-202612.xlsx",
        xlsx_bytes(),
    )
    batch = _stored(
        ImportBatch(
            kind=ImportBatch.Kind.CASELOAD,
            file_name="在保家庭.csv",
            sha256="0" * 64,
            size=10,
            unit=people.unit_a,
            uploaded_by=people.handler,
        ),
        "file",
        "caseload.csv",
        "身份证号,账号\n150822197001010011,6222021234567890128\n".encode(),
    )
    bulletin = _stored(
        Bulletin(
            period_start=date(2026, 3, 1),
            period_end=date(2026, 3, 31),
            unit=people.unit_a,
            title="2026年3月工作通报",
            sha256=hashlib.sha256(PDF).hexdigest(),
            issued_by=people.supervisor,
        ),
        "file",
        "bulletin.pdf",
        PDF,
    )
    draw = SpotCheckDraw.objects.create(
        period_start=date(2026, 3, 1),
        period_end=date(2026, 3, 31),
        seed=7,
        drawn_by=people.supervisor,
        method="test",
    )
    sample = SpotCheckSample.objects.create(
        draw=draw, case=case_a, unit=people.unit_a, kind=case_a.kind, stratum_size=1
    )
    photo = _stored(
        SpotCheckPhoto(
            sample=sample,
            mime="image/png",
            size=len(PNG),
            sha256=hashlib.sha256(PNG).hexdigest(),
            uploaded_by=people.supervisor,
        ),
        "file",
        "photo.png",
        PNG,
    )
    K = SimpleNamespace
    return {
        "material": K(obj=material, owner=people.handler, other=people.outsider, sensitive=True),
        "document": K(obj=document, owner=people.handler, other=people.outsider, sensitive=False),
        "export": K(obj=export, owner=people.finance, other=people.supervisor, sensitive=True),
        "import": K(obj=batch, owner=people.handler, other=people.outsider, sensitive=True),
        "bulletin": K(
            obj=bulletin, owner=people.first, other=people.outsider_direct, sensitive=False
        ),
        "photo": K(obj=photo, owner=people.supervisor, other=people.outsider, sensitive=True),
    }


def door(kind: str, record) -> str:
    return f"/files/{kind}/{record.pk}/"


def test_anonymous_requests_for_every_stored_file_kind_get_nothing(stored):
    anonymous = Client()
    served = 0
    for kind, entry in stored.items():
        for url in (f"/media/{entry.obj.file.name}", door(kind, entry.obj)):
            response = anonymous.get(url)
            served += response.status_code == 200
            assert response.status_code in (302, 404), (url, response.status_code)
    assert served == 0
    assert len(stored) == 6


def test_no_url_map_routes_media_root_even_with_debug_on(settings):
    import dengkou_aid.urls

    settings.DEBUG = True
    try:
        clear_url_caches()
        importlib.reload(dengkou_aid.urls)
        with pytest.raises(Resolver404):
            resolve("/media/exports/2026/12/county-202612.xlsx")
    finally:
        settings.DEBUG = False
        clear_url_caches()
        importlib.reload(dengkou_aid.urls)


def test_another_units_user_gets_404_for_every_kind_and_the_refusal_is_audited(stored, login):
    for kind, entry in stored.items():
        client = login(entry.other, Client())
        assert client.get(door(kind, entry.obj)).status_code == 404, kind
    assert AuditLog.objects.filter(action=AuditLog.Action.ACCESS_DENIED).count() >= len(stored)


def test_a_missing_file_and_an_unknown_kind_answer_404_like_a_refusal(stored, login, people):
    client = login(people.handler)
    assert client.get("/files/material/999999/").status_code == 404
    assert client.get(f"/files/nonsense/{stored['material'].obj.pk}/").status_code == 404


def test_the_owner_gets_each_file_with_its_detected_type_and_nosniff(stored, login):
    expected = {
        "material": ("image/jpeg", "inline", "户口簿.jpg"),
        "document": ("application/pdf", "inline", "巴民批〔2026〕1号.pdf"),
        "export": (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "attachment",
            "全县-2026年12月-发放汇总.xlsx",
        ),
        "import": ("application/octet-stream", "attachment", "在保家庭.csv"),
        "bulletin": ("application/pdf", "inline", "工作通报-2026年3月工作通报.pdf"),
        "photo": ("image/png", "inline", "抽查照片-"),
    }
    from urllib.parse import unquote

    for kind, entry in stored.items():
        response = login(entry.owner, Client()).get(door(kind, entry.obj))
        mime, disposition, name = expected[kind]
        assert response.status_code == 200, kind
        assert response["Content-Type"] == mime, kind
        assert response["X-Content-Type-Options"] == "nosniff", kind
        assert response["Content-Disposition"].startswith(disposition + ";"), kind
        assert name in unquote(response["Content-Disposition"]), kind
        with entry.obj.file.open("rb") as handle:
            assert b"".join(response.streaming_content) == handle.read(), kind


def test_an_html_named_stored_file_is_never_served_as_html(people, case_a, login):
    disguised = [
        ("scan.html", HTML),  # real HTML: sent as an opaque attachment
        ("scan.htm", PDF),  # a PDF under an HTML name: sent as a PDF named .pdf
        ("scan.svg", PNG),
    ]
    client = login(people.handler)
    for name, data in disguised:
        case_file = _stored(
            CaseFile(
                case=case_a,
                category=FileCategory.OTHER,
                original_name=name,
                mime="application/pdf",
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                uploaded_by=people.handler,
            ),
            "file",
            name,
            data,
        )
        response = client.get(door("material", case_file))
        assert response.status_code == 200
        assert "html" not in response["Content-Type"] and "svg" not in response["Content-Type"]
        disposition = response["Content-Disposition"]
        assert ".htm" not in disposition and ".svg" not in disposition, disposition
        if data is HTML:
            assert response["Content-Type"] == "application/octet-stream"
            assert disposition.startswith("attachment;")


def test_sensitive_downloads_write_an_audit_row_each_time(stored, login):
    for kind, entry in stored.items():
        client = login(entry.owner, Client())
        before = AuditLog.objects.filter(action=AuditLog.Action.SENSITIVE_READ).count()
        for _ in range(2):
            assert client.get(door(kind, entry.obj)).status_code == 200
        rows = AuditLog.objects.filter(action=AuditLog.Action.SENSITIVE_READ)
        written = rows.count() - before
        assert written == (2 if entry.sensitive else 0), kind
        if entry.sensitive:
            row = rows.order_by("-id").first()
            assert row.user == entry.owner
            assert row.object_type == entry.obj._meta.label
            assert row.object_id == str(entry.obj.pk)
            assert row.path == door(kind, entry.obj)


def test_a_masked_export_downloads_without_an_audit_row(stored, login, people):
    export = stored["export"].obj
    ExportJob.objects.filter(pk=export.pk).update(full_accounts=False)
    assert login(people.finance).get(door("export", export)).status_code == 200
    assert not AuditLog.objects.filter(action=AuditLog.Action.SENSITIVE_READ).exists()


def test_a_document_whose_bytes_changed_is_refused(stored, login, people):
    document = stored["document"].obj
    with open(document.file.path, "ab") as handle:
        handle.write(b"tampered")
    response = login(people.handler).get(door("document", document))
    assert response.status_code == 409
    assert "摘要不一致" in response.content.decode()


def test_with_the_accel_setting_nginx_sends_the_bytes(stored, login, settings):
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    entry = stored["material"]
    response = login(entry.owner).get(door("material", entry.obj))
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-media/{entry.obj.file.name}"
    assert response.content == b""
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert AuditLog.objects.filter(action=AuditLog.Action.SENSITIVE_READ).count() == 1


def test_without_the_accel_setting_no_accel_header_is_sent(stored, login):
    entry = stored["document"]
    response = login(entry.owner).get(door("document", entry.obj))
    assert "X-Accel-Redirect" not in response


def test_the_older_download_paths_go_through_the_same_door(stored, login, people):
    bulletin = stored["bulletin"].obj
    document = stored["document"].obj
    export = stored["export"].obj
    assert Client().get(f"/documents/{document.pk}/file/").status_code == 302
    handler = login(people.handler)
    assert handler.get(f"/documents/{document.pk}/file/")["Content-Type"] == "application/pdf"
    assert handler.get(f"/disbursement/exports/{export.pk}/download/").status_code == 404
    leader = login(people.first, Client())
    assert leader.get(f"/supervision/bulletins/{bulletin.pk}/pdf/").status_code == 200
    finance = login(people.finance, Client())
    assert finance.get(f"/disbursement/exports/{export.pk}/download/").status_code == 200
    assert AuditLog.objects.filter(action=AuditLog.Action.SENSITIVE_READ).count() == 1


def test_the_archive_and_the_api_link_to_the_door(stored, login, api, people, case_a):
    material = stored["material"].obj
    document = stored["document"].obj
    page = login(people.handler).get(f"/documents/cases/{case_a.pk}/archive/").content.decode()
    assert door("material", material) in page
    assert door("document", document) in page
    assert "/media/" not in page
    files = api(people.handler).get(f"/api/cases/{case_a.pk}/materials/")
    assert files.json()[0]["file_url"] == door("material", material)
