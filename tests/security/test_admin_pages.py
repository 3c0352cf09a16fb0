"""/admin/ shows no secret (second-factor keys, backup codes, API tokens, password hashes),
and no signed, immutable or supervision record can be added, changed or deleted there."""

from __future__ import annotations

import base64

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ApiToken, AuditLog
from cases.models import (
    ApplicantConsent,
    CaseEvent,
    CaseFile,
    HomeVisit,
    IncomeAssessment,
    Publicity,
    Signature,
    SignatureVoid,
    VerificationReport,
)
from disbursement.models import EntitlementChange, RosterEvent, RosterSignature
from supervision.models import (
    Bulletin,
    Complaint,
    Finding,
    Rectification,
    Revocation,
    SpotCheckDraw,
    SpotCheckSample,
)

IMMUTABLE = [
    Revocation,
    Bulletin,
    Finding,
    Rectification,
    SpotCheckDraw,
    SpotCheckSample,
    Complaint,
    Signature,
    SignatureVoid,
    CaseEvent,
    IncomeAssessment,
    Publicity,
    HomeVisit,
    ApplicantConsent,
    VerificationReport,
    RosterSignature,
    RosterEvent,
    EntitlementChange,
    CaseFile,
]


def secrets_of(people) -> list[str]:
    """Every secret an administrator's page could leak, in each form it could take."""
    found = []
    for device in TOTPDevice.objects.all():
        found += [device.key, base64.b32encode(device.bin_key).decode().rstrip("=")]
    found += list(StaticToken.objects.values_list("token", flat=True))
    found += list(ApiToken.objects.values_list("key", flat=True))
    found += [people.first.password.split("$")[-1]]
    return found


def admin_urls(model) -> list[str]:
    opts = model._meta
    urls = [reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")]
    obj = model._default_manager.order_by("pk").first()
    if obj is not None:
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    return urls


def test_no_admin_page_shows_a_second_factor_key_backup_code_or_api_token(
    sysadmin, people, api, login, client
):
    static = StaticDevice.objects.create(user=people.first, name="备用码", confirmed=True)
    static.token_set.create(token="backup12")
    api(people.first)  # the leader holds a live API token
    secrets = secrets_of(people)
    assert len(secrets) >= 10
    login(sysadmin)
    pages = ["/admin/"]
    for model in admin.site._registry:
        pages += admin_urls(model)
    pages += [f"/admin/accounts/user/{people.first.pk}/password/"]
    leaks = []
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        leaks += [(url, s) for s in secrets if s in response.content.decode()]
    assert leaks == []
    assert len(pages) > 40


def test_the_device_admins_list_devices_without_any_way_to_add_or_edit_a_key(
    sysadmin, people, login, client
):
    login(sysadmin)
    device = TOTPDevice.objects.get(user=people.first)
    assert client.get("/admin/otp_totp/totpdevice/add/").status_code == 403
    for view in ("config", "qrcode"):  # django-otp's key pages are gone
        response = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/{view}/", follow=True)
        assert response["Content-Type"].startswith("text/html")
        assert device.key not in response.content.decode()
    page = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    assert "first_a" in page or "孙镇长" in page
    assert 'name="key"' not in page


def test_the_administrator_cannot_read_the_audit_log_in_admin(sysadmin, login, client):
    login(sysadmin)
    assert not admin.site.is_registered(AuditLog)
    assert client.get("/admin/accounts/auditlog/").status_code == 404


@pytest.mark.parametrize("model", IMMUTABLE, ids=lambda m: m.__name__)
def test_every_signed_immutable_or_supervision_record_is_view_only_in_admin(model, sysadmin):
    request = RequestFactory().get("/admin/")
    request.user = sysadmin
    model_admin = admin.site._registry.get(model)
    if model_admin is None:
        return  # not in /admin/ at all
    refused = [
        not model_admin.has_add_permission(request),
        not model_admin.has_change_permission(request, None),
        not model_admin.has_delete_permission(request, None),
    ]
    assert refused == [True, True, True]


def test_an_add_form_for_a_signed_record_answers_403(sysadmin, login, client):
    login(sysadmin)
    refused = 0
    for model in IMMUTABLE:
        opts = model._meta
        response = client.post(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"), {})
        refused += response.status_code == 403
    assert refused == len(IMMUTABLE)


def test_a_user_account_is_retired_never_deleted_in_admin(sysadmin, people, login, client):
    login(sysadmin)
    response = client.post(f"/admin/accounts/user/{people.first.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert type(people.first).objects.filter(pk=people.first.pk).exists()
