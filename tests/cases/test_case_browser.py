"""In Debian's Chromium: a village assistant files an entrusted application on a tablet, the
township clerk and the county officer take it through verification, visit, calculation and
publicity, and the two leaders sign it off to approval."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from cases.models import Case, MaterialRequirement, State

from ..conftest import service_missing, signing_otp
from ..e2e_support import TABLET, browser, chromium_available, signed_in
from ..factories import unique_id_number
from .flow import PDF_BYTES, load_materials

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


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
def test_an_entrusted_application_goes_to_approval_in_the_browser(live_server, people, standards):
    if not chromium_available():
        service_missing("chromium")
    load_materials()
    today = timezone.localdate().isoformat()
    with browser() as chromium:
        tablet = signed_in(chromium, live_server, people.assistant, viewport=TABLET)
        tablet.click("nav >> text=委托申请")
        assert "tablet" in tablet.get_attribute("body", "class")
        tablet.select_option("select[name=kind]", "dibao")
        tablet.select_option("select[name=area]", "rural")
        tablet.fill("textarea[name=entrusted_reason]", "申请人卧床，无法到镇办理")
        tablet.fill("input[name=m0_name]", "张明东")
        tablet.fill("input[name=m0_id]", unique_id_number())
        tablet.fill("input[name=m0_income]", "300")
        tablet.fill("input[name=m0_income_source]", "子女赡养")
        tablet.fill("input[name=m0_income_since]", "2024-01-01")
        with tablet.expect_navigation():
            tablet.click("main button[type=submit]")
        assert tablet.locator("[data-testid=form-error]").count() == 0, tablet.inner_text("main")
        assert Case.objects.exists(), (tablet.url, tablet.inner_text("main")[:800])
        case = Case.objects.get()
        assert case.entrusted and tablet.inner_text("[data-testid=case-state]") == "已申请"

        clerk = signed_in(chromium, live_server, people.handler)
        clerk.goto(f"{live_server.url}/cases/")
        clerk.click(f"text={case.number}")
        step(clerk, "accept")
        step(clerk, "record_consent", method="on_screen", signed_on=today, signers="张明东")
        step(clerk, "request_verification")

        officer = signed_in(chromium, live_server, people.verifier)
        officer.click("nav >> text=核对任务")
        with officer.expect_navigation():
            officer.locator("[data-testid=verification-task] [data-testid=open-task]").first.click()
        officer.locator("input[name=result]").first.fill("无婚姻登记变更")
        officer.locator("textarea[name=summary]").fill("未发现不符合条件的财产")
        with officer.expect_navigation():
            officer.click("[data-testid=submit-report]")

        clerk.reload()
        form = clerk.locator("form[data-step=record_home_visit]")
        form.locator("input[name=investigator]").nth(0).fill("李经办")
        form.locator("input[name=investigator]").nth(1).fill("周协理")
        step(clerk, "record_home_visit", visited_on=today, findings="独居，卧床")
        step(clerk, "assess")
        assert "1340" not in clerk.inner_text("[data-testid=assessment]")
        step(clerk, "publish", starts_on=today, location="村委会公示栏")
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
        assert clerk.locator("[data-testid=materials] .missing").count() == 0

        with time_machine.travel(timezone.now() + timedelta(days=7), tick=True):
            clerk = signed_in(chromium, live_server, people.handler)
            clerk.goto(f"{live_server.url}/cases/{case.pk}/")
            step(clerk, "propose", outcome="approve")
            leader = signed_in(chromium, live_server, people.direct)
            leader.goto(f"{live_server.url}/cases/{case.pk}/")
            assert leader.locator("form[data-step=accept]").count() == 0
            step(leader, "sign_opinion", signer=people.direct, opinion="agree")
            head = signed_in(chromium, live_server, people.first)
            head.goto(f"{live_server.url}/cases/{case.pk}/")
            step(head, "confirm", signer=people.first, outcome="approve")
            clerk.reload()
            step(clerk, "issue_decision")
            assert clerk.inner_text("[data-testid=case-state]") == "已批准"
    assert Case.objects.get().state == State.APPROVED
