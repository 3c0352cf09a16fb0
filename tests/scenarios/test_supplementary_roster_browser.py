"""In Debian's Chromium, on 5 December 2026: unit A's handler makes a supplementary roster for
December, regenerates it after a revocation backdated into December, discards it with a
reason, and makes the next one; every step through links and buttons on the pages."""

from __future__ import annotations

import os

import pytest
import time_machine

from disbursement.models import ChangeSource, PaymentRoster, RosterKind, RosterState
from disbursement.services import stop_entitlement

from ..conftest import service_missing
from ..disbursement.conftest import DECEMBER, entitle, submitted_roster  # noqa: F401
from ..e2e_support import browser, chromium_available, signed_in

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_handler_regenerates_and_discards_a_supplementary_roster(
    live_server,
    people,
    submitted_roster,  # noqa: F811
):
    if not chromium_available():
        service_missing("chromium")
    urban = submitted_roster.lines.get(amount="840.00").entitlement
    with time_machine.travel("2026-12-05 10:00 +08:00", tick=True), browser() as chromium:
        page = signed_in(chromium, live_server, people.handler)
        page.click("nav >> text=发放清册")
        form = page.locator("form", has=page.locator("button:has-text('编制补发清册')"))
        form.locator("input[name=month]").fill("2026-12")
        form.locator("input[name=reason]").fill("核对补发")
        with page.expect_navigation():
            form.locator("button:has-text('编制补发清册')").click()
        assert "已生成补发清册：0户，0.00元。" in page.inner_text(".messages")

        # A revocation backdated into December: the draft no longer reconciles.
        stop_entitlement(
            entitlement=urban,
            effective_month=DECEMBER,
            reason="撤销审核确认",
            source=ChangeSource.CORRECTION,
            actor=people.handler,
        )
        page.reload()
        assert "核对未通过" in page.inner_text("main")
        with page.expect_navigation():
            page.click("main button:has-text('重新生成')")
        # Hand computation: owed 0 − paid 840 = −840.00 for one household.
        assert "已重新生成补发清册：1户，-840.00元。" in page.inner_text(".messages")
        assert page.inner_text("[data-testid=roster-total]") == "-840.00"

        # Discard without ticking the confirmation: the message stands by the field, the
        # reason typed stays.
        page.fill("#discard-reason", "原因填写有误，重新编制")
        with page.expect_navigation():
            page.click("main button:has-text('作废')")
        assert "请勾选“确认作废”后再提交。" in page.inner_text("main")
        assert page.input_value("#discard-reason") == "原因填写有误，重新编制"
        page.check("input[name=confirm]")
        with page.expect_navigation():
            page.click("main button:has-text('作废')")
        assert "补发清册已作废" in page.inner_text(".messages")
        assert page.inner_text("[data-testid=roster-state]") == "已作废"
        assert "原因填写有误，重新编制" in page.inner_text("main")

        page.click("nav >> text=发放清册")
        form = page.locator("form", has=page.locator("button:has-text('编制补发清册')"))
        form.locator("input[name=month]").fill("2026-12")
        form.locator("input[name=reason]").fill("撤销追回")
        with page.expect_navigation():
            form.locator("button:has-text('编制补发清册')").click()
        assert "已生成补发清册：1户，-840.00元。" in page.inner_text(".messages")

    states = sorted(
        PaymentRoster.objects.filter(kind=RosterKind.SUPPLEMENTARY).values_list("state", flat=True)
    )
    assert states == sorted([RosterState.DISCARDED, RosterState.PREPARED])
