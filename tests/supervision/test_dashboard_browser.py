"""In Chromium: the county dashboard and a unit's dashboard draw every chart."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

import pytest

from cases.models import Case, Kind, Outcome, State

from ..conftest import service_missing
from ..e2e_support import browser, chromium_available, signed_in
from ..factories import CaseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chromium():
    if not chromium_available():
        service_missing("chromium")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with browser() as launched:
        yield launched


def assert_charts_drawn(page):
    containers = page.locator("[data-chart]")
    assert containers.count() == 6
    for i in range(containers.count()):
        container = containers.nth(i)
        container.locator("canvas, svg").first.wait_for(state="attached", timeout=10000)
        assert container.get_attribute("data-drawn") == "true"


def test_the_county_and_a_unit_dashboard_draw_their_charts(people, chromium, live_server):
    for village, n in ((people.village_a, 3), (people.village_b, 2)):
        for _ in range(n):
            case = CaseFactory(applicant__household__village=village, kind=Kind.DIBAO)
            Case.objects.filter(pk=case.pk).update(
                state=State.IN_PAYMENT,
                decided_on=date.today().replace(day=1),
                outcome=Outcome.APPROVE,
                decided_on_time=True,
                monthly_amount=Decimal("500"),
            )
    county = signed_in(chromium, live_server, people.supervisor)
    county.goto(f"{live_server.url}/supervision/")
    assert_charts_drawn(county)
    assert "隆盛合镇" in county.locator("[data-testid=table-caseload]").inner_text()

    unit = signed_in(chromium, live_server, people.first)
    unit.goto(f"{live_server.url}/supervision/")
    assert_charts_drawn(unit)
    assert "隆盛合镇" not in unit.locator("[data-testid=table-caseload]").inner_text()
    assert "巴彦高勒镇" in unit.locator("h1").inner_text()
