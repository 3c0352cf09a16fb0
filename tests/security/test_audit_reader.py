"""The audit reader reads the audit log and nothing else; nobody else reads it, and nobody
changes or deletes a row of it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from accounts.audit import record
from accounts.models import AuditLog

ELSEWHERE = [
    "/cases/",
    "/supervision/",
    "/disbursement/",
    "/reviews/",
    "/documents/ledgers/",
    "/imports/",
    "/api/cases/",
    "/api/supervision/findings/",
]


def test_the_audit_reader_reads_the_audit_log_with_filters(auditor, people, login, client):
    record(
        AuditLog.Action.ROLE_GRANTED, user=people.supervisor, detail="为newcomer授予角色：经办人"
    )
    record(AuditLog.Action.LOGIN_FAILED, username="stranger")
    login(auditor)
    page = client.get("/accounts/audit-log/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "为newcomer授予角色：经办人" in body and "stranger" in body
    assert "审计日志" in client.get("/home/").content.decode()
    filtered = client.get("/accounts/audit-log/", {"action": "login_failed"}).content.decode()
    assert "stranger" in filtered and "newcomer" not in filtered


def test_the_audit_reader_gets_nothing_else(auditor, login, client):
    login(auditor)
    answers = {url: client.get(url).status_code for url in ELSEWHERE}
    assert {url: code for url, code in answers.items() if code not in (403, 404)} == {}
    assert client.get("/admin/").status_code == 403


def test_the_audit_reader_gets_no_api_token(auditor):
    from rest_framework.test import APIClient

    from ..conftest import PASSWORD, current_otp

    body = {"username": "auditor", "password": PASSWORD, "otp_token": current_otp(auditor)}
    response = APIClient().post("/api/auth/token/", body, format="json")
    assert response.status_code == 403
    assert "审计" in response.json()["detail"]


@pytest.mark.parametrize("who", ["sysadmin", "supervisor", "first", "handler"])
def test_nobody_else_reads_the_audit_log(who, sysadmin, people, login, client):
    user = sysadmin if who == "sysadmin" else getattr(people, who)
    login(user)
    assert client.get("/accounts/audit-log/").status_code == 403


def test_no_audit_row_can_be_changed_or_deleted(people):
    row = record(AuditLog.Action.LOGIN, user=people.handler)
    attempts = [
        lambda: row.save(),
        lambda: row.delete(),
        lambda: AuditLog.objects.filter(pk=row.pk).update(detail="x"),
        lambda: AuditLog.objects.filter(pk=row.pk).delete(),
    ]
    refused = 0
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
        refused += 1
    assert refused == len(attempts)
    assert AuditLog.objects.get(pk=row.pk).detail == ""


def test_the_audit_log_names_objects_in_chinese_not_by_their_code_names(
    auditor, people, login, client
):
    record(AuditLog.Action.ROLE_GRANTED, user=people.supervisor, obj=people.handler)
    record(AuditLog.Action.ACCESS_DENIED, user=people.outsider, detail="case_file#7")
    record(AuditLog.Action.ACCESS_DENIED, user=people.outsider, detail="file:export#8")
    login(auditor)
    body = client.get("/accounts/audit-log/").content.decode()
    assert f"用户#{people.handler.pk}" in body
    assert "案件附件#7" in body and "文件（导出文件）#8" in body
    for code_name in ("accounts.User", "case_file#", "file:export"):
        assert code_name not in body
