"""In Debian's Chromium on a tablet viewport: a county checker opens a drawn sample and records
the seed's checklist with a finding and a photo taken on the spot."""

from __future__ import annotations

import io
import os
from datetime import date

import pytest
from PIL import Image

from supervision.models import Finding, Rule, SpotCheckPhoto, SpotCheckSample
from supervision.services import draw_spot_check_sample

from ..conftest import service_missing
from ..e2e_support import TABLET, browser, chromium_available, signed_in

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


def photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "green").save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_checker_records_a_sampled_case_on_a_tablet(live_server, people, decided_case):
    if not chromium_available():
        service_missing("chromium")
    case = decided_case()
    draw = draw_spot_check_sample(
        period_start=date(2026, 3, 1), period_end=date(2026, 3, 31), actor=people.supervisor
    )
    with browser() as chromium:
        tablet = signed_in(chromium, live_server, people.supervisor, viewport=TABLET)
        tablet.goto(f"{live_server.url}/supervision/spot-checks/{draw.pk}/")
        with tablet.expect_navigation():
            tablet.click("text=录入核查")
        assert "tablet" in tablet.get_attribute("body", "class")
        assert case.number in tablet.inner_text("h1")
        assert tablet.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        form = tablet.locator("form#spot-check-form")
        form.locator("input[name=home_visit_ok][value=problem]").check()
        form.locator("textarea[name=home_visit_note]").fill("入户调查表无调查人员签字")
        for item in ("archive", "income", "publicity"):
            form.locator(f"input[name={item}_ok][value=ok]").check()
        form.locator("input[name=photos]").set_input_files(
            [{"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": photo()}]
        )
        with tablet.expect_navigation():
            form.locator("button[type=submit]").click()
        assert "核查结果已保存" in tablet.inner_text(".messages")
        assert "已核查（有问题）" in tablet.inner_text("[data-testid=draw-samples]")

    sample = SpotCheckSample.objects.get(draw=draw)
    assert sample.problems == ["home_visit"] and sample.checked_by == people.supervisor
    assert SpotCheckPhoto.objects.get(sample=sample).mime == "image/jpeg"
    assert Finding.objects.get(rule=Rule.SPOT_CHECK, case=case).evidence["problems"] == {
        "home_visit": "入户调查表无调查人员签字"
    }
