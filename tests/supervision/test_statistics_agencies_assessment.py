"""Monthly statistics, the agencies' acceptance sheet and the yearly assessment, from the records."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from accounts.access import Scope
from cases.models import Case, CaseEvent, Kind, Outcome, State
from disbursement.models import ChangeSource
from disbursement.services import stop_entitlement
from supervision.models import AssessmentWeights, Finding, Rule, SpotCheckSample
from supervision.selectors import agency_sheet, monthly_statistics, yearly_assessment
from supervision.services import draw_spot_check_sample

from ..disbursement.conftest import entitled
from ..factories import CaseFactory, PersonFactory

pytestmark = pytest.mark.django_db


def case_in(village, state, **fields):
    case = CaseFactory(applicant__household__village=village, kind=fields.pop("kind", Kind.DIBAO))
    Case.objects.filter(pk=case.pk).update(state=state, **fields)
    return case


def test_monthly_statistics_read_the_entitlements_in_force_that_month(people):
    paid = entitled(people.village_a, seed=1, amount="400.00", decided_on=date(2026, 2, 5))
    PersonFactory(household=paid.household, relation="child")
    entitled(people.village_a, seed=2, amount="250.50", decided_on=date(2025, 11, 1))
    stopped = entitled(people.village_a, seed=3, amount="300.00", decided_on=date(2025, 5, 1))
    stop_entitlement(
        entitlement=stopped,
        effective_month=date(2026, 3, 1),
        reason="死亡",
        source=ChangeSource.DEATH,
        actor=None,
    )
    # Approved in March: paid from April, not a March household.
    entitled(people.village_a, seed=4, amount="500.00", decided_on=date(2026, 3, 2))
    rows = monthly_statistics(month=date(2026, 3, 1), scope=Scope(everything=True))
    # 400 + 250.50; the new one started in March, the stopped one was last paid in February.
    assert rows == [["城乡低保", "农村牧区", "巴彦高勒镇", 2, 3, Decimal("650.50"), 1, 1]]


def test_the_statistics_export_to_excel_with_totals(people, login):
    entitled(people.village_b, seed=5, amount="300.00", decided_on=date(2026, 1, 10))
    response = login(people.supervisor).get("/supervision/statistics/?month=2026-03&export=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet[2]][:6] == ["城乡低保", "农村牧区", "隆盛合镇", 1, 1, 300]
    assert sheet[3][0].value == "合计"


def test_the_agency_sheet_shows_its_cases_on_time_rate_and_home_visit_findings(people):
    for on_time in (True, False):
        case_in(
            people.village_a,
            State.APPROVED,
            agency=people.agency,
            decided_on=date(2026, 3, 3),
            decided_on_time=on_time,
            outcome=Outcome.APPROVE,
        )
    draw = draw_spot_check_sample(
        period_start=date(2026, 3, 1), period_end=date(2026, 3, 31), actor=people.supervisor
    )
    SpotCheckSample.objects.filter(draw=draw).update(
        checked_at=timezone.make_aware(datetime(2026, 4, 2, 10)),
        results={"home_visit": {"ok": False, "note": "未见调查人员签字"}},
    )
    row = agency_sheet(start=date(2026, 1, 1), end=date(2026, 12, 31))[0]
    assert (row["assigned"], row["decided"], row["on_time"], row["on_time_rate"]) == (
        2,
        2,
        1,
        Decimal("50.0"),
    )
    assert (row["checked"], row["problems"]) == (1, 1)


def test_the_yearly_score_follows_the_counties_weights_and_shows_its_evidence(people, login):
    for on_time in (True, True, True, False):
        case_in(
            people.village_a,
            State.APPROVED,
            decided_on=date(2026, 3, 3),
            decided_on_time=on_time,
            outcome=Outcome.APPROVE,
        )
    for _ in range(2):
        Finding.objects.create(rule=Rule.DECIDED_LATE, unit=people.unit_a, evidence={})
    sheet = {row["unit"].pk: row for row in yearly_assessment(year=2026)}
    mine = sheet[people.unit_a.pk]
    assert mine["evidence"]["decided"] == 4 and mine["evidence"]["findings"] == 2
    # on time 3/4 → 75; findings 100 × (1 − 2/4) → 50
    assert mine["parts"]["on_time"] == Decimal("75.0") and mine["parts"]["findings"] == Decimal(
        "50.0"
    )
    # No rectification, spot check, complaint or training to judge: those parts are left
    # out, never full marks. (40×75 + 20×50) over 60 = 66.67
    assert mine["parts"]["rectification"] is None and mine["parts"]["training"] is None
    assert mine["score"] == Decimal("66.7")
    login(people.supervisor).post(
        "/supervision/assessment/?year=2026",
        {"on_time": "100", "findings": "0", "rectification": "0", "spot_check": "0"},
    )
    assert AssessmentWeights.current().on_time == 100
    # 100×75 + 0×50 over 100 = 75.0
    assert {row["unit"].pk: row for row in yearly_assessment(year=2026)}[people.unit_a.pk][
        "score"
    ] == Decimal("75.0")


def test_the_statistics_report_has_a_chart_beside_each_table_and_prints_to_pdf(people, login):
    entitled(people.village_a, seed=6, amount="400.00", decided_on=date(2026, 1, 10))
    entitled(people.village_b, seed=7, amount="300.00", decided_on=date(2026, 1, 10))
    client = login(people.supervisor)
    page = client.get("/supervision/statistics/?month=2026-03").content.decode()
    for key in ("by_category", "by_unit", "detail"):
        assert f'data-testid="chart-{key}"' in page and f'data-testid="table-{key}"' in page
    assert "echarts.min.js" in page and 'id="dashboard-charts"' in page
    pdf = client.get("/supervision/statistics/?month=2026-03&export=pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    book = load_workbook(
        io.BytesIO(client.get("/supervision/statistics/?month=2026-03&export=xlsx").content)
    )
    assert book.sheetnames == ["2026年03月统计", "按救助类别和城乡汇总", "按单位汇总"]
    assert [c.value for c in book["按单位汇总"][2]][:2] == ["巴彦高勒镇", 1]


def test_marginal_households_are_counted_from_their_decisions_and_terminations(people):
    recognised = case_in(
        people.village_a,
        State.STANDING_PUBLICITY,
        kind=Kind.MARGINAL,
        decided_on=date(2026, 2, 10),
        outcome=Outcome.APPROVE,
    )
    PersonFactory(household=recognised.household, relation="child")
    ended = case_in(
        people.village_a,
        State.TERMINATED,
        kind=Kind.MARGINAL,
        decided_on=date(2026, 1, 10),
        outcome=Outcome.APPROVE,
    )
    CaseEvent.objects.create(
        case=ended,
        seq=1,
        action="terminate",
        label="终止",
        from_state="standing_publicity",
        to_state="terminated",
        at=timezone.make_aware(datetime(2026, 3, 18, 10)),
    )
    # Approved in April: today it is recognised, in March it was not.
    case_in(
        people.village_a,
        State.STANDING_PUBLICITY,
        kind=Kind.MARGINAL,
        decided_on=date(2026, 4, 2),
        outcome=Outcome.APPROVE,
    )
    march = monthly_statistics(month=date(2026, 3, 1), scope=Scope(everything=True))
    assert march == [["低保边缘家庭", "农村牧区", "巴彦高勒镇", 1, 2, Decimal("0.00"), 0, 1]]
    february = monthly_statistics(month=date(2026, 2, 1), scope=Scope(everything=True))
    assert february == [["低保边缘家庭", "农村牧区", "巴彦高勒镇", 2, 3, Decimal("0.00"), 1, 0]]
