"""In Chromium under the Content-Security-Policy: the dashboard still draws its charts and
shows a tooltip, and the browser reports no violation."""

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

# Recorded before any page script runs, so a violation by the first script is caught too.
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture
def chromium():
    if not chromium_available():
        service_missing("chromium")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with browser() as launched:
        yield launched


def test_the_dashboard_draws_under_the_policy_without_a_violation(people, chromium, live_server):
    for _ in range(3):
        case = CaseFactory(applicant__household__village=people.village_a, kind=Kind.DIBAO)
        Case.objects.filter(pk=case.pk).update(
            state=State.IN_PAYMENT,
            decided_on=date.today().replace(day=1),
            outcome=Outcome.APPROVE,
            decided_on_time=True,
            monthly_amount=Decimal("500"),
        )
    page = signed_in(chromium, live_server, people.supervisor)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(WATCH_VIOLATIONS)
    response = page.goto(f"{live_server.url}/supervision/")
    assert "script-src 'self'" in response.headers["content-security-policy"]

    charts = page.locator("[data-chart]")
    assert charts.count() == 6
    for i in range(charts.count()):
        charts.nth(i).locator("canvas").first.wait_for(state="attached", timeout=10000)
        assert charts.nth(i).get_attribute("data-drawn") == "true"
    first = charts.first.bounding_box()
    page.mouse.move(first["x"] + first["width"] / 2, first["y"] + first["height"] / 2)
    page.wait_for_timeout(500)

    assert page.evaluate("window.__cspViolations") == []
    assert [text for text in console if "Content Security Policy" in text] == []


def test_the_api_docs_render_without_a_script_violation(people, chromium, live_server, settings):
    settings.API_DOCS_PUBLIC = True
    page = chromium.new_context(locale="zh-CN").new_page()
    page.add_init_script(WATCH_VIOLATIONS)
    page.goto(f"{live_server.url}/api/docs/")
    page.locator(".swagger-ui .opblock").first.wait_for(timeout=15000)
    violations = page.evaluate("window.__cspViolations")
    assert violations == []
