"""In Debian's Chromium on a tablet viewport: a village assistant reports a death in a household
in payment; the member list offers only the chosen household's members."""

from __future__ import annotations

import os

import pytest

from disbursement.models import ChangeReport

from ..conftest import service_missing
from ..e2e_support import TABLET, browser, chromium_available, signed_in

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_an_assistant_reports_a_death_on_a_tablet(live_server, people, paid):
    if not chromium_available():
        service_missing("chromium")
    case, other = paid(members=3), paid(members=2)
    deceased = case.household.members.order_by("id").last()
    with browser() as chromium:
        tablet = signed_in(chromium, live_server, people.assistant, viewport=TABLET)
        tablet.click("nav >> text=变化报告")
        tablet.click("text=报告家庭情况变化")
        assert "tablet" in tablet.get_attribute("body", "class")
        # Nothing wider than the tablet's screen: no sideways scrolling on the form.
        assert tablet.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        tablet.select_option("select[name=household]", str(case.household_id))
        offered = tablet.eval_on_selector_all(
            "select[name=member] option:not([disabled])[data-household]",
            "options => options.map(o => o.value)",
        )
        assert sorted(offered) == sorted(str(m.pk) for m in case.household.members.all())
        assert str(other.household.members.first().pk) not in offered

        tablet.select_option("select[name=member]", str(deceased.pk))
        tablet.select_option("select[name=kind]", "death")
        tablet.fill("textarea[name=details]", "该成员于上周病故，家属已办理丧葬")
        with tablet.expect_navigation():
            tablet.click("form#change-report-form button[type=submit]")
        assert "变化报告已提交" in tablet.inner_text(".messages")

    report = ChangeReport.objects.get()
    assert (report.household_id, report.member_id, report.kind) == (
        case.household_id,
        deceased.pk,
        "death",
    )
    assert report.reported_by == people.assistant
