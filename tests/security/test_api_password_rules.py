"""The API keeps the pages' password rules, and its tokens end like sessions do.

A must-change or expired password answers 403 with the reason on every API call but the
password change; any password change ends the user's tokens; a token ends after 30 idle
minutes and 12 hours after sign-in.
"""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, AuditLog

from ..factories import PASSWORD

NEW_PASSWORD = "Nanjing@2027ok"


def token_client(username: str, password: str = PASSWORD) -> tuple[APIClient, str]:
    c = APIClient()
    response = c.post(
        "/api/auth/token/", {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content.decode()
    key = response.json()["token"]
    c.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return c, key


def change_over_api(c: APIClient, old: str = PASSWORD, new: str = NEW_PASSWORD):
    return c.post("/api/auth/password/", {"old_password": old, "new_password": new}, format="json")


def soon() -> datetime:
    """A whole second just ahead of now: after the named people's passwords were set."""
    return timezone.now().replace(microsecond=0) + timedelta(seconds=2)


@pytest.fixture
def must_change(people):
    people.assistant.must_change_password = True
    people.assistant.save(update_fields=["must_change_password"])
    return people.assistant


def test_a_must_change_user_gets_403_with_the_reason_on_every_call_until_changed(must_change):
    c, _ = token_client(must_change.username)
    for path in ("/api/me/", "/api/cases/", "/api/disbursement/rosters/"):
        refused = c.get(path)
        assert refused.status_code == 403, path
        assert "首次登录须修改初始密码" in refused.json()["detail"]
        assert refused.json()["code"] == "password_change_required"

    assert change_over_api(c).status_code == 200
    must_change.refresh_from_db()
    assert must_change.must_change_password is False
    assert AuditLog.objects.filter(action="password_changed", user=must_change).exists()

    fresh, _ = token_client(must_change.username, NEW_PASSWORD)
    assert fresh.get("/api/me/").status_code == 200


def test_an_expired_password_is_refused_on_the_api_through_the_browser_session_too(
    client, people, login
):
    people.handler.password_changed_at = timezone.now() - timedelta(days=91)
    people.handler.save(update_fields=["password_changed_at"])
    login(people.handler)
    refused = client.get("/api/me/")
    assert refused.status_code == 403
    assert "密码已超过90天未修改" in refused.json()["detail"]

    changed = client.post(
        "/api/auth/password/",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        content_type="application/json",
    )
    assert changed.status_code == 200
    assert client.get("/api/me/").status_code == 200  # the session itself stays signed in


def test_a_current_password_passes_the_same_calls(people):
    c, _ = token_client(people.assistant.username)
    assert c.get("/api/me/").status_code == 200


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("wrong-old-Pass1", NEW_PASSWORD, "old_password", "原密码不正确"),
        (PASSWORD, "short1A", "new_password", "至少需要10个字符"),
        (PASSWORD, "abcdefghijkl", "new_password", "至少3类"),
    ],
)
def test_the_api_password_change_applies_the_password_rules(must_change, old, new, field, message):
    c, _ = token_client(must_change.username)
    refused = change_over_api(c, old, new)
    assert refused.status_code == 400
    assert message in " ".join(refused.json()[field])
    must_change.refresh_from_db()
    assert must_change.must_change_password is True


def test_an_api_password_change_ends_the_token_it_was_made_with(people):
    c, key = token_client(people.assistant.username)
    assert change_over_api(c).status_code == 200
    assert not ApiToken.objects.filter(key=key).exists()
    assert c.get("/api/me/").status_code == 401


def test_a_page_password_change_ends_the_users_tokens(client, people, login):
    tablet, key = token_client(people.handler.username)
    login(people.handler)
    client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert not ApiToken.objects.filter(key=key).exists()
    refused = tablet.get("/api/me/")
    assert refused.status_code == 401


def test_an_administrators_password_reset_ends_the_users_tokens(people):
    tablet, _ = token_client(people.handler.username)
    assert tablet.get("/api/me/").status_code == 200
    # However the password is set (admin form, changepassword command), set_password dates it.
    people.handler.set_password(NEW_PASSWORD)
    people.handler.save(update_fields=["password", "password_changed_at"])
    refused = tablet.get("/api/me/")
    assert refused.status_code == 401
    assert "密码已修改" in refused.json()["detail"]
    assert AuditLog.objects.filter(
        action="token_rejected", user=people.handler, detail="token revoked by password change"
    ).exists()


def test_a_token_ends_after_thirty_idle_minutes(people):
    start = soon()
    with time_machine.travel(start, tick=False) as clock:
        c, _ = token_client(people.assistant.username)
        clock.shift(timedelta(minutes=29))
        assert c.get("/api/me/").status_code == 200
        clock.shift(timedelta(minutes=29))  # 29 minutes after the last use, 58 after sign-in
        assert c.get("/api/me/").status_code == 200
        clock.shift(timedelta(minutes=30, seconds=1))
        refused = c.get("/api/me/")
    assert refused.status_code == 401
    assert "长时间未使用" in refused.json()["detail"]


def test_last_use_is_written_at_most_once_a_minute(people):
    start = soon()
    with time_machine.travel(start, tick=False) as clock:
        c, key = token_client(people.assistant.username)
        clock.shift(timedelta(seconds=59))
        c.get("/api/me/")
        assert ApiToken.objects.get(key=key).last_used_at == start
        clock.shift(timedelta(seconds=1))
        c.get("/api/me/")
        assert ApiToken.objects.get(key=key).last_used_at == start + timedelta(minutes=1)


def test_a_token_in_steady_use_ends_twelve_hours_after_sign_in(people):
    start = soon()
    with time_machine.travel(start, tick=False) as clock:
        c, _ = token_client(people.assistant.username)
        for _ in range(12 * 3):
            clock.shift(timedelta(minutes=20))
            assert c.get("/api/me/").status_code == 200
        clock.shift(timedelta(seconds=1))
        refused = c.get("/api/me/")
    assert refused.status_code == 401
    assert "令牌已过期" in refused.json()["detail"]
