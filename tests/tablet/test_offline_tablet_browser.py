"""In Debian's Chromium on a tablet (1024×768): a village assistant installs the tablet app,
loses the signal, fills an entrusted application with the applicants' signatures drawn on the
glass, reloads the app with no network (served by the service worker), comes back and syncs;
the answer is lost twice on the way back and the server still holds exactly one case. A change
report drafted offline about a household that changed meanwhile comes back as a conflict, shown
side by side, and is resubmitted once checked."""

from __future__ import annotations

import os
import time

import pytest
from PIL import Image

from cases.models import Case, CaseFile, FileCategory
from cases.tablet.models import GlassSignature, SyncState, TabletSync
from disbursement.models import ChangeReport

from ..conftest import PASSWORD, service_missing
from ..e2e_support import browser, chromium_available, signed_in
from ..factories import unique_id_number

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

TABLET = {"width": 1024, "height": 768}  # an iPad-sized tablet held sideways
PIN = "2468"
# Two answers are lost after the server has acted: the request went through, the reply did not.
LOSE_TWO_ANSWERS = """(path) => {
  const real = window.fetch;
  window.lostAnswers = 0;
  window.fetch = async (...args) => {
    const response = await real(...args);
    if (String(args[0]).includes(path) && window.lostAnswers < 2) {
      window.lostAnswers += 1;
      throw new TypeError("network lost");
    }
    return response;
  };
}"""

STORAGE_FULL = """() => {
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function () {
    throw new DOMException("设备存储已满", "QuotaExceededError");
  };
  window.storageFreed = () => { IDBObjectStore.prototype.put = put; };
}"""


def unlock(page) -> None:
    page.fill("#pin", PIN)
    page.click("#unlock")
    page.wait_for_selector("#home:not([hidden])")


def first_run(page, live_server) -> None:
    """Open the app online once: set the PIN, let the service worker take the page."""
    page.goto(f"{live_server.url}/tablet/")
    page.fill("#pin", PIN)
    page.fill("#pin2", PIN)
    page.click("#unlock")
    page.wait_for_selector("#home:not([hidden])")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
    page.wait_for_selector("#application-form select[name=village] option", state="attached")


def sign(page, row: int) -> None:
    canvas = page.locator(f"canvas[data-row='{row}']")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 120)
    page.mouse.down()
    for x, y in ((120, 40), (200, 150), (320, 60), (480, 110)):
        page.mouse.move(box["x"] + x, box["y"] + y, steps=5)
    page.mouse.up()


def sync(page) -> str:
    """Press 同步草稿 and wait for that run to finish; the notice it left."""
    done = int(page.evaluate("() => Number(document.body.dataset.syncs || 0)"))
    page.click("[data-testid=sync]")
    page.wait_for_function(f"() => Number(document.body.dataset.syncs || 0) > {done}")
    return page.inner_text("[data-testid=notice]")


def sync_losing_two_answers(page, path: str, pending: int = 1) -> str:
    """Sync three times: the first two answers are lost after the server acted."""
    page.evaluate(LOSE_TWO_ANSWERS, path)
    for _ in range(2):
        assert "同步中断" in sync(page)
        assert page.locator("#drafts tr[data-state=pending]").count() == pending
    return sync(page)


def assert_synced_once(page) -> None:
    assert page.locator("#drafts tr[data-state=synced]").count() == 1, page.inner_text("#drafts")
    assert "同步完成：已提交 1 份" in page.inner_text("[data-testid=notice]")


def photo_file(folder) -> str:
    path = folder / "户口簿.png"
    Image.new("RGB", (1600, 1200), (200, 180, 120)).save(path)
    return str(path)


