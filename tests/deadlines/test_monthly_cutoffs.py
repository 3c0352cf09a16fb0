"""The monthly cut-offs: a reminder three working days before the 20th, the 20th–25th roster
window (or the county's leave), and missing rosters flagged to the county after it."""

from datetime import date

import pytest

from accounts.models import Notification
from cases.deadlines.cutoffs import (
    cutoff_reminder_day,
    grant_roster_leave,
    payment_cutoff_notice,
    roster_due_date,
    roster_window_open,
    send_cutoff_reminders,
)
from dengkou_aid.errors import DomainError, NotAllowed
from disbursement.models import PaymentRoster, RosterState
from disbursement.roster_checks import flag_missing_rosters

from ..disbursement.conftest import entitled

DECEMBER = date(2026, 12, 1)


def test_the_reminder_comes_three_working_days_before_the_20th(db):
    assert cutoff_reminder_day(date(2026, 11, 1)) == date(2026, 11, 17)
    # February 2026: the Spring Festival holiday lies between, the adjusted Saturday counts.
    assert cutoff_reminder_day(date(2026, 2, 1)) == date(2026, 2, 12)


def test_each_approval_unit_is_reminded_once_a_month(people):
    assert send_cutoff_reminders(today=date(2026, 11, 16)) == 0
    send_cutoff_reminders(today=date(2026, 11, 17))
    send_cutoff_reminders(today=date(2026, 11, 18))
    for person in (people.handler, people.handler2, people.direct, people.first, people.outsider):
        notice = person.notifications.get()
        assert notice.key == f"cutoff:{person.unit_id}:2026-11"
        assert "11月20日" in notice.title
    assert not people.supervisor.notifications.exists()
    assert not people.assistant.notifications.exists()
    assert send_cutoff_reminders(today=date(2026, 11, 21)) == 0


def test_the_page_says_which_month_a_confirmation_is_paid_from(db):
    assert "自2026年12月起发放" in payment_cutoff_notice(date(2026, 11, 20))
    assert "纳入2027年01月发放清册" in payment_cutoff_notice(date(2026, 11, 21))


def test_the_roster_window_is_the_20th_to_the_25th(people):
    opens = [roster_window_open(date(2026, 11, d), people.unit_a) for d in (19, 20, 25, 26)]
    assert opens == [False, True, True, False]


def test_the_county_may_leave_a_unit_more_time(people):
    grant_roster_leave(
        unit=people.unit_a,
        month=DECEMBER,
        until=date(2026, 11, 28),
        reason="系统故障",
        actor=people.supervisor,
    )
    assert roster_window_open(date(2026, 11, 27), people.unit_a)
    assert not roster_window_open(date(2026, 11, 29), people.unit_a)
    assert not roster_window_open(date(2026, 11, 27), people.unit_b)
    assert roster_due_date(people.unit_a, DECEMBER) == date(2026, 11, 28)
    assert roster_due_date(people.unit_b, DECEMBER) == date(2026, 11, 25)


def test_only_the_county_grants_leave_and_only_with_a_reason_past_the_25th(people):
    leave = {"unit": people.unit_a, "month": DECEMBER, "until": date(2026, 11, 28)}
    with pytest.raises(NotAllowed):
        grant_roster_leave(**leave, reason="系统故障", actor=people.direct)
    with pytest.raises(DomainError, match="理由"):
        grant_roster_leave(**leave, reason=" ", actor=people.supervisor)
    with pytest.raises(DomainError, match="25日"):
        grant_roster_leave(
            **{**leave, "until": date(2026, 11, 25)}, reason="x", actor=people.supervisor
        )


def test_a_missing_roster_is_flagged_to_the_county_once_after_the_25th(people):
    entitled(people.village_a, actor=people.handler, seed=1)  # unit A has someone to pay
    PaymentRoster.objects.create(unit=people.unit_b, month=DECEMBER, state=RosterState.SUBMITTED)
    assert (
        flag_missing_rosters(today=date(2026, 11, 25)) == 0
        or not Notification.objects.filter(key__contains="2026-12").exists()
    )
    flag_missing_rosters(today=date(2026, 11, 26))
    flag_missing_rosters(today=date(2026, 11, 27))
    key = f"roster-missing:{people.unit_a.pk}:2026-12"
    assert people.supervisor.notifications.get(key=key)
    assert people.first.notifications.get(key=key)
    assert people.direct.notifications.get(key=key)
    assert not Notification.objects.filter(
        key=f"roster-missing:{people.unit_b.pk}:2026-12"
    ).exists()
    assert Notification.objects.filter(key=key).count() == 3


def test_a_unit_on_leave_is_flagged_only_when_its_leave_runs_out(people):
    entitled(people.village_a, actor=people.handler, seed=1)
    grant_roster_leave(
        unit=people.unit_a,
        month=DECEMBER,
        until=date(2026, 11, 28),
        reason="系统故障",
        actor=people.supervisor,
    )
    key = f"roster-missing:{people.unit_a.pk}:2026-12"
    flag_missing_rosters(today=date(2026, 11, 26))
    assert not Notification.objects.filter(key=key).exists()
    flag_missing_rosters(today=date(2026, 11, 29))
    assert people.supervisor.notifications.filter(key=key).exists()
