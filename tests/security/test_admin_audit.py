"""What the system administrator does to an account is in the audit log, naming him: a role
granted or removed, a password set, a second factor reset."""

from __future__ import annotations

from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditLog, Role, RoleGrant

from ..factories import PASSWORD, UserFactory
from .conftest import form_data

NEW_PASSWORD = "Dengkou#2027reset"


def audit_rows(action: str, target) -> list[AuditLog]:
    return list(AuditLog.objects.filter(action=action, object_id=str(target.pk)))


def post_change_form(client, user, **changes):
    url = f"/admin/accounts/user/{user.pk}/change/"
    data = form_data(client.get(url).content.decode())
    data.update({name.replace("__", "-"): [value] for name, value in changes.items()})
    return client.post(url, data)


def set_password(client, user):
    return client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "set_usable_password": "true"},
    )


def test_granting_and_removing_a_role_in_admin_each_write_an_audit_row(
    sysadmin, people, login, client
):
    newcomer = UserFactory(unit=people.unit_a, username="newcomer", full_name="新经办")
    login(sysadmin)
    assert post_change_form(client, newcomer, role_grants__0__role=Role.HANDLER).status_code == 302
    [granted] = audit_rows(AuditLog.Action.ROLE_GRANTED, newcomer)
    assert (granted.user, granted.username) == (sysadmin, "sysadmin")
    assert "经办人" in granted.detail and "newcomer" in granted.detail

    assert post_change_form(client, newcomer, role_grants__0__DELETE="on").status_code == 302
    assert not RoleGrant.objects.filter(user=newcomer).exists()
    [removed] = audit_rows(AuditLog.Action.ROLE_REMOVED, newcomer)
    assert removed.user == sysadmin and "经办人" in removed.detail


def test_a_refused_grant_writes_no_grant_row(sysadmin, login, client):
    login(sysadmin)
    post_change_form(client, sysadmin, role_grants__1__role=Role.FIRST_RESPONSIBLE)
    assert audit_rows(AuditLog.Action.ROLE_GRANTED, sysadmin) == []


def test_a_password_set_by_the_administrator_is_audited(sysadmin, people, login, client):
    login(sysadmin)
    response = set_password(client, people.handler)
    assert response.status_code == 302
    people.handler.refresh_from_db()
    assert people.handler.check_password(NEW_PASSWORD)
    [row] = audit_rows(AuditLog.Action.PASSWORD_RESET, people.handler)
    assert row.user == sysadmin and "handler_a" in row.detail
    assert NEW_PASSWORD not in row.detail


def test_in_production_the_user_must_change_a_password_the_administrator_set(
    sysadmin, people, login, client, settings
):
    login(sysadmin)
    settings.PRODUCTION = True
    assert set_password(client, people.handler).status_code == 302
    settings.PRODUCTION = False
    people.handler.refresh_from_db()
    assert people.handler.must_change_password
    assert (
        "下次登录须修改密码" in audit_rows(AuditLog.Action.PASSWORD_RESET, people.handler)[0].detail
    )
    # Signing in with it leads straight to the password change page.
    signed_in = client.__class__()
    signed_in.post("/accounts/login/", {"username": "handler_a", "password": NEW_PASSWORD})
    assert signed_in.get("/cases/").url == "/accounts/password/"


def test_an_invalid_password_form_changes_nothing(sysadmin, people, login, client):
    login(sysadmin)
    response = client.post(
        f"/admin/accounts/user/{people.handler.pk}/password/",
        {"password1": "short", "password2": "short", "set_usable_password": "true"},
    )
    assert response.status_code == 200
    people.handler.refresh_from_db()
    assert people.handler.check_password(PASSWORD)
    assert audit_rows(AuditLog.Action.PASSWORD_RESET, people.handler) == []


def test_resetting_a_second_factor_removes_the_devices_and_is_audited(
    sysadmin, people, login, client
):
    StaticDevice.objects.create(user=people.first, name="备用码", confirmed=True)
    login(sysadmin)
    response = client.post(
        "/admin/accounts/user/",
        {"action": "reset_two_factor", "_selected_action": [people.first.pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=people.first).exists()
    assert not StaticDevice.objects.filter(user=people.first).exists()
    [row] = audit_rows(AuditLog.Action.OTP_RESET, people.first)
    assert row.user == sysadmin and "删除2个" in row.detail
    assert TOTPDevice.objects.filter(user=people.direct).exists()


def test_a_refused_grant_is_audited_as_a_refusal_naming_the_role_and_the_administrator(
    sysadmin, login, client
):
    login(sysadmin)
    post_change_form(client, sysadmin, role_grants__1__role=Role.FIRST_RESPONSIBLE)
    [refused] = audit_rows(AuditLog.Action.ACCESS_DENIED, sysadmin)
    assert (refused.user, refused.username) == (sysadmin, "sysadmin")
    assert "拒绝" in refused.detail and "第一责任人" in refused.detail
    assert set(RoleGrant.objects.filter(user=sysadmin).values_list("role", flat=True)) == {
        Role.ADMINISTRATOR
    }
