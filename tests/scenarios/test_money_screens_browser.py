"""In Chromium, on 21 November 2026: unit A's leader finds December's roster on the home page,
reads what changed since November, searches a line and signs; the county supervisor opens the
month's statistics and sees a chart drawn beside each table."""

from __future__ import annotations

import os

import pytest
import time_machine

from ..conftest import service_missing, signing_otp
from ..disbursement.conftest import entitle  # noqa: F401
from ..disbursement.test_roster_review import december  # noqa: F401
from ..e2e_support import browser, chromium_available, signed_in

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_leader_reviews_the_changes_and_signs_and_the_county_reads_the_charts(
    live_server,
    people,
    december,  # noqa: F811
):
    if not chromium_available():
        service_missing("chromium")
    from disbursement.services import sign_roster

    roster, households = december
    with time_machine.travel("2026-11-21 11:00 +08:00", tick=True), browser() as chromium:
        sign_roster(roster=roster, actor=people.handler)
        page = signed_in(chromium, live_server, people.direct)
        page.click("text=2026年12月正常发放清册")
        comparison = page.locator("[data-testid=comparison]")
        # 甲 670 kept; 乙 840 → 700; 丙 500 stopped; 丁 900 new: 2010 last month, 2270 now.
        assert "上月发放 3 户 2010.00 元；本清册 3 户 2270.00 元" in comparison.inner_text()
        assert comparison.locator("tr[data-change=stopped]").inner_text().count("户主死亡") == 1
        assert "复核：家庭成员新就业" in comparison.locator("tr[data-change=changed]").inner_text()

        page.fill("input[name=q]", households["new"].holder_name)
        with page.expect_navigation():
            page.click("[data-testid=line-filters] button")
        assert "符合条件 1 户" in page.inner_text("main")

        page.fill("input[name=otp_token]", signing_otp(people.direct))
        with page.expect_navigation():
            page.click("main button:has-text('签字（分管领导审核）')")
        assert "分管领导审核：赵分管" in page.inner_text("main")

        county = signed_in(chromium, live_server, people.supervisor)
        county.goto(f"{live_server.url}/supervision/statistics/?month=2026-11")
        for key in ("by_category", "by_unit", "detail"):
            chart = county.locator(f"[data-testid=chart-{key}]")
            chart.wait_for()
            county.wait_for_function(
                f"document.querySelector('[data-testid=chart-{key}]').dataset.drawn === 'true'"
            )
        assert "巴彦高勒镇" in county.inner_text("[data-testid=table-by_unit]")
