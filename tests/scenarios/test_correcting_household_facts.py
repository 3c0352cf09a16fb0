"""Issue 16 walked in Chromium: a township handler files a household of three; during publicity
a neighbour objects that the spouse works in town for about 2,000 元 a month; the objection is
found substantiated, the handler corrects the spouse's income on the case page, the household is
visited again and reassessed, and the calculation sheet shows the amount a clerk computes by
hand; after a fresh publicity the two leaders sign it off to approval at that amount.

Hand computation (urban dibao standard 840 元, three members, basis date 2026-12-03,
12-month period December 2025 – November 2026):
- Filed: the applicant's wage of 600 元 a month, running before the period: 600 × 12 = 7,200;
  7,200 ÷ 12 = 600 元 a month; dibao 840 × 3 − 600 = 2,520 − 600 = 1,920 元.
- Corrected: the spouse's wage of 2,000 元 from 2026-06-01 covers June to November whole:
  2,000 × 6 = 12,000 (December 2026 has run three days and is not in the period).
  (7,200 + 12,000) ÷ 12 = 1,600 元 a month; dibao 2,520 − 1,600 = 920 元.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

import pytest
import time_machine

from cases.models import Case, FactChange, MaterialRequirement, State

from ..cases.flow import PDF_BYTES, load_materials
from ..conftest import service_missing, signing_otp
from ..e2e_support import browser, chromium_available, open_case_from_home, signed_in
from ..factories import unique_id_number

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FILED_AMOUNT = Decimal("1920.00")  # 840 × 3 − 600
CORRECTED_AMOUNT = Decimal("920.00")  # 840 × 3 − (600 × 12 + 2,000 × 6) ÷ 12


@pytest.fixture
def chromium():
    if not chromium_available():
        service_missing("chromium")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with browser() as launched:
        yield launched


def step(page, name, signer=None, **fields):
    form = page.locator(f"form[data-step={name}]")
    for field, value in fields.items():
        target = form.locator(f"[name={field}]").first
        if target.evaluate("e => e.tagName") == "SELECT":
            target.select_option(value)
        else:
            target.fill(value)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    if page.locator("[data-testid=confirm-form]").count():  # an act that cannot be undone
        code = page.locator("input[name=otp_token]")
        if code.count():
            code.fill(signing_otp(signer))
        with page.expect_navigation():
            page.click("[data-testid=confirm-step]")
    assert page.locator(".msg-error").count() == 0, page.inner_text("main")[:1500]


def visit(page, day: str) -> None:
    form = page.locator("form[data-step=record_home_visit]")
    form.locator("input[name=investigator]").nth(0).fill("李经办")
    form.locator("input[name=investigator]").nth(1).fill("周协理")
    step(page, "record_home_visit", visited_on=day, findings="入户核实家庭成员及收入")


def amount_on_sheet(page) -> Decimal:
    return Decimal(page.inner_text("[data-testid=assessed-amount]"))


def test_a_substantiated_objection_corrects_the_spouses_income_and_the_amount_follows(
    live_server, people, standards, chromium
):
    load_materials()
    with time_machine.travel("2026-12-02 09:00 +08:00", tick=True):
        clerk = signed_in(chromium, live_server, people.handler)
        clerk.click("nav >> text=新申请")
        clerk.select_option("select[name=kind]", "dibao")
        clerk.select_option("select[name=area]", "urban")
        clerk.fill("input[name=m0_name]", "张明东")
        clerk.fill("input[name=m0_id]", unique_id_number(date(1970, 3, 1)))
        clerk.fill("input[name=m0_income]", "600")
        clerk.fill("input[name=m0_income_source]", "零工")
        clerk.fill("input[name=m1_name]", "李秀英")
        clerk.fill("input[name=m1_id]", unique_id_number(date(1972, 5, 1), sex="F"))
        clerk.click("text=添加家庭成员")  # a third row, added by the page's own script
        clerk.fill("input[name=m2_name]", "张小华")
        clerk.fill("input[name=m2_id]", unique_id_number(date(2012, 9, 1)))
        clerk.select_option("select[name=m2_relation]", "child")
        with clerk.expect_navigation():
            clerk.click("main button[type=submit].primary")
        assert clerk.locator("[data-testid=form-error]").count() == 0, clerk.inner_text("main")
        case = Case.objects.get()
        assert case.household.members.count() == 3

        step(clerk, "accept")
        step(clerk, "record_consent", method="on_screen", signers="张明东、李秀英")
        step(clerk, "request_verification")
        officer = signed_in(chromium, live_server, people.verifier)
        officer.click("nav >> text=核对任务")
        with officer.expect_navigation():
            officer.locator("[data-testid=verification-task] [data-testid=open-task]").first.click()
        social = officer.locator("[data-testid=findings-form] tr", has_text="人力资源和社会保障")
        social.locator("input[name=result]").fill("未发现社保缴费记录")
        officer.locator("textarea[name=summary]").fill("未发现不符合条件的收入或财产")
        with officer.expect_navigation():
            officer.click("[data-testid=submit-report]")
        clerk.reload()
        visit(clerk, "2026-12-02")
        step(clerk, "assess")
        assert amount_on_sheet(clerk) == FILED_AMOUNT
        step(clerk, "publish", location="村委会公示栏")

    with time_machine.travel("2026-12-03 09:00 +08:00", tick=True):
        clerk = signed_in(chromium, live_server, people.handler)
        open_case_from_home(clerk, case)
        step(clerk, "record_objection", content="其配偶自6月起在镇上超市务工，月收入约2000元")
        form = clerk.locator("form[data-step=resolve_objection]")
        form.locator("input[name=substantiated][value=yes]").check()
        step(
            clerk, "resolve_objection", resolution="经核实，配偶自2026年6月1日起务工，月工资2000元"
        )
        assert clerk.inner_text("[data-testid=case-state]") == "已出具核对报告"

        # The correction, on the case page: the spouse's wage from 2026-06-01.
        clerk.click("#household-facts details:has([data-testid=income-add]) > summary")
        add = clerk.locator("[data-testid=income-add]")
        add.locator("select[name=person]").select_option(label="李秀英")
        add.locator("select[name=kind]").select_option("wage")
        add.locator("input[name=source]").fill("镇上超市")
        add.locator("input[name=monthly_amount]").fill("2000")
        add.locator("input[name=period_start]").fill("2026-06-01")
        add.locator("textarea[name=reason]").fill("公示异议成立：配偶自6月起务工")
        with clerk.expect_navigation():
            add.locator("button[type=submit]").click()
        assert clerk.locator(".msg-error").count() == 0, clerk.inner_text("main")[:1500]
        timeline = clerk.inner_text("[data-testid=timeline]")
        assert (
            "新增收入：李秀英 工资性收入" in timeline
            and "公示异议成立：配偶自6月起务工" in timeline
        )
        assert FactChange.objects.get().actor == people.handler

        visit(clerk, "2026-12-03")
        step(clerk, "assess")
        sheet = clerk.inner_text("[data-testid=assessment]")
        assert "2025年12月至2026年11月" in sheet
        assert "840.00 × 3 − 1600.00 = 920.00 元" in sheet
        assert amount_on_sheet(clerk) == CORRECTED_AMOUNT
        step(clerk, "publish", location="村委会公示栏")
        for requirement in MaterialRequirement.objects.filter(
            kind="dibao", required=True, platform_supplied=False
        ).exclude(code__in=["declaration", "authorization"]):
            clerk.select_option("select[name=requirement]", str(requirement.pk))
            clerk.set_input_files(
                "input[name=file]",
                files=[{"name": "scan.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}],
            )
            with clerk.expect_navigation():
                clerk.click("[data-testid=materials] button[type=submit]")

    with time_machine.travel("2026-12-10 09:00 +08:00", tick=True):
        clerk = signed_in(chromium, live_server, people.handler)
        open_case_from_home(clerk, case)
        step(clerk, "propose", outcome="approve")
        leader = signed_in(chromium, live_server, people.direct)
        open_case_from_home(leader, case)
        step(leader, "sign_opinion", signer=people.direct, opinion="agree")
        head = signed_in(chromium, live_server, people.first)
        open_case_from_home(head, case)
        step(head, "confirm", signer=people.first, outcome="approve")
        clerk.reload()
        step(clerk, "issue_decision")
        assert clerk.inner_text("[data-testid=case-state]") == "已批准"
        # Approved: the facts are no longer corrected in place.
        assert clerk.locator("[data-testid=income-add]").count() == 0
        assert "只能通过变更报告或定期复核更正" in clerk.inner_text("#household-facts")

    case = Case.objects.get()
    assert case.state == State.APPROVED and case.monthly_amount == CORRECTED_AMOUNT
