"""In Debian's Chromium on a tablet (1024×768): a county supervisor opens the tablet app from the
menu while online, goes out of signal, fills the spot-check checklist against the facts the app
keeps (ID numbers masked), reloads the app offline, comes back and syncs; two answers are lost on
the way back and the server still holds exactly one result."""

from __future__ import annotations

import os
import re
from datetime import date

import pytest

from cases.tablet.models import SyncState, TabletSync
from supervision.models import Finding, SpotCheckSample
from supervision.services import draw_spot_check_sample, record_spot_check

from ..conftest import service_missing
from ..e2e_support import browser, chromium_available, signed_in
from ..supervision.conftest import decided_case  # noqa: F401
from ..supervision.test_spot_check_checklist_browser import follow
from .test_offline_tablet_browser import (
    PIN,
    TABLET,
    assert_synced_once,
    reload_offline,
    sync,
    sync_losing_two_answers,
    unlock,
)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_spot_check_filled_offline_is_recorded_once_despite_lost_answers(
    live_server,
    people,
    decided_case,  # noqa: F811
):
    if not chromium_available():
        service_missing("chromium")
    case = decided_case()
    applicant = case.household.members.order_by("id").first()
    draw_spot_check_sample(
        period_start=date(2026, 3, 1), period_end=date(2026, 3, 31), actor=people.supervisor
    )
    sample = SpotCheckSample.objects.get(case=case)
    with browser() as chromium:
        page = signed_in(chromium, live_server, people.supervisor, viewport=TABLET)
        context = page.context
        follow(page, "离线平板")
        page.fill("#pin", PIN)
        page.fill("#pin2", PIN)
        page.click("#unlock")
        page.wait_for_selector("#home:not([hidden])")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
        page.wait_for_selector("[data-open=spot]:not([hidden])")
        assert not page.locator("[data-open=application]").is_visible()

        context.set_offline(True)
        assert reload_offline(page) < 2.0
        unlock(page)
        assert page.inner_text("[data-testid=net]").startswith("离线")

        page.click("[data-open=spot]")
        form = page.locator("#spot-form")
        form.locator("select[name=sample]").select_option(str(sample.pk))
        facts = page.inner_text("[data-testid=spot-facts]")
        assert applicant.name in facts and applicant.masked_id in facts
        assert "840.00元" in facts and "月人均收入" in facts
        assert applicant.id_number not in page.content()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        form.locator("input[name=income_ok][value=problem]").check()
        # A problem with no words: refused on the tablet, what was chosen stays.
        for item in ("home_visit", "archive", "publicity"):
            form.locator(f"input[name={item}_ok][value=ok]").check()
        form.locator("button[type=submit]").click()
        assert page.inner_text("[data-testid=spot-error]") == "“收入核算”有问题的，须说明问题。"
        assert form.locator("input[name=income_ok][value=problem]").is_checked()
        form.locator("textarea[name=income_note]").fill("申请人务工收入与核算不符")
        form.locator("button[type=submit]").click()
        page.wait_for_selector("#drafts tr[data-state=pending]")
        assert "待同步" in page.inner_text("[data-testid=drafts]")
        assert case.number in page.inner_text("[data-testid=drafts]")

        # Reloaded offline: the draft and the facts are on the device, encrypted at rest.
        assert reload_offline(page) < 2.0
        raw = page.evaluate(
            """async () => {
              const db = await idb.openDB("dk-tablet");
              const names = Array.from(db.objectStoreNames);
              const all = [];
              for (const name of names) all.push(...(await db.getAll(name)));
              return JSON.stringify(all, (k, v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v)
                ? Array.from(new Uint8Array(v.buffer || v)) : v);
            }"""
        )
        assert applicant.name not in raw and applicant.masked_id not in raw
        assert "务工收入" not in raw and "spot_check" in raw
        unlock(page)
        assert page.locator("#drafts tr[data-state=pending]").count() == 1

        context.set_offline(False)
        page.wait_for_function("() => navigator.onLine")
        sync_losing_two_answers(page, "/supervision/tablet/spot-checks/")
        assert_synced_once(page)

    sample.refresh_from_db()
    assert sample.checked_by == people.supervisor
    assert sample.results["income"] == {"ok": False, "note": "申请人务工收入与核算不符"}
    assert Finding.objects.filter(case=case).count() == 1
    receipt = TabletSync.objects.get()
    assert (receipt.state, receipt.attempts) == (SyncState.ACCEPTED, 3)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_sample_checked_on_the_server_meanwhile_is_shown_as_a_conflict_in_chinese(
    live_server,
    people,
    decided_case,  # noqa: F811
):
    if not chromium_available():
        service_missing("chromium")
    case = decided_case()
    draw_spot_check_sample(
        period_start=date(2026, 3, 1), period_end=date(2026, 3, 31), actor=people.supervisor
    )
    sample = SpotCheckSample.objects.get(case=case)
    with browser() as chromium:
        page = signed_in(chromium, live_server, people.supervisor, viewport=TABLET)
        follow(page, "离线平板")
        page.fill("#pin", PIN)
        page.fill("#pin2", PIN)
        page.click("#unlock")
        page.wait_for_selector("[data-open=spot]:not([hidden])")
        page.context.set_offline(True)

        page.click("[data-open=spot]")
        form = page.locator("#spot-form")
        form.locator("select[name=sample]").select_option(str(sample.pk))
        for item in ("home_visit", "archive", "income", "publicity"):
            form.locator(f"input[name={item}_ok][value=ok]").check()
        form.locator("button[type=submit]").click()
        page.wait_for_selector("#drafts tr[data-state=pending]")

        # Meanwhile a colleague records the same sample online, with a problem.
        record_spot_check(
            sample=sample,
            actor=people.supervisor,
            results={
                "home_visit": {"ok": True},
                "archive": {"ok": False, "note": "缺少入户调查表"},
                "income": {"ok": True},
                "publicity": {"ok": True},
            },
        )

        page.context.set_offline(False)
        page.wait_for_function("() => navigator.onLine")
        assert "冲突 1 份" in sync(page)
        page.click("#drafts tr[data-state=conflict] >> text=查看冲突")
        page.wait_for_selector("#conflict:not([hidden])")
        shown = page.inner_text("[data-testid=conflict]")
        assert f"案件 {case.number} 在您离线期间已在服务器上录入核查结果" in shown
        assert "有问题：缺少入户调查表" in shown
        assert not page.locator("#resubmit").is_visible()
        assert not re.search(r"[{}]|'ok'|True|False|None|archive|spot_check", shown), shown

    sample.refresh_from_db()
    assert sample.results["archive"] == {"ok": False, "note": "缺少入户调查表"}
    assert TabletSync.objects.get().state == SyncState.CONFLICT
