"""After the administrator resets a leader's second factor, the leader binds a new token at
the next sign-in; its key is shown to the leader alone, and the binding is audited."""

from __future__ import annotations

from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditLog
from accounts.services import reset_second_factor

from ..factories import PASSWORD


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_a_leader_binds_a_new_token_after_a_reset(sysadmin, people):
    reset_second_factor(user=people.first, actor=sysadmin)
    client = Client()
    response = client.post("/accounts/login/", {"username": "first_a", "password": PASSWORD})
    assert response.url == "/accounts/login/token/"
    page = client.get(response.url)
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=people.first, confirmed=False)
    assert page.context["secret"] in page.content.decode()

    wrong = client.post("/accounts/login/token/", {"otp_token": "000000"})
    assert "动态口令错误" in wrong.content.decode()
    assert client.get("/cases/").status_code == 302  # not signed in yet
    throttled = client.post("/accounts/login/token/", {"otp_token": code_for(device)})
    assert "请稍等片刻再试" in throttled.content.decode()
    device.throttle_reset()

    done = client.post("/accounts/login/token/", {"otp_token": code_for(device)})
    assert done.url == "/home/"
    assert client.get("/cases/").status_code == 200
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    [row] = AuditLog.objects.filter(action=AuditLog.Action.OTP_ENROLLED)
    assert row.user == people.first


def test_the_binding_page_needs_the_password_first(people):
    TOTPDevice.objects.filter(user=people.first).delete()
    client = Client()
    assert client.get("/accounts/login/token/").url == "/accounts/login/"
    assert not TOTPDevice.objects.filter(user=people.first).exists()


def test_a_leader_with_a_token_cannot_bind_another_by_password_alone(people):
    client = Client()
    response = client.post("/accounts/login/", {"username": "first_a", "password": PASSWORD})
    assert response.status_code == 200
    assert "动态口令缺失或错误" in response.content.decode()
    assert client.get("/accounts/login/token/").url == "/accounts/login/"
