"""The dashboard's summary figures: counted into a snapshot, shown with its time, recounted on
demand, nightly, for a new month or when too old; the live sections stay live."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.access import Scope
from cases.models import Case, Kind, Outcome, State
from disbursement.services import in_force_queryset
from supervision import summary
from supervision.models import DashboardSnapshot
from supervision.selectors import Filters, dashboard

from ..disbursement.conftest import entitled
from ..factories import CaseFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 15)
COUNTY = Scope(everything=True)
FILTERS = Filters(start=date(2026, 1, 1), end=TODAY)


def section(sections, key):
    return next(s for s in sections if s.key == key)


def caseload_total(sections) -> int:
    return sum(row[3] for row in section(sections, "caseload").rows)


def decide(village, **fields):
    case = CaseFactory(applicant__household__village=village, kind=Kind.DIBAO)
    Case.objects.filter(pk=case.pk).update(**fields)
    return case


def test_the_summary_figures_stay_as_counted_until_recounted_and_the_live_ones_do_not(people):
    decide(people.village_a, state=State.IN_PAYMENT, decided_on=date(2026, 3, 2), outcome="approve")
    first = dashboard(scope=COUNTY, filters=FILTERS, today=TODAY)
    assert caseload_total(first) == 1
    assert section(first, "caseload").as_of is not None
    assert section(first, "deadlines").as_of is None

    decide(people.village_a, state=State.VISITED, due_date=TODAY - timedelta(days=1))
    second = dashboard(scope=COUNTY, filters=FILTERS, today=TODAY)
    assert caseload_total(second) == 1  # as counted at the snapshot's time, which the page shows
    assert section(second, "deadlines").rows[0][1:] == [1, 1, 0]  # live

    summary.refresh(TODAY)
    third = dashboard(scope=COUNTY, filters=FILTERS, today=TODAY)
    assert caseload_total(third) == Case.objects.count() == 2


def test_a_snapshot_for_another_month_or_too_old_is_recounted(people):
    old = summary.refresh(TODAY)
    decide(people.village_b, state=State.IN_PAYMENT)
    DashboardSnapshot.objects.filter(pk=old.pk).update(
        computed_at=timezone.now() - summary.MAX_AGE - timedelta(minutes=1)
    )
    assert caseload_total(dashboard(scope=COUNTY, filters=FILTERS, today=TODAY)) == 1
    assert DashboardSnapshot.objects.count() == 1  # the old one is gone with its rows

    decide(people.village_b, state=State.IN_PAYMENT)
    next_month = dashboard(scope=COUNTY, filters=FILTERS, today=date(2027, 1, 5))
    assert caseload_total(next_month) == 2
    assert DashboardSnapshot.objects.get().month == date(2027, 1, 1)


def test_the_payments_and_decisions_equal_what_the_records_hold(people):
    made = [
        entitled(people.village_a, seed=1, amount="670", decided_on=date(2026, 11, 10)),
        entitled(people.village_a, seed=2, amount="500", decided_on=date(2026, 11, 12)),
        entitled(people.village_b, seed=3, amount="300", decided_on=date(2026, 11, 3)),
    ]
    Case.objects.filter(pk=made[0].case_id).update(decided_on_time=False)
    sections = dashboard(scope=COUNTY, filters=FILTERS, today=TODAY)

    paid = {row[0]: row[2:] for row in section(sections, "beneficiaries").rows}
    for unit in (people.unit_a, people.unit_b):
        mine = in_force_queryset(date(2026, 12, 1)).filter(unit=unit)
        assert paid[unit.name] == [mine.count(), sum(e.amount_due for e in mine)]
    assert paid[people.unit_a.name][1] == Decimal("1170.00")

    flow = {row[0]: row[1:] for row in section(sections, "flow").rows}
    assert flow["2026-11"][1] == 3 and flow["2026-11"][2] == 0
    on_time = {row[0]: row[1:3] for row in section(sections, "on_time").rows}
    assert on_time[people.unit_a.name] == [2, 0]  # one late, one never marked on time
    assert Case.objects.filter(outcome=Outcome.APPROVE).count() == 3


def test_a_county_supervisor_recounts_on_the_page_and_no_one_else_can(people, login):
    decide(people.village_a, state=State.IN_PAYMENT)
    client = login(people.supervisor)
    page = client.get("/supervision/?start=2026-01-01")
    assert "统计时点" in page.content.decode() and "立即重新统计" in page.content.decode()
    before = DashboardSnapshot.objects.get()

    response = client.post("/supervision/refresh/", {"query": "start=2026-01-01"})
    assert response.status_code == 302 and response["Location"] == "/supervision/?start=2026-01-01"
    assert DashboardSnapshot.objects.get().pk > before.pk

    leader = login(people.first, Client())
    assert leader.post("/supervision/refresh/").status_code == 404
    assert "立即重新统计" not in leader.get("/supervision/").content.decode()
