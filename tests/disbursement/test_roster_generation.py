"""The monthly roster holds exactly the entitlements in force, with the day-20 cut-off."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Area, CareTier, Case, Kind, State
from disbursement.models import Category, ChangeSource, RosterKind
from disbursement.services import (
    adjust_entitlement,
    generate_roster,
    reconcile_roster,
    stop_entitlement,
)

DECEMBER = date(2026, 12, 1)
JANUARY = date(2027, 1, 1)


def lines_of(roster):
    return {line.entitlement_id: line.amount for line in roster.lines.all()}


def test_a_confirmation_by_the_20th_is_paid_next_month(people, entitle):
    on_time = entitle(decided_on=date(2026, 11, 20))
    late = entitle(decided_on=date(2026, 11, 21))

    december = generate_roster(unit=people.unit_a, month=DECEMBER, actor=people.handler)
    january = generate_roster(unit=people.unit_a, month=JANUARY, actor=people.handler)

    assert on_time.start_month == DECEMBER
    assert late.start_month == JANUARY
    assert set(lines_of(december)) == {on_time.pk}
    assert set(lines_of(january)) == {on_time.pk, late.pk}


def test_generating_twice_gives_the_same_rows(people, entitle):
    first = entitle()
    second = entitle(amount="840", area=Area.URBAN)

    roster = generate_roster(unit=people.unit_a, month=DECEMBER, actor=people.handler)
    again = generate_roster(unit=people.unit_a, month=DECEMBER, actor=people.handler)

    assert again.pk == roster.pk
    assert roster.lines.count() == 2
    assert again.line_count == 2
    assert again.total_amount == Decimal("1510.00")
    assert lines_of(again) == {first.pk: Decimal("670.00"), second.pk: Decimal("840.00")}
    assert again.round == 1  # nothing changed, so signatures would still hold


def test_adjustments_count_from_their_month_and_stops_leave(people, entitle):
    raised = entitle(amount="500")
    stopped = entitle()
    adjust_entitlement(
        entitlement=raised,
        effective_month=JANUARY,
        new_amount=Decimal("600"),
        reason="复核后家庭收入减少",
        source=ChangeSource.REVIEW,
        actor=people.handler,
    )
    stop_entitlement(
        entitlement=stopped,
        effective_month=JANUARY,
        reason="死亡",
        source=ChangeSource.DEATH,
        actor=people.handler,
    )

    december = generate_roster(unit=people.unit_a, month=DECEMBER, actor=people.handler)
    january = generate_roster(unit=people.unit_a, month=JANUARY, actor=people.handler)

    assert lines_of(december) == {raised.pk: Decimal("500.00"), stopped.pk: Decimal("670.00")}
    assert lines_of(january) == {raised.pk: Decimal("600.00")}


def test_only_the_units_own_entitlements_are_listed(people, entitle):
    mine = entitle()
    entitle(village=people.village_b)

    roster = generate_roster(unit=people.unit_a, month=DECEMBER, actor=people.handler)

    assert set(lines_of(roster)) == {mine.pk}


def test_lines_carry_the_subtotal_category(people, entitle):
    entitle(kind=Kind.TEKUN, care_tier=CareTier.FULL, amount="2286")
    entitle(area=Area.URBAN, amount="840")

    roster = generate_roster(unit=people.unit_a, month=DECEMBER, actor=people.handler)

    assert set(roster.lines.values_list("category", flat=True)) == {
        Category.TEKUN_FULL,
        Category.DIBAO_URBAN,
    }


def test_a_refresh_after_a_change_replaces_the_stale_line(people, entitle):
    entitlement = entitle(amount="500")
    roster = generate_roster(unit=people.unit_a, month=JANUARY, actor=people.handler)
    adjust_entitlement(
        entitlement=entitlement,
        effective_month=JANUARY,
        new_amount=Decimal("450"),
        reason="收入增加",
        source=ChangeSource.REVIEW,
        actor=people.handler,
    )
    assert reconcile_roster(roster)  # stale: says where

    roster = generate_roster(unit=people.unit_a, month=JANUARY, actor=people.handler)

    assert lines_of(roster) == {entitlement.pk: Decimal("450.00")}
    assert roster.round == 2
    assert reconcile_roster(roster) == []


def test_approved_cases_move_into_payment_when_the_roster_picks_them_up(people, entitle):
    entitlement = entitle()

    generate_roster(unit=people.unit_a, month=DECEMBER, actor=people.handler)

    case = Case.objects.get(pk=entitlement.case_id)
    assert case.state == State.STANDING_PUBLICITY
    assert list(case.events.values_list("action", flat=True))[-2:] == [
        "payment_started",
        "standing_publicity",
    ]


@pytest.mark.parametrize("people_count", [3, 12])
def test_generation_takes_the_same_number_of_queries_whatever_the_size(
    people, entitle, people_count
):
    for _ in range(people_count):
        entitle(state=State.IN_PAYMENT)
    with CaptureQueriesContext(connection) as queries:
        generate_roster(unit=people.unit_a, month=DECEMBER, actor=people.handler)
    # 16 to make the roster, 7 to tell the unit's handler it waits for their signature.
    assert len(queries) <= 23


def test_the_kind_is_regular(people, entitle):
    entitle()
    roster = generate_roster(unit=people.unit_a, month=DECEMBER, actor=people.handler)
    assert roster.kind == RosterKind.REGULAR
