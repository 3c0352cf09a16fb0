"""Signed and archived records refuse change and delete from every path — a direct model
save, a queryset update, the page, the API, the admin and (on PostgreSQL) the database —
and every refused attempt is logged."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction

from accounts.audit import record
from accounts.models import AuditLog
from cases.documents.services import issue_document
from cases.models import CaseEvent, DocType, Document, Signature, State

from ..factories import UserFactory
from .builders import make_case


@pytest.fixture
def issued(people):
    case = make_case(people, State.APPROVED)
    return issue_document(case=case, doc_type=DocType.APPROVAL_DECISION, actor=people.handler)


def _protected_writes() -> int:
    return AuditLog.objects.filter(action=AuditLog.Action.PROTECTED_WRITE).count()


def test_a_direct_save_of_an_issued_document_is_refused_and_logged(issued):
    before = _protected_writes()
    issued.reason = "改一下"

    with pytest.raises(PermissionDenied):
        issued.save()
    with pytest.raises(PermissionDenied):
        issued.delete()

    assert _protected_writes() == before + 2
    assert Document.objects.get(pk=issued.pk).reason == ""


def test_queryset_updates_and_deletes_of_signed_records_are_refused(issued):
    updates = {Document: {"reason": "x"}, Signature: {"text": "x"}, CaseEvent: {"note": "x"}}
    for model, fields in updates.items():
        with pytest.raises(PermissionDenied):
            model.objects.filter(case=issued.case).update(**fields)
        with pytest.raises(PermissionDenied):
            model.objects.filter(case=issued.case).delete()
    signature = Signature.objects.filter(case=issued.case).first()
    signature.text = "改过的意见"
    with pytest.raises(PermissionDenied):
        signature.save()
    assert Signature.objects.get(pk=signature.pk).text != "改过的意见"


def test_the_page_refuses_a_change_with_409_and_logs_it(issued, people, login):
    client = login(people.handler)
    before = _protected_writes()

    shown = client.get(f"/documents/{issued.pk}/")
    changed = client.post(f"/documents/{issued.pk}/", {"number": "x"})
    deleted = client.delete(f"/documents/{issued.pk}/")

    assert shown.status_code == 200
    assert changed.status_code == 409 and deleted.status_code == 409
    assert "不可修改" in changed.content.decode()
    assert _protected_writes() == before + 2
    assert Document.objects.filter(pk=issued.pk, number=issued.number).exists()


def test_the_api_refuses_put_patch_and_delete_with_409(issued, people, api):
    client = api(people.handler)
    before = _protected_writes()

    assert client.get(f"/api/documents/{issued.pk}/").status_code == 200
    for method in (client.put, client.patch, client.delete):
        response = method(f"/api/documents/{issued.pk}/", {"reason": "x"}, format="json")
        assert response.status_code == 409, response.content
        assert "不可修改" in response.json()["detail"]
    assert _protected_writes() == before + 3


def test_the_case_api_offers_no_way_to_edit_a_case_record(issued, people, api):
    client = api(people.handler)

    for method in (client.put, client.patch, client.delete):
        response = method(f"/api/cases/{issued.case_id}/", {"state": "in_payment"}, format="json")
        assert response.status_code in (404, 405, 409), response.status_code


def test_the_admin_shows_but_never_changes_or_deletes_a_signed_record(issued, client):
    admin_user = UserFactory(is_staff=True, is_superuser=True, username="root")
    client.force_login(admin_user)
    signature = Signature.objects.filter(case=issued.case).first()
    before = _protected_writes()

    for url in (
        f"/admin/cases/document/{issued.pk}/change/",
        f"/admin/cases/signature/{signature.pk}/change/",
    ):
        assert client.get(url).status_code == 200
        assert client.post(url, {"number": "x", "text": "x"}).status_code == 403
    deleted = client.post(f"/admin/cases/document/{issued.pk}/delete/", {"post": "yes"})

    assert deleted.status_code == 403
    assert Document.objects.filter(pk=issued.pk).exists()
    assert _protected_writes() >= before + 3


@pytest.mark.django_db(transaction=False)
def test_postgresql_itself_refuses_update_and_delete_of_signed_rows(issued):
    for sql in (
        "UPDATE cases_document SET reason = 'x' WHERE id = %s",
        "DELETE FROM cases_document WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [issued.pk])
    log = record(AuditLog.Action.SENSITIVE_READ, detail="测试")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_auditlog SET detail = 'x' WHERE id = %s", [log.pk])
