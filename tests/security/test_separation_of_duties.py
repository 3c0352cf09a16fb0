"""三员分立: the system administrator manages accounts and roles but holds no business role
and signs nothing, whichever way he tries (/admin/, the services, the pages, the API)."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, RoleGrant, User
from accounts.services import grant_role
from cases.models import (
    ArchiveDestruction,
    Case,
    HandoverSignature,
    Signature,
    SignatureStep,
    State,
)
from dengkou_aid.errors import NotAllowed
from disbursement.models import ReviewSignature, RosterSignature

from ..cases.flow import ApiFlow, load_materials
from ..conftest import make_user
from ..factories import UserFactory
from .conftest import form_data

BUSINESS_ROLES = [Role.FIRST_RESPONSIBLE, Role.DIRECT_RESPONSIBLE, Role.HANDLER]


def admin_change_post(client: Client, user: User, **changes) -> object:
    """Submit the user's /admin/ change form as the page shows it, with some values changed."""
    url = f"/admin/accounts/user/{user.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    data = form_data(page.content.decode())
    for name, value in changes.items():
        data[name.replace("__", "-")] = value if isinstance(value, list) else [value]
    return client.post(url, data)


def held_roles(user: User) -> set[str]:
    return set(RoleGrant.objects.filter(user=user).values_list("role", flat=True))


def test_the_administrator_cannot_give_himself_a_business_role(sysadmin, login, client):
    login(sysadmin)

    def through_admin_form(role):
        response = admin_change_post(client, sysadmin, role_grants__1__role=role)
        assert response.status_code == 200
        assert "三员分立" in response.content.decode()

    def through_service(role):
        with pytest.raises(NotAllowed, match="三员分立"):
            grant_role(user=sysadmin, role=role, actor=sysadmin)

    def through_the_model(role):
        with pytest.raises(NotAllowed, match="三员分立"):
            RoleGrant.objects.create(user=sysadmin, role=role)

    attempts = [
        (way, role)
        for way in (through_admin_form, through_service, through_the_model)
        for role in BUSINESS_ROLES
    ]
    succeeded = 0
    for way, role in attempts:
        way(role)
        succeeded += role in held_roles(sysadmin)
    assert (len(attempts), succeeded) == (9, 0)
    assert held_roles(sysadmin) == {Role.ADMINISTRATOR}


def test_the_same_admin_form_grants_a_business_role_to_a_business_user(
    sysadmin, people, login, client
):
    newcomer = UserFactory(unit=people.unit_a, username="newcomer")
    login(sysadmin)
    response = admin_change_post(client, newcomer, role_grants__0__role=Role.HANDLER)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert held_roles(newcomer) == {Role.HANDLER}


def test_a_leader_cannot_be_given_admin_site_access(sysadmin, people, login, client):
    login(sysadmin)
    response = admin_change_post(client, people.first, is_staff="on")
    assert "三员分立" in response.content.decode()
    people.first.refresh_from_db()
    assert not people.first.is_staff
    people.first.is_staff = True
    with pytest.raises(NotAllowed):
        people.first.save()


def test_the_audit_reader_holds_no_other_role(auditor, people):
    for role in (Role.ADMINISTRATOR, Role.HANDLER, Role.COUNTY_SUPERVISOR):
        with pytest.raises(NotAllowed, match="审计员"):
            grant_role(user=auditor, role=role, actor=None)
    with pytest.raises(NotAllowed, match="审计员"):
        grant_role(user=people.supervisor, role=Role.AUDIT_READER, actor=None)


@pytest.fixture
def flow(api, people, standards):
    load_materials()
    flow = ApiFlow(api, people)
    yield flow
    flow.stop()


@pytest.fixture
def awaiting_decision(flow, people):
    """A dibao case signed by the handler and the direct-responsible leader."""
    case_id = flow.file().json()["id"]
    flow.to_publicity(case_id)
    flow.upload_materials(case_id)
    flow.later(7)
    flow.ok(people.handler, case_id, "propose", outcome="approve", text="")
    flow.ok(people.direct, case_id, "sign_opinion", opinion="agree")
    return case_id


def decisions(case_id: int) -> int:
    return Signature.objects.filter(case_id=case_id, step=SignatureStep.DECISION).count()


def test_the_administrator_signs_nothing_through_pages_or_api(
    awaiting_decision, flow, people, sysadmin, api, login
):
    case_id = awaiting_decision
    # An administrator who holds a leader's role from before the rule (data written around it).
    legacy = make_user(
        people.unit_a, Role.ADMINISTRATOR, username="legacy_admin", full_name="旧管理员"
    )
    legacy.is_staff = True
    legacy.save(update_fields=["is_staff"])
    RoleGrant.objects.bulk_create([RoleGrant(user=legacy, role=Role.FIRST_RESPONSIBLE)])

    def by_api(user):
        return flow.step(user, case_id, "confirm", outcome="approve").status_code

    def by_page(user):
        # The API sign-in just used this 30-second code; a one-time code is never accepted twice.
        TOTPDevice.objects.filter(user=user).update(last_t=-1)
        client = login(user, Client())
        version = Case.objects.get(pk=case_id).version
        body = {"version": version, "outcome": "approve"}
        return client.post(f"/cases/{case_id}/do/confirm/", body).status_code

    attempts = [(way, who) for way in (by_api, by_page) for who in (sysadmin, legacy)]
    succeeded = 0
    for way, who in attempts:
        status = way(who)
        assert status in (403, 404), (way.__name__, who.username, status)
        succeeded += decisions(case_id)
    assert (len(attempts), succeeded) == (4, 0)
    assert Case.objects.get(pk=case_id).state == State.OPINION_SIGNED

    # The same case is signable: the first-responsible leader signs it.
    flow.ok(people.first, case_id, "confirm", outcome="approve")
    assert decisions(case_id) == 1


@pytest.mark.parametrize(
    "kind", [Signature, RosterSignature, ReviewSignature, HandoverSignature, ArchiveDestruction]
)
def test_no_kind_of_signature_is_recorded_for_an_administrator_or_auditor(kind, sysadmin, auditor):
    for signer in (sysadmin, auditor):
        with pytest.raises(NotAllowed, match="三员分立"):
            kind.create_signed(signer=signer, role=Role.FIRST_RESPONSIBLE, over={})
    assert kind.objects.count() == 0
