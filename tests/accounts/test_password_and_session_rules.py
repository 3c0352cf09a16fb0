"""MLPS 2.0 level 3 rules: password strength and age, idle sessions, the audit log kept intact."""

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from accounts.models import AuditLog

from ..factories import PASSWORD


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Ab1!", "至少需要10个字符"),
        ("abcdefghijk", "至少3类"),
        ("password123", "太常见"),
        ("Abcdefghijk", "至少3类"),
    ],
)
def test_weak_passwords_are_refused(password, reason, db):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        validate_password(password)
    assert reason in " ".join(refused.value.messages)


def test_a_strong_password_passes(db):
    validate_password("Dengkou#2026pass")


def test_an_expired_password_must_be_changed_before_anything_else(client, people, login):
    people.handler.password_changed_at = timezone.now() - timedelta(days=91)
    people.handler.save(update_fields=["password_changed_at"])
    login(people.handler)
    response = client.get("/home/")
    assert response.status_code == 302 and response["Location"] == "/accounts/password/"
    page = client.get("/accounts/password/").content.decode()
    assert "超过90天" in page
    changed = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "Nanjing@2027ok",
            "new_password2": "Nanjing@2027ok",
        },
    )
    assert changed.status_code == 302
    assert client.get("/home/").status_code == 200
    assert AuditLog.objects.filter(action="password_changed", user=people.handler).exists()


def test_first_login_forces_a_password_change(client, people, login):
    people.handler.must_change_password = True
    people.handler.save(update_fields=["must_change_password"])
    login(people.handler)
    assert client.get("/home/")["Location"] == "/accounts/password/"


def test_idle_sessions_end_after_thirty_minutes(client, people, login):
    from django.contrib.sessions.models import Session

    assert settings.SESSION_COOKIE_AGE == 30 * 60
    login(people.handler)
    client.get("/home/")
    key = client.session.session_key
    first = Session.objects.get(session_key=key).expire_date
    assert timedelta(minutes=29) < first - timezone.now() <= timedelta(minutes=30)

    # Read-only pages within the minute write nothing; after it, the expiry slides forward.
    client.get("/home/")
    assert Session.objects.get(session_key=key).expire_date == first
    with mock.patch("accounts.middleware.time.time", return_value=time.time() + 61):
        client.get("/home/")
    assert Session.objects.get(session_key=key).expire_date > first

    # Thirty idle minutes later the session is gone and the user signs in again.
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert client.get("/home/")["Location"].startswith("/accounts/login/")


def test_the_audit_log_cannot_be_changed_or_deleted(people):
    entry = AuditLog.objects.create(action="login", username="x")
    entry.detail = "edited"
    with pytest.raises(PermissionDenied):
        entry.save()
    with pytest.raises(PermissionDenied):
        entry.delete()
    with pytest.raises(PermissionDenied):
        AuditLog.objects.filter(pk=entry.pk).update(detail="edited")
    with pytest.raises(PermissionDenied):
        AuditLog.objects.all().delete()
    assert settings.AUDIT_RETENTION_DAYS >= 180


def test_a_user_without_a_unit_is_told_so(client, db):
    from ..factories import UserFactory

    UserFactory(username="nounit", unit=None, roles=[])
    client.post("/accounts/login/", {"username": "nounit", "password": PASSWORD})
    page = client.get("/home/").content.decode()
    assert "尚未分配所在单位" in page
