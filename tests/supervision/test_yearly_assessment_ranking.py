"""A unit with nothing to assess is shown as such after the ranked units, never first with
full marks; each score reads the year's records and links to its evidence."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from accounts.models import UnitKind
from cases.models import State
from supervision.models import Complaint, Finding, Rule
from supervision.selectors import yearly_assessment

from ..factories import UnitFactory
from .test_statistics_agencies_assessment import case_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_working_units_and_an_idle_one(people):
    """Unit A decides 3 cases, 2 on time; unit B decides 6, 5 on time, with one finding."""
    for unit_village, on_times in ((people.village_a, [True, True, False]),
                                   (people.village_b, [True] * 5 + [False])):  # fmt: skip
        for on_time in on_times:
            case_in(
                unit_village,
                State.APPROVED,
                decided_on=date(2026, 5, 6),
                decided_on_time=on_time,
                outcome="approve",
            )
    Finding.objects.create(rule=Rule.DECIDED_LATE, unit=people.unit_b, evidence={})
    return UnitFactory(code="150822200", name="沙金套海苏木", kind=UnitKind.SUMU)


def test_the_idle_unit_is_not_ranked_above_the_units_that_did_the_work(
    two_working_units_and_an_idle_one, people
):
    sheet = yearly_assessment(year=2026)
    assert [row["unit"].name for row in sheet] == ["隆盛合镇", "巴彦高勒镇", "沙金套海苏木"]
    b, a, idle = sheet
    # B: on time 5/6 = 83.33, findings 100×(1−1/6) = 83.33 → (40×83.33 + 20×83.33)/60 = 83.3
    assert (b["score"], b["rank"]) == (Decimal("83.3"), 1)
    # A: on time 2/3 = 66.67, no finding 100 → (40×66.67 + 20×100)/60 = 77.8
    assert (a["score"], a["rank"]) == (Decimal("77.8"), 2)
    assert (idle["score"], idle["rank"]) == (None, None)
    assert all(value is None for value in idle["parts"].values())


def test_substantiated_complaints_count_against_the_unit(people):
    for substantiated in (True, False, False, None):
        Complaint.objects.create(
            received_on=date(2026, 4, 1),
            channel="letter",
            subject="反映",
            unit=people.unit_a,
            substantiated=substantiated,
            due_on=date(2026, 6, 1),
            registered_by=people.supervisor,
        )
    row = {r["unit"].pk: r for r in yearly_assessment(year=2026)}[people.unit_a.pk]
    # Three investigated, one substantiated: 100 × 2/3 = 66.7; the one not yet investigated waits.
    assert row["evidence"]["complaints"] == 3 and row["parts"]["complaints"] == Decimal("66.7")


def test_the_page_says_nothing_to_assess_and_links_each_score_to_its_evidence(
    two_working_units_and_an_idle_one, people, login
):
    html = login(people.supervisor).get("/supervision/assessment/?year=2026").content.decode()
    assert "本年度无可考核事项，不参与排名" in html
    assert f'/supervision/assessment/2026/{people.unit_a.pk}/#on_time">66.7</a>' in html
    evidence = login(people.supervisor).get(f"/supervision/assessment/2026/{people.unit_a.pk}/")
    assert 'id="training"' in evidence.content.decode()
