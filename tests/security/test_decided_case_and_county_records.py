"""A decided case's materials stay as they were; an ID number on another unit's books is
refused without naming that unit, and the hit is audited."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import AuditLog
from cases.documents import archive
from cases.models import CaseFile, State
from dengkou_aid.errors import Conflict

from ..factories import CaseFactory, HouseholdFactory, PersonFactory, unique_id_number
from ..files import pdf_bytes, png_bytes


def case_with_a_file(people, state):
    household = HouseholdFactory(village=people.village_a)
    case = CaseFactory(
        applicant=PersonFactory(household=household), household=household, state=state
    )
    original = CaseFile.objects.create(
        case=case,
        category="material",
        file=ContentFile(pdf_bytes(), name="original.pdf"),
        original_name="申请书.pdf",
        mime="application/pdf",
        size=1,
        sha256="0" * 64,
        uploaded_by=people.handler,
    )
    return case, original


def correct(client, case, original):
    return client.post(
        f"/documents/cases/{case.pk}/files/{original.pk}/correct/",
        {"file": SimpleUploadedFile("更正.png", png_bytes()), "correction_reason": "扫描不清"},
    )


@pytest.mark.parametrize(
    ("state", "allowed"),
    [
        (State.ACCEPTED, True),
        (State.CONFIRMED, False),
        (State.APPROVED, False),
        (State.IN_PAYMENT, False),
    ],
)
def test_a_correction_is_refused_once_the_case_is_decided(people, login, state, allowed):
    case, original = case_with_a_file(people, state)
    response = correct(login(people.handler), case, original)
    if allowed:
        assert response.status_code == 302
        assert original.superseded_by.count() == 1
        return
    page = response.content.decode()
    assert response.status_code == 409
    assert "审核确认所依据的材料不能再更正或替换" in page
    assert 'data-testid="correction-error"' in page
    assert original.superseded_by.count() == 0


def test_a_refused_correction_file_is_named_next_to_its_form_with_the_reason_kept(people, login):
    case, original = case_with_a_file(people, State.ACCEPTED)
    response = login(people.handler).post(
        f"/documents/cases/{case.pk}/files/{original.pk}/correct/",
        {"file": SimpleUploadedFile("更正.svg", b"<svg></svg>"), "correction_reason": "扫描不清"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="correction-error">文件类型不允许' in page
    assert 'value="扫描不清"' in page


def test_the_service_refuses_the_correction_of_a_decided_case_too(people):
    case, original = case_with_a_file(people, State.APPROVED)
    upload = SimpleUploadedFile("更正.png", png_bytes())
    with pytest.raises(Conflict, match="不能再更正或替换"):
        archive.correct_file(
            case=case, original=original, upload=upload, reason="扫描不清", actor=people.handler
        )


def test_the_decided_case_archive_offers_no_correction_form(people, login):
    case, _ = case_with_a_file(people, State.APPROVED)
    page = login(people.handler).get(f"/documents/cases/{case.pk}/archive/").content.decode()
    assert "新增更正版本" not in page


def application(people, *members):
    return {
        "kind": "dibao",
        "area": "rural",
        "village": people.village_a.pk,
        **{f"m{i}_name": name for i, (name, _) in enumerate(members)},
        **{f"m{i}_id": number for i, (_, number) in enumerate(members)},
    }


@pytest.mark.parametrize("position", [0, 1])
def test_an_id_registered_in_another_unit_is_refused_without_naming_it(people, login, position):
    registered = PersonFactory(household=HouseholdFactory(village=people.village_b))
    members = [("张三", unique_id_number())]
    members.insert(position, ("李四", registered.id_number))
    response = login(people.handler).post("/cases/new/", application(people, *members))
    page = response.content.decode()
    assert response.status_code == 409
    assert "在本县其他单位已有在办或在保记录" in page
    assert people.unit_b.name not in page and people.unit_b.code not in page
    assert people.village_b.name not in page
    hit = AuditLog.objects.get(action=AuditLog.Action.ACCESS_DENIED, user=people.handler)
    assert (hit.object_type, hit.object_id) == ("cases.Person", str(registered.pk))
    assert people.unit_b.code in hit.detail and registered.id_number not in hit.detail


def test_each_cross_unit_hit_through_the_api_is_audited(people, api):
    registered = PersonFactory(household=HouseholdFactory(village=people.village_b))
    client = api(people.handler)
    body = {
        "kind": "dibao",
        "area": "rural",
        "village": people.village_a.pk,
        "members": [{"name": "李四", "id_number": registered.id_number}],
    }
    responses = [client.post("/api/cases/", body, format="json") for _ in range(2)]
    assert [r.status_code for r in responses] == [409, 409]
    assert all(people.unit_b.name not in r.content.decode() for r in responses)
    assert "在本县其他单位已有在办或在保记录" in responses[0].json()["detail"]
    assert AuditLog.objects.filter(action=AuditLog.Action.ACCESS_DENIED).count() == 2


def test_a_new_id_files_normally_and_writes_no_audit_row(people, login):
    response = login(people.handler).post(
        "/cases/new/", application(people, ("张三", unique_id_number()))
    )
    assert response.status_code == 302
    assert not AuditLog.objects.filter(action=AuditLog.Action.ACCESS_DENIED).exists()
