"""A mistake in a submitted roster is fixed by a supplementary roster with a reason."""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine

from dengkou_aid.errors import DomainError
from disbursement.models import ChangeSource, RosterKind, RosterState
from disbursement.services import (
    adjust_entitlement,
    generate_supplementary_roster,
    reconcile_roster,
    submit_roster,
)

from .conftest import DECEMBER, IN_WINDOW, sign_all


def test_a_correction_pays_the_difference_and_reconciles(people, submitted_roster):
    entitlement = submitted_roster.lines.order_by("amount").first().entitlement
    adjust_entitlement(
        entitlement=entitlement,
        effective_month=DECEMBER,
        new_amount=Decimal("700"),
        reason="核算有误，补足差额",
        source=ChangeSource.CORRECTION,
        actor=people.handler,
    )

    extra = generate_supplementary_roster(
        unit=people.unit_a, month=DECEMBER, reason="核算有误补发", actor=people.handler
    )

    assert extra.kind == RosterKind.SUPPLEMENTARY
    assert list(extra.lines.values_list("entitlement_id", "amount")) == [
        (entitlement.pk, Decimal("30.00"))
    ]
    assert reconcile_roster(extra) == []
    sign_all(extra, people)
    with time_machine.travel(IN_WINDOW, tick=False):
        submit_roster(roster=extra, actor=people.handler)
    extra.refresh_from_db()
    assert extra.state == RosterState.SUBMITTED
    submitted_roster.refresh_from_db()
    assert submitted_roster.total_amount == Decimal("1510.00")  # the first one never changed


def test_a_correction_without_a_reason_is_refused(people, submitted_roster):
    with pytest.raises(DomainError, match="原因"):
        generate_supplementary_roster(
            unit=people.unit_a, month=DECEMBER, reason=" ", actor=people.handler
        )


def test_no_supplementary_roster_before_the_regular_one_is_submitted(people, entitle):
    entitle()
    with pytest.raises(DomainError, match="尚未报送"):
        generate_supplementary_roster(
            unit=people.unit_a, month=DECEMBER, reason="补发", actor=people.handler
        )


def test_the_api_makes_supplementary_rosters_with_their_reason(people, api, submitted_roster):
    client = api(people.handler)
    refused = client.post(
        "/api/disbursement/rosters/supplementary/",
        {"month": "2026-12-01", "reason": ""},
        format="json",
    )
    assert refused.status_code == 400
    made = client.post(
        "/api/disbursement/rosters/supplementary/",
        {"month": "2026-12-01", "reason": "漏报补发"},
        format="json",
    )
    assert made.status_code == 201
    assert made.json()["reason"] == "漏报补发"
    assert made.json()["line_count"] == 0
