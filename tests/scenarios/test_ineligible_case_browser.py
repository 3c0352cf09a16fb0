"""In Debian's Chromium, on Monday 7 December 2026: the township clerk files an application
for a man earning 1,000 元 a month; the county's check finds the wage; the clerk visits and
calculates (1,000 元 a head, above the rural standard of 670 元), proposes non-approval with
no publicity, the two leaders sign, and the non-approval notice with its reasons is issued
the same day, within the 3 working days. No publicity is ever posted for him."""

from __future__ import annotations

import os

import pytest
import time_machine

from cases.models import Case, DocType, MaterialRequirement, State

from ..cases.flow import PDF_BYTES, load_materials
from ..conftest import service_missing, signing_otp
from ..e2e_support import browser, chromium_available, open_case_from_home, signed_in
from ..factories import unique_id_number

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

TODAY = "2026-12-07"


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
    assert page.locator(".msg-error").count() == 0, page.inner_text(".messages")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_an_ineligible_household_gets_its_notice_without_a_publicity(
    live_server, people, standards
):
    if not chromium_available():
        service_missing("chromium")
    load_materials()
    with time_machine.travel("2026-12-07 09:00 +08:00", tick=True), browser() as chromium:
        clerk = signed_in(chromium, live_server, people.handler)
        with clerk.expect_navigation():
            clerk.click("[data-testid=home-block] a:text-is('录入申请')")
        clerk.select_option("select[name=kind]", "dibao")
        clerk.select_option("select[name=area]", "rural")
        clerk.fill("input[name=m0_name]", "王建国")
        clerk.fill("input[name=m0_id]", unique_id_number())
        clerk.fill("input[name=m0_income]", "1000")
        clerk.fill("input[name=m0_income_source]", "建筑工地务工")
        clerk.fill("input[name=m0_income_since]", "2024-01-01")
        with clerk.expect_navigation():
            clerk.click("main button[type=submit]")
        case = Case.objects.get()
        step(clerk, "accept")
        step(clerk, "record_consent", method="on_screen", signed_on=TODAY, signers="王建国")
        step(clerk, "request_verification")

        officer = signed_in(chromium, live_server, people.verifier)
        officer.click("nav >> text=核对任务")
        with officer.expect_navigation():
            officer.locator("[data-testid=verification-task] [data-testid=open-task]").first.click()
        wage = officer.locator("[data-testid=findings-form] tr", has_text="人力资源和社会保障")
        wage.locator("select[name=found]").select_option("yes")
        wage.locator("input[name=result]").fill("在建筑企业务工，月工资1000元")
        officer.locator("textarea[name=summary]").fill("申请人月工资收入1000元，高于低保标准")
        officer.locator("input[name=disqualifying]").check()
        with officer.expect_navigation():
            officer.click("[data-testid=submit-report]")

        clerk.reload()
        form = clerk.locator("form[data-step=record_home_visit]")
        form.locator("input[name=investigator]").nth(0).fill("李经办")
        form.locator("input[name=investigator]").nth(1).fill("周协理")
        step(clerk, "record_home_visit", visited_on=TODAY, findings="独居，在工地务工")
        step(clerk, "assess")
        # Hand computation: 1000 × 12 months ÷ 12 ÷ 1 person = 1000.00 元 a head > 670 元.
        assessment = clerk.inner_text("[data-testid=assessment]")
        assert "1000.00" in assessment and "670" in assessment
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

        # No publicity is offered: the clerk proposes non-approval straight away, the reasons
        # already written from the county's check.
        assert clerk.locator("form[data-step=publish]").count() == 0
        assert "不经公示，直接提出不予保障意见" in clerk.inner_text("[data-testid=ineligible]")
        proposal = clerk.locator("form[data-step=propose]")
        assert proposal.locator("select[name=outcome]").input_value() == "reject"
        assert "高于低保标准" in proposal.locator("textarea[name=text]").input_value()
        step(clerk, "propose")

        leader = signed_in(chromium, live_server, people.direct)
        open_case_from_home(leader, case)
        step(leader, "sign_opinion", signer=people.direct, opinion="agree")
        head = signed_in(chromium, live_server, people.first)
        open_case_from_home(head, case)
        decision = head.locator("form[data-step=confirm]")
        assert decision.locator("select[name=outcome]").input_value() == "reject"
        assert "高于低保标准" in decision.locator("textarea[name=reason]").input_value()
        step(head, "confirm", signer=people.first)

        clerk.reload()
        # Decided Monday 7 December: 3 working days are Tue 8, Wed 9, Thu 10 December.
        assert "2026-12-10前出具" in clerk.inner_text("[data-testid=notice-due]")
        step(clerk, "issue_decision")
        assert clerk.inner_text("[data-testid=case-state]") == "不予保障"

        notice = case.documents.get(doc_type=DocType.REJECTION_NOTICE)
        with clerk.expect_navigation():
            clerk.click(f"#documents tr:has-text('{notice.number}') a:text-is('查看')")
        assert "不予保障告知书" in clerk.inner_text("main")
        assert "申请人月工资收入1000元，高于低保标准" in notice.context["reason"]

    case = Case.objects.get()
    assert case.state == State.REJECTED
    assert not case.publicities.exists()
    assert not case.documents.filter(doc_type=DocType.PUBLICITY_NOTICE).exists()
    assert case.events.get(action="issue_rejection").data["on_time"] is True
