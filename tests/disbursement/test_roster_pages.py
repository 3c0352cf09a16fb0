"""The unit's roster pages: generate, see subtotals by kind, sign in turn, register an account."""

from __future__ import annotations

from django.test import Client

from cases.models import Area, CareTier, Kind
from disbursement.models import Entitlement, PaymentRoster

from .conftest import approved_case


def test_the_handler_generates_and_sees_subtotals_by_kind(people, login, entitle):
    entitle(kind=Kind.TEKUN, care_tier=CareTier.PARTIAL, amount="1515")
    entitle(area=Area.URBAN, amount="840")
    client = login(people.handler)

    response = client.post("/disbursement/rosters/generate/", {"month": "2026-12"}, follow=True)

    page = response.content.decode()
    assert "城市低保" in page and "特困供养（部分丧失自理能力）" in page
    assert 'data-testid="roster-total">2355.00<' in page
    assert "签字（经办人编制）" in page
    assert "6222" not in page  # accounts masked on screen


def test_the_sign_button_follows_the_turn(people, login, entitle):
    entitle()
    login(people.handler).post("/disbursement/rosters/generate/", {"month": "2026-12"})
    roster = PaymentRoster.objects.get()
    leader = login(people.direct, c=Client())
    assert "签字（" not in leader.get(f"/disbursement/rosters/{roster.pk}/").content.decode()

    login(people.handler).post(f"/disbursement/rosters/{roster.pk}/sign/")
    page = leader.get(f"/disbursement/rosters/{roster.pk}/").content.decode()
    assert "签字（分管领导审核）" in page


def test_an_outsider_gets_not_found(people, login, entitle):
    entitle()
    login(people.handler).post("/disbursement/rosters/generate/", {"month": "2026-12"})
    roster = PaymentRoster.objects.get()
    assert (
        login(people.outsider, c=Client()).get(f"/disbursement/rosters/{roster.pk}/").status_code
        == 404
    )


def test_a_bad_card_entered_on_the_page_is_refused(people, login):
    case = approved_case(people.village_a)
    response = login(people.handler).post(
        f"/disbursement/cases/{case.pk}/account/",
        {
            "account_kind": "bank_card",
            "account_number": "6222021234567890127",
            "bank_name": "农行",
            "holder_name": "张明",
        },
        follow=True,
    )
    assert "校验位" in response.content.decode()
    assert not Entitlement.objects.exists()
