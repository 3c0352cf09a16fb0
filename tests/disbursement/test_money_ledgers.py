"""The unit ledgers also register adjustments, stops (by the day decided), reviews and payments."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.documents.ledgers import Period, ledgers
from cases.models import Case
from disbursement.models import ChangeSource
from disbursement.services import add_months, adjust_entitlement, next_month, stop_entitlement

pytestmark = pytest.mark.django_db


def registers(unit):
    today = timezone.localdate()
    period = Period(today - timedelta(days=1), today + timedelta(days=1))
    return {ledger.key: ledger for ledger in ledgers(unit, period)}


def test_a_stop_decided_today_is_in_the_stop_register_at_once(people, entitle):
    stopped = entitle(amount="500", decided_on=date(2026, 1, 10))
    lowered = entitle(amount="700", decided_on=date(2026, 1, 10))
    # Effective from a later month: the case is still in payment, the stop is decided now.
    stop_entitlement(
        entitlement=stopped,
        effective_month=add_months(next_month(), 1),
        reason="复核：收入超过标准",
        source=ChangeSource.REVIEW,
        actor=people.handler,
    )
    adjust_entitlement(
        entitlement=lowered,
        effective_month=next_month(),
        new_amount=Decimal("450"),
        reason="复核：家庭收入增加",
        source=ChangeSource.REVIEW,
        actor=people.handler,
    )
    books = registers(people.unit_a)
    stops = list(books["stops"].rows())
    assert [(row[0], row[5], row[7]) for row in stops] == [
        (stopped.case.number, "停发", Decimal("0.00"))
    ]
    assert [(row[0], row[6], row[7]) for row in books["adjustments"].rows()] == [
        (lowered.case.number, Decimal("700.00"), Decimal("450.00"))
    ]
    assert books["payments"].count() == 0 and books["reviews"].count() == 0


def test_an_imported_household_is_not_an_application(people, entitle):
    native = entitle(amount="500")
    imported = entitle(amount="600")
    Case.objects.filter(pk=imported.case_id).update(imported=True)
    numbers = [row[0] for row in registers(people.unit_a)["applications"].rows()]
    assert native.case.number in numbers
    assert imported.case.number not in numbers
