"""Every page shows the amount in force this month, and a change already decided as “自…起”."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from cases.models import State
from disbursement.in_force import shown_amount
from disbursement.models import ChangeSource
from disbursement.services import adjust_entitlement, stop_entitlement

pytestmark = pytest.mark.django_db

DECEMBER_DAY = "2026-12-10 10:00 +08:00"


@pytest.fixture
def paid_1140_then_420(people, entitle):
    """Paid 1,140 from December; a review decided in December lowers it to 420 from January."""
    entitlement = entitle(amount="1140", state=State.IN_PAYMENT)
    adjust_entitlement(
        entitlement=entitlement,
        effective_month=date(2027, 1, 1),
        new_amount=Decimal("420"),
        reason="复核：家庭收入增加",
        source=ChangeSource.REVIEW,
        actor=people.handler,
    )
    return entitlement


def test_the_amount_shown_is_this_months_with_the_change_ahead(paid_1140_then_420):
    with time_machine.travel(DECEMBER_DAY, tick=False):
        shown = shown_amount(paid_1140_then_420)
    assert shown.amount == Decimal("1140.00")
    assert shown.ahead == "自2027年1月起：420.00元"


def test_from_january_the_new_amount_shows_and_nothing_is_ahead(paid_1140_then_420):
    with time_machine.travel("2027-01-05 10:00 +08:00", tick=False):
        shown = shown_amount(paid_1140_then_420)
    assert (shown.amount, shown.ahead) == (Decimal("420.00"), "")


def test_a_stop_ahead_leaves_this_months_amount_and_says_when_it_stops(people, entitle):
    entitlement = entitle(amount="600", state=State.IN_PAYMENT)
    stop_entitlement(
        entitlement=entitlement,
        effective_month=date(2027, 3, 1),
        reason="渐退期满",
        source=ChangeSource.PHASE_OUT,
        actor=people.handler,
    )
    with time_machine.travel(DECEMBER_DAY, tick=False):
        shown = shown_amount(entitlement)
    assert (shown.amount, shown.ahead) == (Decimal("600.00"), "自2027年3月起：停发")


def test_the_public_list_the_case_page_and_the_household_page_agree(
    paid_1140_then_420, people, client, login
):
    case = paid_1140_then_420.case
    with time_machine.travel(DECEMBER_DAY, tick=False):
        public = client.get(f"/public/{people.unit_a.code}/publicity/").content.decode()
        staff = login(people.handler)
        case_page = staff.get(f"/cases/{case.pk}/").content.decode()
        household = staff.get(f"/reviews/households/{case.household_id}/").content.decode()
    for page in (public, case_page, household):
        assert "1140.00" in page
        assert "自2027年1月起：420.00元" in page
    assert "420.00元/月" not in household
