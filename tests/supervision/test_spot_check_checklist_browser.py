"""In Chromium on a 1024×768 tablet: a county supervisor follows the links from the workbench to
a drawn sample, checks it against the facts the checklist shows, records one problem, and the
finding reads in Chinese."""

from __future__ import annotations

import os
import re
from datetime import date

import pytest

from supervision.services import draw_spot_check_sample

from ..conftest import service_missing
from ..e2e_support import browser, chromium_available, signed_in

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
LANDSCAPE_TABLET = {"width": 1024, "height": 768}


def follow(page, text: str) -> None:
    """Click a visible link by its words, opening the menu first where the screen folds it."""
    link = page.get_by_role("link", name=text, exact=True).first
    if not link.is_visible() and page.locator("label.nav-toggle-label").is_visible():
        page.click("label.nav-toggle-label")
    with page.expect_navigation():
        link.click()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_supervisor_fills_the_checklist_against_the_facts_and_the_finding_reads_in_chinese(
    live_server, people, decided_case
):
    if not chromium_available():
        service_missing("chromium")
    case = decided_case()
    applicant = case.household.members.order_by("id").first()
    draw = draw_spot_check_sample(
        period_start=date(2026, 3, 1), period_end=date(2026, 3, 31), actor=people.supervisor
    )
    with browser() as chromium:
        tablet = signed_in(chromium, live_server, people.supervisor, viewport=LANDSCAPE_TABLET)
        follow(tablet, "监督")
        follow(tablet, "实地抽查")
        follow(tablet, "2026-03-01 至 2026-03-31")
        follow(tablet, "录入核查")
        assert case.number in tablet.inner_text("h1")
        assert tablet.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        facts = tablet.inner_text("[data-testid=sample-facts]")
        assert applicant.name in facts and applicant.masked_id in facts
        assert applicant.id_number not in tablet.content()
        assert "840.00元" in facts and case.get_kind_display() in facts
        assert "月人均收入" in facts

        form = tablet.locator("form#spot-check-form")
        form.locator("input[name=income_ok][value=problem]").check()
        form.locator("textarea[name=income_note]").fill("申请人务工收入与核算不符")
        for item in ("home_visit", "archive", "publicity"):
            form.locator(f"input[name={item}_ok][value=ok]").check()
        with tablet.expect_navigation():
            form.locator("button[type=submit]").click()
        assert "核查结果已保存" in tablet.inner_text(".messages")
        assert "已核查（有问题）" in tablet.inner_text("[data-testid=draw-samples]")

        follow(tablet, "问题与整改")
        with tablet.expect_navigation():
            tablet.locator("table a", has_text="#").first.click()
        text = tablet.inner_text("main")
        assert "实地监督核查" in text
        assert re.search(r"收入核算\s+有问题\s+申请人务工收入与核算不符", text)
        assert case.number in text and str(draw) in text
        assert not re.search(r"[{}]|'ok'|True|False|None|income|home_visit", text), text
