"""Sign-in for browsers and tablets, two factors, lock-out per account, audit."""

from django.urls import reverse

from accounts.models import AuditLog

from ..conftest import current_otp
from ..factories import PASSWORD


def test_handler_signs_in_to_their_home_page(client, people, login):
    login(people.handler)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "经办人" in response.content.decode()
    assert AuditLog.objects.filter(action="login", username="handler_a").exists()


def test_a_wrong_password_gets_a_chinese_message_and_is_logged(client, people):
    response = client.post("/accounts/login/", {"username": "handler_a", "password": "nope"})
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()
    assert AuditLog.objects.filter(action="login_failed", username="handler_a").exists()


def test_an_unknown_user_gets_the_same_message(client, people):
    response = client.post("/accounts/login/", {"username": "nobody", "password": "x"})
    assert "用户名或密码错误" in response.content.decode()


def test_a_signing_leader_needs_a_one_time_code(client, people):
    data = {"username": "direct_a", "password": PASSWORD}
    response = client.post("/accounts/login/", data)
    assert response.status_code == 200
    assert "动态口令缺失或错误" in response.content.decode()
    data["otp_token"] = current_otp(people.direct)
    assert client.post("/accounts/login/", data).status_code == 302


def test_five_failures_lock_the_account_for_everyone_but_not_colleagues(client, people):
    for i in range(5):
        client.post(
            "/accounts/login/",
            {"username": "handler_a", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"10.0.0.{i}",
        )
    locked = client.post(
        "/accounts/login/",
        {"username": "handler_a", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="10.9.9.9",
    )
    assert locked.status_code == 403
    assert "锁定" in locked.content.decode()
    assert AuditLog.objects.filter(action="locked_out", username="handler_a").exists()
    # A colleague in the same office (same address) still signs in.
    colleague = client.post("/accounts/login/", {"username": "handler_a2", "password": PASSWORD})
    assert colleague.status_code == 302


def test_tablet_token_sign_in_and_expiry(people, settings):
    from datetime import timedelta

    from rest_framework.test import APIClient

    c = APIClient()
    response = c.post(
        "/api/auth/token/", {"username": "assistant_a", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    c.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert c.get("/api/me/").json()["username"] == "assistant_a"
    settings.API_TOKEN_TTL = timedelta(seconds=-1)
    expired = c.get("/api/me/")
    assert expired.status_code == 401
    assert "令牌已过期" in expired.json()["detail"]
