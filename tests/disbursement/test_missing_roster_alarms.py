"""After the 25th the missing-roster alarm (未按期报送) goes only to units with someone to pay."""

from __future__ import annotations

from datetime import date

from accounts.models import Notification, Unit
from disbursement.roster_checks import flag_missing_rosters, missing_rosters

from ..factories import UnitFactory
from .conftest import DECEMBER


def test_alarms_go_to_exactly_the_units_with_entitlements_in_force(people, entitle):
    # Ten approval units in all: units A and B, and eight with no one to pay.
    for index in range(8):
        UnitFactory(code=f"15082219{index}", name=f"空单位{index}", kind=people.unit_a.kind)
    assert Unit.objects.approval_units().count() == 10
    entitle(amount="670")  # unit A: one household paid from December
    entitle(people.village_b, amount="840")  # unit B: one household paid from December

    missing = missing_rosters(today=date(2026, 11, 26))
    flag_missing_rosters(today=date(2026, 11, 26))

    # Hand count: 2 units have entitlements in force in December, 8 have none → 2 alarms.
    assert sorted(unit.name for unit, _ in missing) == sorted(
        [people.unit_a.name, people.unit_b.name]
    )
    alarmed = set(
        Notification.objects.filter(key__startswith="roster-missing:").values_list("key", flat=True)
    )
    assert alarmed == {
        f"roster-missing:{people.unit_a.pk}:{DECEMBER:%Y-%m}",
        f"roster-missing:{people.unit_b.pk}:{DECEMBER:%Y-%m}",
    }


def test_a_unit_whose_only_household_stopped_before_the_month_is_not_alarmed(people, entitle):
    from disbursement.models import ChangeSource
    from disbursement.services import stop_entitlement

    entitlement = entitle(amount="670")
    stop_entitlement(
        entitlement=entitlement,
        effective_month=DECEMBER,
        reason="停发",
        source=ChangeSource.CORRECTION,
        actor=people.handler,
    )

    assert missing_rosters(today=date(2026, 11, 26)) == []
    assert flag_missing_rosters(today=date(2026, 11, 26)) == 0
