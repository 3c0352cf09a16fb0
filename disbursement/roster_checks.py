"""After the 25th: flag to the county every approval unit whose payment roster is missing.

The dates (the 20th–25th window and the county's leave) come from `cases.deadlines.cutoffs`; what
counts as submitted is this layer's: a regular roster the unit has submitted or the county
has accepted. Only a unit with entitlements in force in the month owes a roster
(`services.units_expected`); a unit with no one to pay is never flagged. Each flag is sent
once per unit and month.
"""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, Unit
from accounts.notify import county_supervisors, notify, staff_with_role
from cases.deadlines.cutoffs import last_closed_roster_month, roster_due_date

from .models import SUBMITTED_STATES, PaymentRoster, RosterKind
from .services import units_expected


def missing_rosters(*, today: date) -> list[tuple[Unit, date]]:
    """(unit, payment month) pairs: a unit with someone to pay whose window has closed without
    a submitted regular roster."""
    month = last_closed_roster_month(today)
    submitted = set(
        PaymentRoster.objects.filter(
            month=month, kind=RosterKind.REGULAR, state__in=SUBMITTED_STATES
        ).values_list("unit_id", flat=True)
    )
    return [
        (unit, month)
        for unit in units_expected(month)
        if unit.pk not in submitted and today > roster_due_date(unit, month)
    ]


def flag_missing_rosters(*, today: date | None = None) -> int:
    """Notify the county supervisors and the unit's leaders once per missing roster."""
    today = today or timezone.localdate()
    supervisors = list(county_supervisors())
    sent = 0
    for unit, month in missing_rosters(today=today):
        due = roster_due_date(unit, month)
        title = f"{unit}未按期报送{month:%Y年%m月}资金发放清册"
        body = f"{unit}应于{due:%Y年%m月%d日}前报送{month:%Y年%m月}资金发放清册，截至{today:%Y年%m月%d日}尚未报送。"
        leaders = [
            *staff_with_role(Role.FIRST_RESPONSIBLE, unit_id=unit.pk),
            *staff_with_role(Role.DIRECT_RESPONSIBLE, unit_id=unit.pk),
        ]
        key = f"roster-missing:{unit.pk}:{month:%Y-%m}"
        county_page = reverse("disbursement:county_month", kwargs={"month": f"{month:%Y-%m}"})
        for user in {user.pk: user for user in [*supervisors, *leaders]}.values():
            # The county reads the month's rosters unit by unit; a leader opens the unit's rosters.
            url = county_page if user.is_county_staff else reverse("disbursement:roster_list")
            sent += notify(user, key=key, title=title, body=body, url=url) is not None
    return sent
