"""Households in payment for the dynamic-management tests, built through the real services."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cases.models import Case, Income, IncomeKind, Kind, Relation, State, WorkAbility
from disbursement.models import AccountKind
from disbursement.services import create_entitlement

from ..factories import CaseFactory, PersonFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 10):
    """Freeze time at a local day (Asia/Shanghai)."""
    return time_machine.travel(
        datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI), tick=False
    )


def in_payment(
    people,
    *,
    kind: str = Kind.DIBAO,
    amount: str = "1340",
    members: int = 2,
    decided_on: date = date(2026, 1, 10),
    incomes: tuple[str, ...] = (),
    volatile: bool = False,
    village=None,
) -> Case:
    """A household of `members` people in payment since the month after `decided_on`.

    `incomes` are monthly amounts of the head's regular wages since 2025.
    """
    village = village or people.village_a
    head = PersonFactory(
        household__village=village,
        work_ability=WorkAbility.ABLE if volatile else WorkAbility.UNABLE,
        income_irregular=volatile,
    )
    for _ in range(members - 1):
        PersonFactory(
            household=head.household, relation=Relation.CHILD, work_ability=WorkAbility.UNABLE
        )
    for monthly in incomes:
        Income.objects.create(
            person=head,
            kind=IncomeKind.WAGE,
            source="务工",
            monthly_amount=Decimal(monthly),
            period_start=date(2025, 1, 1),
        )
    case = CaseFactory(applicant=head, kind=kind, handler=people.handler)
    Case.objects.filter(pk=case.pk).update(
        state=State.APPROVED,
        decided_on=decided_on,
        monthly_amount=Decimal(amount),
        outcome="approve",
    )
    case = Case.objects.get(pk=case.pk)
    create_entitlement(
        case=case,
        account_kind=AccountKind.SOCIAL_SECURITY,
        account_number="150822000123",
        bank_name="磴口县农村信用社",
        holder_name=head.name,
        actor=people.handler,
    )
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def paid(people, standards):
    def _paid(**kwargs) -> Case:
        return in_payment(people, **kwargs)

    return _paid
