"""Every notice links straight to the page where its act is done."""

from __future__ import annotations

from datetime import date

from accounts.models import Notification
from cases.deadlines.cutoffs import send_cutoff_reminders
from disbursement.roster_checks import flag_missing_rosters

from ..disbursement.conftest import entitle  # noqa: F401


def test_the_monthly_cutoff_reminder_leads_to_the_cases_by_deadline(people):
    send_cutoff_reminders(today=date(2026, 11, 17))

    assert people.handler.notifications.get().url == "/cases/?order=due"


def test_a_missing_roster_alarm_leads_the_county_to_the_month_and_leaders_to_the_rosters(
    people,
    entitle,  # noqa: F811
):
    entitle(amount="670")

    flag_missing_rosters(today=date(2026, 11, 26))

    notices = Notification.objects.filter(key__startswith="roster-missing:")
    assert notices.get(user=people.supervisor).url == "/disbursement/county/2026-12/"
    assert notices.get(user=people.first).url == "/disbursement/"
    assert notices.get(user=people.direct).url == "/disbursement/"
