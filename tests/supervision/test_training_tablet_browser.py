"""In Debian's Chromium on a tablet: a village assistant opens the training library from the
menu, reads the county's policy, and signs in at a session planned for village assistants."""

from __future__ import annotations

import os
from datetime import date

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from supervision.models import Attendance, Audience
from supervision.training.services import add_material, plan_session

from ..conftest import service_missing
from ..e2e_support import TABLET, browser, chromium_available, signed_in
from ..files import pdf_bytes

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_village_assistant_reads_the_library_and_signs_in_on_a_tablet(live_server, people):
    if not chromium_available():
        service_missing("chromium")
    add_material(
        actor=people.supervisor,
        title="低保审核确认办法",
        category="policy",
        upload=SimpleUploadedFile("办法.pdf", pdf_bytes()),
    )
    plan_session(
        actor=people.supervisor,
        topic="协理员业务培训",
        held_on=date(2026, 12, 9),
        place="巴彦高勒镇会议室",
        trainer="李经办",
        audiences=[Audience.ASSISTANTS],
        units=[people.unit_a],
    )
    with time_machine.travel("2026-12-09 09:00 +08:00", tick=True), browser() as chromium:
        tablet = signed_in(chromium, live_server, people.assistant, viewport=TABLET)
        with tablet.expect_navigation():
            tablet.click("nav.mainnav a:text-is('培训')")
        with tablet.expect_navigation():
            tablet.click("text=政策及培训资料库")
        row = tablet.locator("[data-testid=material-row]")
        assert "低保审核确认办法" in row.inner_text() and "第1版" in row.inner_text()
        assert tablet.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        with tablet.expect_response("**/files/training/**") as opened:
            tablet.click("[data-testid=material-row] a:has-text('第1版')")
        assert opened.value.status == 200
        assert opened.value.headers["content-type"] == "application/pdf"
        tablet.go_back()
        with tablet.expect_navigation():
            tablet.click("text=培训安排")
        with tablet.expect_navigation():
            tablet.click("text=协理员业务培训")
        with tablet.expect_navigation():
            tablet.click("[data-testid=self-sign-in]")
        assert "周协理已签到" in tablet.inner_text(".messages")
    assert Attendance.objects.get().method == Attendance.Method.SELF
