"""Approved cases with entitlements, for the disbursement tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cases.models import Area, CareTier, Case, Kind, Outcome, State
from disbursement.models import AccountKind
from disbursement.services import create_entitlement

from ..factories import CaseFactory, HouseholdFactory, PersonFactory

# A bank card number that passes the Luhn check.
GOOD_CARD = "6222021234567890128"


def luhn_card(seed: int) -> str:
    """A valid 19-digit bank card number made from a seed."""
    body = f"622202{seed:012d}"
    total = 0
    for index, char in enumerate(reversed(body)):
        value = int(char)
        if index % 2 == 0:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return body + str((10 - total % 10) % 10)


def approved_case(
    village,
    *,
    kind: str = Kind.DIBAO,
    area: str = Area.RURAL,
    amount: str = "670",
    decided_on: date = date(2026, 11, 10),
    care_tier: str = "",
    state: str = State.APPROVED,
    **decision,
) -> Case:
    """A case decided and approved; the state is set directly (test setup only).

    `decision` sets further fields of the decision, which a decided case then keeps."""
    household = HouseholdFactory(village=village, area=area)
    case = CaseFactory(applicant=PersonFactory(household=household), kind=kind)
    Case.objects.filter(pk=case.pk).update(
        state=state,
        outcome=Outcome.APPROVE,
        decided_on=decided_on,
        monthly_amount=Decimal(amount),
        care_tier=care_tier,
        **decision,
    )
    return Case.objects.get(pk=case.pk)


def entitled(village, *, actor=None, seed: int = 1, **kwargs):
    case = approved_case(village, **kwargs)
    return create_entitlement(
        case=case,
        account_kind=AccountKind.BANK_CARD,
        account_number=luhn_card(seed),
        bank_name="内蒙古农村信用社",
        holder_name=case.applicant.name,
        actor=actor,
    )


@pytest.fixture
def entitle(people):
    """Make entitlements in unit A (or another village) with distinct valid cards."""
    counter = iter(range(1, 100000))

    def _entitle(village=None, **kwargs):
        return entitled(
            village or people.village_a, actor=people.handler, seed=next(counter), **kwargs
        )

    return _entitle


__all__ = ["GOOD_CARD", "CareTier", "approved_case", "entitled", "luhn_card"]


DECEMBER = date(2026, 12, 1)
# Inside the submission window for December's roster.
IN_WINDOW = "2026-11-22 10:00 +08:00"


def sign_all(roster, people):
    from disbursement.services import sign_roster

    from ..conftest import signing_otp

    for signer in (people.handler, people.direct, people.first):
        code = signing_otp(signer) if signer.needs_two_factor else ""
        sign_roster(roster=roster, actor=signer, otp_token=code)
    roster.refresh_from_db()
    return roster


@pytest.fixture
def submitted_roster(people, entitle):
    """Unit A's December roster with two entitlements, signed and submitted on the 22nd."""
    import time_machine

    from disbursement.services import generate_roster, submit_roster

    entitle(amount="670")
    entitle(amount="840", area=Area.URBAN)
    with time_machine.travel(IN_WINDOW, tick=False):
        roster = generate_roster(unit=people.unit_a, month=DECEMBER, actor=people.handler)
        sign_all(roster, people)
        submit_roster(roster=roster, actor=people.handler)
    roster.refresh_from_db()
    return roster
