"""Entitlements: account numbers checked and masked; changes dated, never retroactive on rosters."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cases.models import State
from dengkou_aid.errors import Conflict, DomainError
from disbursement.models import AccountKind, ChangeKind, ChangeSource, Entitlement
from disbursement.services import (
    amount_in_force,
    create_entitlement,
    stop_entitlement,
)

from .conftest import GOOD_CARD, approved_case


def make(case, people, number=GOOD_CARD, kind=AccountKind.BANK_CARD):
    return create_entitlement(
        case=case,
        account_kind=kind,
        account_number=number,
        bank_name="中国农业银行",
        holder_name="张明",
        actor=people.handler,
    )


@pytest.mark.parametrize(
    "kind, number, message",
    [
        (AccountKind.BANK_CARD, "6222021234567890127", "校验位"),
        (AccountKind.BANK_CARD, "62220212345", "12至19位"),
        (AccountKind.BANK_CARD, "62220212345abc", "数字"),
        (AccountKind.SOCIAL_SECURITY, "12-34", "6至32位"),
    ],
)
def test_an_invalid_account_number_is_refused_and_nothing_saved(people, kind, number, message):
    case = approved_case(people.village_a)
    with pytest.raises(DomainError, match=message) as refused:
        make(case, people, number, kind)
    assert refused.value.field == "account_number"
    assert not Entitlement.objects.exists()


def test_a_valid_card_is_stored_encrypted_and_shown_masked(people):
    entitlement = make(approved_case(people.village_a), people, "6222 0212 3456 7890 128")
    assert entitlement.account_masked == "***************0128"
    raw = Entitlement.objects.filter(pk=entitlement.pk).values_list("account_hash", flat=True)[0]
    assert GOOD_CARD not in raw
    assert Entitlement.objects.get(pk=entitlement.pk).account_number == GOOD_CARD


def test_a_social_security_account_needs_only_digits(people):
    entitlement = make(
        approved_case(people.village_a), people, "12345678901", AccountKind.SOCIAL_SECURITY
    )
    assert entitlement.account_kind == AccountKind.SOCIAL_SECURITY


def test_the_start_month_follows_the_day_20_cut_off(people):
    assert make(
        approved_case(people.village_a, decided_on=date(2026, 11, 20)), people
    ).start_month == date(2026, 12, 1)
    late = approved_case(people.village_a, decided_on=date(2026, 11, 21))
    assert make(late, people, "4111111111111111").start_month == date(2027, 1, 1)


def test_a_case_not_yet_approved_gets_no_entitlement(people):
    case = approved_case(people.village_a, state=State.CONFIRMED)
    with pytest.raises(Conflict):
        make(case, people)


def test_amounts_in_force_follow_the_changes_month_by_month(people):
    entitlement = make(approved_case(people.village_a, amount="600"), people)
    from disbursement.services import adjust_entitlement

    adjust_entitlement(
        entitlement=entitlement,
        effective_month=date(2027, 2, 1),
        new_amount=Decimal("650"),
        reason="复核",
        source=ChangeSource.REVIEW,
        actor=people.handler,
    )
    stop = stop_entitlement(
        entitlement=entitlement,
        effective_month=date(2027, 4, 1),
        reason="收入超标",
        source=ChangeSource.REVIEW,
        actor=people.handler,
    )
    assert stop.kind == ChangeKind.STOP and stop.old_amount == Decimal("650")
    assert [amount_in_force(entitlement, date(2027, m, 1)) for m in (1, 2, 3, 4)] == [
        Decimal("600"),
        Decimal("650"),
        Decimal("650"),
        Decimal("0"),
    ]
    assert entitlement.end_month == date(2027, 3, 1)
    with pytest.raises(Conflict, match="已停发"):
        adjust_entitlement(
            entitlement=entitlement,
            effective_month=date(2027, 5, 1),
            new_amount=Decimal("1"),
            reason="x",
            source=ChangeSource.REVIEW,
            actor=people.handler,
        )


def test_a_change_cannot_reach_back_before_the_last_one(people):
    from disbursement.services import adjust_entitlement

    entitlement = make(approved_case(people.village_a), people)
    adjust_entitlement(
        entitlement=entitlement,
        effective_month=date(2027, 3, 1),
        new_amount=Decimal("700"),
        reason="复核",
        source=ChangeSource.REVIEW,
        actor=people.handler,
    )
    with pytest.raises(DomainError, match="不能早于"):
        adjust_entitlement(
            entitlement=entitlement,
            effective_month=date(2027, 2, 1),
            new_amount=Decimal("710"),
            reason="复核",
            source=ChangeSource.REVIEW,
            actor=people.handler,
        )


def test_the_api_refuses_a_bad_card_with_the_field(people, api):
    case = approved_case(people.village_a)
    response = api(people.handler).post(
        "/api/disbursement/entitlements/",
        {
            "case": case.pk,
            "account_kind": "bank_card",
            "account_number": "6222021234567890127",
            "bank_name": "农行",
            "holder_name": "张明",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["field"] == "account_number"
    assert "校验位" in response.json()["detail"]