def reload_offline(page) -> float:
    started = time.monotonic()
    page.reload()
    page.wait_for_selector("#lock:not([hidden])")
    return time.monotonic() - started


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_an_entrusted_application_made_offline_is_filed_once_despite_lost_answers(
    live_server, people, tmp_path
):
    if not chromium_available():
        service_missing("chromium")
    head_id, spouse_id = unique_id_number(), unique_id_number()
    with browser() as chromium:
        page = signed_in(chromium, live_server, people.assistant, viewport=TABLET)
        context = page.context
        first_run(page, live_server)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        context.set_offline(True)
        # The app shell opens with no network, from the service worker's cache, in under 2 s.
        assert reload_offline(page) < 2.0
        unlock(page)
        assert page.inner_text("[data-testid=net]").startswith("离线")

        page.click("text=新建委托申请")
        form = page.locator("#application-form")
        form.locator("select[name=kind]").select_option("dibao")
        form.locator("input[name=address]").fill("一社12号")
        form.locator("input[name=entrusted_reason]").fill("申请人腿脚不便，由协理员代为申请")
        form.locator("input[name=m0_name]").fill("张三")
        form.locator("input[name=m0_id]").fill(head_id)
        form.locator("input[name=m1_name]").fill("李梅")
        form.locator("input[name=m1_id]").fill(spouse_id)
        form.locator("select[name=m1_relation]").select_option("spouse")
        form.locator("input[name=photos]").set_input_files(photo_file(tmp_path))
        page.wait_for_function(
            "() => document.querySelector('[data-testid=photo-count]').textContent === '已附照片1张'"
        )
        assert "社会救助诚信声明" in page.inner_text("[data-testid=consent-text]")
        sign(page, 0)
        # Saving with the spouse not yet signed: refused on the tablet, what was typed stays.
        form.locator("button[type=submit]").click()
        assert page.inner_text("[data-testid=application-error]") == "李梅尚未签字。"
        assert form.locator("input[name=m1_id]").input_value() == spouse_id
        sign(page, 1)
        form.locator("button[type=submit]").click()
        page.wait_for_selector("#drafts tr[data-state=pending]")
        assert "待同步" in page.inner_text("[data-testid=drafts]")

        # Still offline, the app is reloaded: the draft is on the device, encrypted at rest.
        assert reload_offline(page) < 2.0
        raw = page.evaluate(
            """async () => {
              const db = await idb.openDB("dk-tablet");
              const rows = await db.getAll("drafts");
              return JSON.stringify(rows.map(r => [r.kind, r.state, Array.from(new Uint8Array(r.box.data))]));
            }"""
        )
        assert head_id not in raw and "张三" not in raw and "application" in raw
        unlock(page)
        assert page.locator("#drafts tr[data-state=pending]").count() == 1

        context.set_offline(False)
        page.wait_for_function("() => navigator.onLine")
        sync_losing_two_answers(page, "/tablet/api/applications/")
        assert_synced_once(page)

    assert Case.objects.count() == 1
    case = Case.objects.get()
    assert case.entrusted and case.applicant.name == "张三"
    receipt = TabletSync.objects.get()
    assert (receipt.state, receipt.attempts) == (SyncState.ACCEPTED, 3)
    assert sorted(GlassSignature.objects.values_list("person_name", flat=True)) == ["张三", "李梅"]
    (photo,) = CaseFile.objects.filter(case=case)
    assert photo.category == FileCategory.MATERIAL and photo.mime == "image/jpeg"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_change_report_on_a_household_changed_meanwhile_is_shown_as_a_conflict(
    live_server, people, paid
):
    if not chromium_available():
        service_missing("chromium")
    case = paid()
    head = case.household.members.order_by("id").first()
    with browser() as chromium:
        page = signed_in(chromium, live_server, people.assistant, viewport=TABLET)
        first_run(page, live_server)
        page.context.set_offline(True)
        reload_offline(page)
        unlock(page)

        page.click("text=新建情况变化报告")
        form = page.locator("#change-form")
        form.locator("select[name=household]").select_option(str(case.household_id))
        assert head.name in page.inner_text("#household-snapshot")
        form.locator("select[name=kind]").select_option("new_job")
        form.locator("textarea[name=details]").fill("户主在镇上超市务工，月收入约1500元")
        # The tablet's storage is full: a clear message, and what was typed stays on the form.
        page.evaluate(STORAGE_FULL)
        form.locator("button[type=submit]").click()
        page.wait_for_function(
            "() => document.querySelector('[data-testid=notice]').textContent.includes('存储空间已满')"
        )
        assert form.locator("textarea[name=details]").input_value().startswith("户主在镇上")
        page.evaluate("() => window.storageFreed()")
        form.locator("button[type=submit]").click()
        page.wait_for_selector("#drafts tr[data-state=pending]")

        # Meanwhile the township corrects the head's name on the server.
        head.name = "张更正"
        head.save(update_fields=["name"])

        page.context.set_offline(False)
        page.wait_for_function("() => navigator.onLine")
        assert "冲突 1 份" in sync(page)
        assert not ChangeReport.objects.exists()
        assert "冲突 1 份" in page.inner_text("[data-testid=notice]")
        page.click("#drafts tr[data-state=conflict] >> text=查看冲突")
        page.wait_for_selector("#conflict:not([hidden])")
        conflict = page.inner_text("[data-testid=conflict]")
        assert "已在服务器上变更" in conflict
        changed = page.locator("#conflict-rows tr.changed")
        assert changed.count() == 1  # the head's row, renamed; nothing else moved
        assert "张更正" in page.inner_text("#conflict-rows") and head.name in conflict

        page.click("#resubmit")
        page.wait_for_selector("#drafts tr[data-state=synced]")

    report = ChangeReport.objects.get()
    assert (report.household_id, report.kind) == (case.household_id, "new_job")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_after_the_idle_sign_out_the_assistant_signs_in_again_and_fixes_a_refused_draft(
    live_server, people, paid
):
    if not chromium_available():
        service_missing("chromium")
    case = paid()
    with browser() as chromium:
        page = signed_in(chromium, live_server, people.assistant, viewport=TABLET)
        first_run(page, live_server)
        page.context.set_offline(True)
        reload_offline(page)
        unlock(page)

        # A change report, and an application whose applicant's ID number is mistyped.
        page.click("text=新建情况变化报告")
        change = page.locator("#change-form")
        change.locator("select[name=household]").select_option(str(case.household_id))
        change.locator("select[name=kind]").select_option("new_vehicle")
        change.locator("textarea[name=details]").fill("家中新购一辆农用三轮车")
        change.locator("button[type=submit]").click()
        page.wait_for_selector("#drafts tr[data-state=pending]")
        page.click("text=新建委托申请")
        form = page.locator("#application-form")
        form.locator("input[name=entrusted_reason]").fill("申请人年迈，由协理员代为申请")
        form.locator("input[name=m0_name]").fill("赵四")
        form.locator("input[name=m0_id]").fill("15082219700101123")
        sign(page, 0)
        form.locator("button[type=submit]").click()
        page.wait_for_function("() => document.querySelectorAll('#drafts tr').length === 2")

        # The 30-minute idle sign-out happened while away: the session is gone.
        page.context.clear_cookies()
        page.context.set_offline(False)
        page.wait_for_function("() => navigator.onLine")
        assert "请先重新登录" in sync(page)
        assert not TabletSync.objects.exists()
        assert page.locator("#drafts tr[data-state=pending]").count() == 2

        page.click("#signin")
        page.fill("input[name=username]", people.assistant.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server.url}/tablet/")
        unlock(page)  # the PIN unlocks the drafts before anything syncs
        notice = sync_losing_two_answers(page, "/tablet/api/change-reports/", pending=2)
        assert "已提交 1 份" in notice and "未通过 1 份" in notice
        assert ChangeReport.objects.count() == 1
        refused = page.locator("#drafts tr[data-state=refused]")
        assert "公民身份号码" in refused.inner_text()
        assert not Case.objects.filter(applicant__name="赵四").exists()

        # Fixed on the device, where it was kept: filed once.
        refused.locator("button:has-text('修改')").click()
        page.wait_for_selector("#application:not([hidden])")
        assert "公民身份号码" in page.inner_text("[data-testid=application-error]")
        form.locator("input[name=m0_id]").fill(unique_id_number())
        form.locator("button[type=submit]").click()
        page.wait_for_selector("#drafts tr[data-state=pending]")
        assert "已提交 1 份" in sync(page)
        assert page.locator("#drafts tr[data-state=synced]").count() == 2

    assert Case.objects.filter(applicant__name="赵四", entrusted=True).count() == 1
    assert ChangeReport.objects.count() == 1
    assert TabletSync.objects.filter(state=SyncState.ACCEPTED).count() == 2
