"""Named people shared by the suite: unit A's handler and leaders, its village assistant,
county staff, and outsiders from unit B."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
from django.conf import settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.models import Role, UnitKind

from .factories import PASSWORD, UnitFactory, UserFactory, VillageFactory, demo_standards

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def service_missing(what: str) -> None:
    """Fail in CI (REQUIRE_SERVICES=1) where a test's service is missing; skip elsewhere."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {what}")
    pytest.skip(f"{what} not available")


@pytest.fixture(autouse=True)
def _eager_celery_and_media(settings, tmp_path):
    from dengkou_aid.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RATELIMIT_ENABLE = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield


def otp_device(user) -> TOTPDevice:
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="test", defaults={"confirmed": True}
    )
    return device


def current_otp(user) -> str:
    device = otp_device(user)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def needs_code(user) -> bool:
    """Whether the user's roles, as stored now, sign with a one-time code."""
    return type(user).objects.get(pk=user.pk).needs_two_factor


def signing_otp(user) -> str:
    """The code on the leader's phone when they sign: the device forgets the sign-in code, so a
    test can sign in the same 30 seconds (a real leader waits for the next code)."""
    device = otp_device(user)
    device.last_t = -1
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save(
        update_fields=["last_t", "throttling_failure_count", "throttling_failure_timestamp"]
    )
    return current_otp(user)


def make_user(unit, *roles, village=None, **kwargs):
    user = UserFactory(unit=unit, village=village, roles=list(roles), **kwargs)
    if user.needs_two_factor:
        otp_device(user)
    return user


@pytest.fixture
def county(db):
    return UnitFactory(code="150822", name="磴口县民政局", kind=UnitKind.COUNTY_BUREAU)


@pytest.fixture
def unit_a(db):
    return UnitFactory(code="150822100", name="巴彦高勒镇", kind=UnitKind.TOWN)


@pytest.fixture
def unit_b(db):
    return UnitFactory(code="150822101", name="隆盛合镇", kind=UnitKind.TOWN)


@pytest.fixture
def agency(db, county):
    return UnitFactory(
        code="150822TP01", name="样例社会工作服务中心", kind=UnitKind.AGENCY, parent=county
    )


@pytest.fixture
def village_a(unit_a):
    return VillageFactory(unit=unit_a, code="150822100201", name="样例嘎查A")


@pytest.fixture
def village_b(unit_b):
    return VillageFactory(unit=unit_b, code="150822101201", name="样例村B")


@pytest.fixture
def standards(db):
    demo_standards()


@pytest.fixture
def people(county, unit_a, unit_b, village_a, village_b, agency):
    """Everyone a test may need, by name."""
    return SimpleNamespace(
        handler=make_user(unit_a, Role.HANDLER, username="handler_a", full_name="李经办"),
        handler2=make_user(unit_a, Role.HANDLER, username="handler_a2", full_name="王经办"),
        direct=make_user(unit_a, Role.DIRECT_RESPONSIBLE, username="direct_a", full_name="赵分管"),
        first=make_user(unit_a, Role.FIRST_RESPONSIBLE, username="first_a", full_name="孙镇长"),
        assistant=make_user(
            unit_a,
            Role.VILLAGE_ASSISTANT,
            village=village_a,
            username="assistant_a",
            full_name="周协理",
        ),
        verifier=make_user(
            county, Role.VERIFICATION_OFFICER, username="verifier", full_name="吴核对"
        ),
        supervisor=make_user(
            county, Role.COUNTY_SUPERVISOR, username="supervisor", full_name="郑监管"
        ),
        finance=make_user(county, Role.COUNTY_FINANCE, username="finance", full_name="钱资金"),
        investigator=make_user(
            agency, Role.INVESTIGATOR, username="investigator", full_name="冯调查"
        ),
        outsider=make_user(unit_b, Role.HANDLER, username="handler_b", full_name="陈外单位"),
        outsider_direct=make_user(
            unit_b, Role.DIRECT_RESPONSIBLE, username="direct_b", full_name="褚外分管"
        ),
        outsider_assistant=make_user(
            unit_b,
            Role.VILLAGE_ASSISTANT,
            village=village_b,
            username="assistant_b",
            full_name="卫外协理",
        ),
        unit_a=unit_a,
        unit_b=unit_b,
        village_a=village_a,
        village_b=village_b,
        county=county,
        agency=agency,
    )


@pytest.fixture
def login(client):
    """Sign a user in through the real sign-in page (with a one-time code where required)."""

    def _login(user, c=None):
        c = c or client
        data = {"username": user.username, "password": PASSWORD}
        if user.needs_two_factor:
            data["otp_token"] = current_otp(user)
        response = c.post("/accounts/login/", data)
        assert response.status_code == 302, response.content.decode()[:500]
        return c

    return _login


@pytest.fixture
def api():
    """An API client authenticated as a user through a real token."""

    def _api(user):
        c = APIClient()
        data = {"username": user.username, "password": PASSWORD}
        if user.needs_two_factor:
            data["otp_token"] = current_otp(user)
        response = c.post("/api/auth/token/", data, format="json")
        assert response.status_code == 200, response.content.decode()[:500]
        c.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
        return c

    return _api


__all__ = ["PASSWORD", "current_otp", "make_user", "service_missing", "settings"]
