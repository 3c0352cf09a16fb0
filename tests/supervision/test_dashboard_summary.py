"""The dashboard's summary figures: counted into a snapshot, shown with its time, recounted on
demand, nightly, for a new month or when too old; the live sections stay live."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.access import Scope
from cases.models import Case, CaseEvent, Kind, Outcome, State
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
    entitled(
        people.village_a, seed=1, amount="670", decided_on=date(2026, 11, 10), decided_on_time=False
    )
    entitled(people.village_a, seed=2, amount="500", decided_on=date(2026, 11, 12))
    entitled(people.village_b, seed=3, amount="300", decided_on=date(2026, 11, 3))
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


def local(year, month, day, hour, minute=0):
    return timezone.make_aware(datetime(year, month, day, hour, minute))


def by_local_month(moments) -> dict[str, int]:
    counts: dict[str, int] = {}
    for moment in moments:
        month = f"{timezone.localtime(moment):%Y-%m}"
        counts[month] = counts.get(month, 0) + 1
    return counts


def test_the_monthly_applications_and_stops_equal_what_the_records_hold(people):
    """Submissions and terminations are counted in the local month they happened, the first
    hour of a month (still the previous month in UTC) included."""
    submitted = [
        (people.village_a, local(2026, 11, 1, 0, 30)),
        (people.village_a, local(2026, 11, 12, 9)),
        (people.village_b, local(2026, 11, 30, 23, 30)),
        (people.village_a, local(2026, 10, 31, 23, 30)),
        (people.village_b, local(2026, 12, 1, 0, 30)),
    ]
    cases = [
        decide(village, state=State.IN_PAYMENT, submitted_at=when) for village, when in submitted
    ]
    events = [
        (cases[1], 1, State.IN_PAYMENT, local(2026, 11, 20, 10)),
        (cases[1], 2, State.TERMINATED, local(2026, 11, 25, 10)),  # a note, not another stop
        (cases[2], 1, State.IN_PAYMENT, local(2026, 12, 1, 0, 30)),  # 30 November in UTC
    ]
    for case, seq, from_state, when in events:
        Case.objects.filter(pk=case.pk).update(state=State.TERMINATED)
        CaseEvent.objects.create(
            case=case,
            seq=seq,
            action="terminate" if from_state != State.TERMINATED else "note",
            label="终止",
            from_state=from_state,
            to_state=State.TERMINATED,
            at=when,
        )
    summary.refresh(TODAY)
    flow = {
        row[0]: row[1:] for row in section(dashboard(scope=COUNTY, filters=FILTERS), "flow").rows
    }

    applied = by_local_month(
        Case.objects.filter(submitted_at__isnull=False).values_list("submitted_at", flat=True)
    )
    stops = by_local_month(
        CaseEvent.objects.filter(to_state=State.TERMINATED)
        .exclude(from_state=State.TERMINATED)
        .values_list("at", flat=True)
    )
    for month in ("2026-10", "2026-11", "2026-12"):
        assert flow[month][0] == applied.get(month, 0), month
        assert flow[month][3] == stops.get(month, 0), month
    assert [flow["2026-11"][0], flow["2026-11"][3]] == [3, 1]
    assert [flow["2026-10"][0], flow["2026-12"][0], flow["2026-12"][3]] == [1, 1, 1]


def test_a_unit_leaders_monthly_flow_counts_only_the_units_cases(people):
    from supervision.selectors import dashboard_scope_for

    decide(people.village_a, state=State.IN_PAYMENT, submitted_at=local(2026, 11, 3, 9))
    decide(people.village_b, state=State.IN_PAYMENT, submitted_at=local(2026, 11, 4, 9))
    summary.refresh(TODAY)
    november = Filters(start=date(2026, 11, 1), end=date(2026, 11, 30))  # the scope decides
    sections = dashboard(scope=dashboard_scope_for(people.first), filters=november, today=TODAY)
    mine = Case.objects.filter(unit=people.unit_a, submitted_at__month=11).count()
    assert section(sections, "flow").rows[0][:2] == ["2026-11", mine] == ["2026-11", 1]


def test_imported_households_are_not_applications_of_the_import_month(people):
    decide(people.village_a, state=State.IN_PAYMENT, submitted_at=local(2026, 11, 12, 9))
    for _ in range(3):
        decide(
            people.village_a,
            state=State.IN_PAYMENT,
            submitted_at=local(2026, 11, 20, 9),
            imported=True,
        )
    summary.refresh(TODAY)
    flow = {
        row[0]: row[1:] for row in section(dashboard(scope=COUNTY, filters=FILTERS), "flow").rows
    }
    assert flow["2026-11"][0] == 1
