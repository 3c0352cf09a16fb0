"""The dashboard's figures equal counts made independently, for the county and for one unit."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from cases.models import Case, Kind, Outcome, State
from supervision.models import Finding, Rectification, Rule
from supervision.selectors import RULE_LABELS, Filters, dashboard

from ..factories import CaseFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 5, 15)


@pytest.fixture
def county_cases(people):
    """A mix of cases in both units; the tests recount them from this list, not from queries."""
    made = []

    def make(village, kind, state, **fields):
        case = CaseFactory(applicant__household__village=village, kind=kind)
        Case.objects.filter(pk=case.pk).update(state=state, **fields)
        made.append((village.unit_id, kind, state, fields))

    a, b = people.village_a, people.village_b
    for i in range(4):
        make(
            a,
            Kind.DIBAO,
            State.IN_PAYMENT,
            monthly_amount=Decimal("500.00"),
            decided_on=date(2026, 3, 10 + i),
            outcome=Outcome.APPROVE,
            decided_on_time=i != 0,
        )
    make(
        a,
        Kind.TEKUN,
        State.REJECTED,
        decided_on=date(2026, 4, 2),
        outcome=Outcome.REJECT,
        decided_on_time=True,
    )
    make(a, Kind.DIBAO, State.VISITED, due_date=TODAY - timedelta(days=1))
    make(a, Kind.DIBAO, State.ASSESSED, due_date=TODAY + timedelta(days=2))
    make(
        b,
        Kind.DIBAO,
        State.IN_PAYMENT,
        monthly_amount=Decimal("300.00"),
        decided_on=date(2026, 4, 20),
        outcome=Outcome.APPROVE,
        decided_on_time=False,
    )
    make(b, Kind.MARGINAL, State.ACCEPTED, due_date=TODAY + timedelta(days=30))
    return made


def section(sections, key):
    return next(s for s in sections if s.key == key)


def county_scope():
    from accounts.access import Scope

    return Scope(everything=True)


def test_the_county_dashboard_counts_what_the_records_hold(people, county_cases):
    filters = Filters(start=date(2026, 1, 1), end=TODAY)
    sections = dashboard(scope=county_scope(), filters=filters, today=TODAY)

    caseload = section(sections, "caseload")
    assert sum(row[3] for row in caseload.rows) == len(county_cases)
    assert ["巴彦高勒镇", "城乡低保", "发放中", 4] in caseload.rows

    on_time = {row[0]: row[1:3] for row in section(sections, "on_time").rows}
    decided = [c for c in county_cases if c[3].get("decided_on")]
    for unit in (people.unit_a, people.unit_b):
        mine = [c for c in decided if c[0] == unit.pk]
        assert on_time[unit.name] == [len(mine), sum(1 for c in mine if c[3]["decided_on_time"])]

    deadlines = {row[0]: row[1:] for row in section(sections, "deadlines").rows}
    assert deadlines["巴彦高勒镇"] == [2, 1, 1]
    assert deadlines["隆盛合镇"] == [1, 0, 0]

    flow = {row[0]: row[1:] for row in section(sections, "flow").rows}
    assert flow["2026-03"][1] == 4 and flow["2026-04"][1:3] == [1, 1]


def test_a_unit_leader_sees_only_the_units_figures(people, county_cases, login):
    client = login(people.first)
    response = client.get("/supervision/?start=2026-01-01&end=2026-05-15")
    assert response.status_code == 200
    caseload = section(response.context["sections"], "caseload")
    assert {row[0] for row in caseload.rows} == {"巴彦高勒镇"}
    assert sum(row[3] for row in caseload.rows) == sum(
        1 for c in county_cases if c[0] == people.unit_a.pk
    )


def test_the_dashboard_filters_by_unit_and_kind_and_downloads_what_is_shown(
    people, county_cases, login
):
    client = login(people.supervisor)
    Finding.objects.create(rule=Rule.DECIDED_LATE, unit=people.unit_b, evidence={})
    url = f"/supervision/?unit={people.unit_b.pk}&kind=dibao&start=2026-01-01&end=2026-05-15"
    response = client.get(url)
    caseload = section(response.context["sections"], "caseload")
    assert caseload.rows == [["隆盛合镇", "城乡低保", "发放中", 1]]
    assert b'data-chart="caseload"' in response.content
    assert b'id="dashboard-charts"' in response.content

    workbook = load_workbook(io.BytesIO(client.get(url + "&export=xlsx").content))
    assert workbook.worksheets[0]["A2"].value == "隆盛合镇"
    csv_text = client.get(url + "&export=csv").content.decode("utf-8-sig")
    assert "隆盛合镇,城乡低保,发放中,1" in csv_text


def test_village_assistants_and_handlers_get_404_on_the_dashboard(people, login):
    assert login(people.handler).get("/supervision/").status_code == 404


def test_the_api_gives_the_same_figures_and_hides_other_units_findings(people, county_cases, api):
    response = api(people.supervisor).get(
        "/api/supervision/dashboard/?start=2026-01-01&end=2026-05-15"
    )
    assert response.status_code == 200
    caseload = next(s for s in response.json() if s["key"] == "caseload")
    assert sum(row[3] for row in caseload["rows"]) == len(county_cases)
    finding = Finding.objects.create(rule=Rule.DECIDED_LATE, unit=people.unit_a, evidence={})
    assert api(people.outsider).get(f"/api/supervision/findings/{finding.pk}/").status_code == 404
    assert api(people.handler).get(f"/api/supervision/findings/{finding.pk}/").status_code == 200
    assert api(people.handler).get("/api/supervision/dashboard/").status_code == 404


@pytest.fixture
def open_and_closed_findings(people):
    """Findings in both units, some closed; rectifications not yet accepted in both units and
    one accepted."""

    def case_in(village):
        return CaseFactory(applicant__household__village=village)

    def finding(case, rule, state=Finding.State.OPEN):
        return Finding.objects.create(
            rule=rule, case=case, unit=case.unit, state=state, evidence={}
        )

    a1, a2, b1 = case_in(people.village_a), case_in(people.village_a), case_in(people.village_b)
    late = finding(a1, Rule.DECIDED_LATE)
    finding(a2, Rule.DECIDED_LATE)
    finding(a1, Rule.AMOUNT_MISMATCH)
    finding(a2, Rule.AMOUNT_MISMATCH, state=Finding.State.CLOSED)
    missing = finding(b1, Rule.STAGE_MISSING)
    fixed = finding(b1, Rule.DECIDED_LATE, state=Finding.State.CLOSED)
    for found, state in (
        (late, Rectification.State.ANSWERED),
        (missing, Rectification.State.ORDERED),
        (fixed, Rectification.State.ACCEPTED),
    ):
        Rectification.objects.create(
            finding=found,
            unit=found.unit,
            instruction="限期补正",
            due_on=TODAY + timedelta(days=10),
            state=state,
            ordered_by=people.supervisor,
        )


def counted_with_the_orm(units) -> dict[tuple[str, str], int]:
    """Open findings per unit and rule, and unaccepted rectifications per unit, one count each."""
    expected = {}
    for unit in units:
        for rule in Rule:
            n = Finding.objects.filter(unit=unit, rule=rule, state=Finding.State.OPEN).count()
            if n:
                expected[(unit.name, RULE_LABELS[rule])] = n
        pending = (
            Rectification.objects.filter(unit=unit)
            .exclude(state=Rectification.State.ACCEPTED)
            .count()
        )
        if pending:
            expected[(unit.name, "（整改）")] = pending
    return expected


def findings_rows(sections) -> dict[tuple[str, str], int]:
    return {(row[0], row[1]): row[2] or row[3] for row in section(sections, "findings").rows}


def test_open_findings_and_rectifications_equal_counts_made_with_the_orm(
    people, open_and_closed_findings
):
    filters = Filters(start=date(2026, 1, 1), end=TODAY)
    sections = dashboard(scope=county_scope(), filters=filters, today=TODAY)
    expected = counted_with_the_orm([people.unit_a, people.unit_b])
    assert findings_rows(sections) == expected
    assert expected == {
        ("巴彦高勒镇", RULE_LABELS[Rule.DECIDED_LATE]): 2,
        ("巴彦高勒镇", RULE_LABELS[Rule.AMOUNT_MISMATCH]): 1,
        ("巴彦高勒镇", "（整改）"): 1,
        ("隆盛合镇", RULE_LABELS[Rule.STAGE_MISSING]): 1,
        ("隆盛合镇", "（整改）"): 1,
    }


def test_a_unit_leaders_page_shows_only_the_units_open_findings(
    people, open_and_closed_findings, login
):
    page = f"/supervision/?start=2026-01-01&end=2026-05-15&unit={people.unit_b.pk}"
    response = login(people.first).get(page)  # asking for another unit changes nothing
    assert response.status_code == 200
    assert findings_rows(response.context["sections"]) == counted_with_the_orm([people.unit_a])


def test_the_unit_scope_alone_keeps_other_units_findings_out(people, open_and_closed_findings):
    from supervision.selectors import dashboard_scope_for

    filters = Filters(start=date(2026, 1, 1), end=TODAY)  # no unit filter: the scope decides
    sections = dashboard(scope=dashboard_scope_for(people.first), filters=filters, today=TODAY)
    assert findings_rows(sections) == counted_with_the_orm([people.unit_a])
