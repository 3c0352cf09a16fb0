"""In Debian's Chromium, November and December 2026 at the county bureau: a field spot check
finds a fault in unit A's case, which goes into the numbered November bulletin, is ordered
for rectification, answered with an attachment and accepted; a complaint is handed to unit A,
answered by it and replied to with a letter; a training session is planned and attended, and
the unit's coverage shows on its leader's page and in the yearly assessment. Every step
through links and buttons; each figure against the hand computation beside it."""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import date

import pytest
import time_machine

from dengkou_aid.lib.pdfcheck import pdf_text
from supervision.models import Bulletin, ComplaintReply, Finding, Rectification

from ..conftest import service_missing
from ..e2e_support import TABLET, browser, chromium_available, signed_in
from ..files import pdf_bytes
from ..supervision.conftest import decided_case  # noqa: F401

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@contextmanager
def on(moment: str):
    with time_machine.travel(f"{moment} +08:00", tick=True):
        yield


def go(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def main_nav(page, label: str) -> None:
    go(page, f"nav.mainnav a:text-is('{label}')")


def sub_nav(page, label: str) -> None:
    go(page, f"nav.actions a:text-is('{label}')")


def open_notice(page, text: str) -> None:
    go(page, "nav.mainnav a.bell")
    go(page, f"ul.notifications button:has-text('{text}')")


def flat(data: bytes) -> str:
    return pdf_text(data).replace(" ", "").replace("\n", "")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_year_of_supervision_through_the_browser(
    live_server,
    people,
    decided_case,  # noqa: F811
):
    if not chromium_available():
        service_missing("chromium")
    checked = decided_case()  # decided 20 March 2026, the only March case: it is drawn
    complained = decided_case(decided_on=date(2026, 4, 20))

    with browser() as chromium:
        # 5 November: the checker draws March's sample and records a fault on a tablet.
        with on("2026-11-05 10:00"):
            tablet = signed_in(chromium, live_server, people.supervisor, viewport=TABLET)
            main_nav(tablet, "监督")
            sub_nav(tablet, "实地抽查")
            tablet.fill("input[name=period_start]", "2026-03-01")
            tablet.fill("input[name=period_end]", "2026-03-31")
            go(tablet, "button:has-text('抽取样本')")
            assert "已抽取1件案件" in tablet.inner_text(".messages")
            go(tablet, "text=录入核查")
            assert checked.number in tablet.inner_text("h1")
            form = tablet.locator("form#spot-check-form")
            form.locator("input[name=home_visit_ok][value=problem]").check()
            form.locator("textarea[name=home_visit_note]").fill("入户调查记录无调查人员签字")
            for item in ("archive", "income", "publicity"):
                form.locator(f"input[name={item}_ok][value=ok]").check()
            go(tablet, "form#spot-check-form button[type=submit]")
            assert "核查结果已保存" in tablet.inner_text(".messages")

        # 1 December: the November bulletins, then the rectification order.
        with on("2026-12-01 09:00"):
            county = signed_in(chromium, live_server, people.supervisor)
            main_nav(county, "监督")
            sub_nav(county, "工作通报")
            # The form proposes last month, 1 to 30 November.
            assert county.input_value("input[name=period_start]") == "2026-11-01"
            go(county, "button:has-text('生成并印发本期通报')")
            # One bulletin for unit A (its one finding) and the county's: numbers 1 and 2.
            assert "已印发2份工作通报（磴民政通〔2026〕1号至磴民政通〔2026〕2号）" in (
                county.inner_text(".messages")
            )
            rows = county.locator("[data-testid=bulletin-row]")
            assert rows.count() == 2
            assert "磴民政通〔2026〕1号" in rows.nth(0).inner_text() or (
                "磴民政通〔2026〕1号" in rows.nth(1).inner_text()
            )
            assert "2026年12月1日" in rows.nth(0).inner_text()
            unit_bulletin = Bulletin.objects.get(unit=people.unit_a)
            text = flat(unit_bulletin.file.open("rb").read())
            # The fault was found on a field spot check: counted there, not as a system check.
            assert (
                "系统监督核查发现的问题0个，实地监督核查发现的问题1个，信访举报查实的问题0个"
                in text
            )
            assert "请你单位对以下尚未整改的1个问题逐项限期整改" in text

            sub_nav(county, "问题与整改")
            go(county, f"tr:has-text('{checked.number}') a")
            county.fill("textarea[name=instruction]", "补齐入户调查人员签字")
            county.fill("input[name=due_on]", "2026-12-10")
            go(county, "button:has-text('下达限期整改通知')")
            assert "已下达限期整改通知" in county.inner_text(".messages")

            # Unit A's leader reads both bulletins, the county's and the unit's own.
            leader = signed_in(chromium, live_server, people.first)
            main_nav(leader, "监督")
            sub_nav(leader, "工作通报")
            assert leader.locator("[data-testid=bulletin-row]").count() == 2

        # 3 December: unit A's handler answers with a scan attached.
        with on("2026-12-03 10:00"):
            handler = signed_in(chromium, live_server, people.handler)
            open_notice(handler, "限期整改通知")
            handler.fill("textarea[name=answer]", "已补齐两名调查人员签字")
            handler.set_input_files(
                "input[name=files]",
                [{"name": "补签记录.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}],
            )
            go(handler, "button:has-text('反馈整改情况')")
            assert "整改情况已反馈县民政局" in handler.inner_text(".messages")
            assert "补签记录.pdf" in handler.inner_text("[data-testid=attachment]")

        # 4 December: the county accepts, then registers a complaint and hands it to unit A.
        with on("2026-12-04 10:00"):
            county = signed_in(chromium, live_server, people.supervisor)
            open_notice(county, "巴彦高勒镇已反馈整改情况")
            county.fill("textarea[name=note]", "签字已补齐")
            go(county, "button:has-text('验收通过')")
            assert county.inner_text("[data-testid=finding-state]") == "已关闭"
            assert county.inner_text("[data-testid=rectification-state]") == "已验收"

            sub_nav(county, "信访举报")
            go(county, "text=登记信访举报")
            county.select_option("select[name=channel]", label="来信")
            county.fill("input[name=complainant_name]", "王大明")
            county.fill("input[name=complainant_contact]", "13812345678")
            county.fill("input[name=subject]", "该户有车仍享受低保")
            county.fill("input[name=case_number]", complained.number)
            go(county, "button:has-text('登记')")
            county.select_option("select[name=unit]", label="巴彦高勒镇")
            county.fill("textarea[name=handoff_note]", "请入户核实车辆情况")
            go(county, "button:has-text('转交乡镇办理')")
            # Friday 4 December + 10 working days = Friday 18 December.
            assert "反馈期限2026-12-18" in county.inner_text("[data-testid=handoff]")

        # 7 December: unit A sees the complainant masked and answers back.
        with on("2026-12-07 10:00"):
            handler = signed_in(chromium, live_server, people.handler)
            open_notice(handler, "县民政局转办信访举报")
            assert handler.inner_text("[data-testid=complainant]") == "王*明"
            assert "13812345678" not in handler.inner_text("main")
            handler.fill("textarea[name=answer]", "经入户核实，该户有小轿车一辆")
            handler.check("input[name=substantiated][value=yes]")
            go(handler, "button:has-text('反馈县民政局')")
            assert handler.inner_text("[data-testid=complaint-state]") == "乡镇已反馈"

        # 8 December: the county records the finding, answers with a letter, plans training.
        with on("2026-12-08 10:00"):
            county = signed_in(chromium, live_server, people.supervisor)
            open_notice(county, "巴彦高勒镇已反馈信访举报办理情况")
            assert (
                county.input_value("textarea[name=investigation]") == "经入户核实，该户有小轿车一辆"
            )
            go(county, "button:has-text('记录调查情况')")
            county.fill("textarea[name=answer]", "已责成巴彦高勒镇停发该户低保")
            go(county, "button:has-text('答复并出具答复意见书')")
            assert "磴民政信复〔2026〕1号" in county.inner_text("[data-testid=reply-letter]")
            letter = flat(ComplaintReply.objects.get().file.open("rb").read())
            assert "王大明：" in letter and "已责成巴彦高勒镇停发该户低保" in letter

            main_nav(county, "培训")
            county.fill("input[name=topic]", "低保审核确认政策解读")
            county.fill("input[name=held_on]", "2026-12-09")
            county.fill("input[name=place]", "县民政局三楼会议室")
            county.fill("input[name=trainer]", "郑监管")
            county.check("input[name=audiences][value=staff]")
            county.check(f"input[name=units][value='{people.unit_a.pk}']")
            go(county, "button:has-text('安排培训')")
            assert "已安排培训：低保审核确认政策解读" in county.inner_text(".messages")

        # 9 December: the handler signs in on a tablet, the organiser signs for the head.
        with on("2026-12-09 14:00"):
            handler = signed_in(chromium, live_server, people.handler, viewport=TABLET)
            main_nav(handler, "培训")
            go(handler, "text=低保审核确认政策解读")
            go(handler, "[data-testid=self-sign-in]")
            assert "李经办已签到" in handler.inner_text(".messages")
            county = signed_in(chromium, live_server, people.supervisor)
            main_nav(county, "培训")
            go(county, "text=低保审核确认政策解读")
            county.select_option("select[name=trainee]", label="巴彦高勒镇 孙镇长")
            go(county, "button:has-text('组织人员代签')")
            assert "孙镇长已签到" in county.inner_text(".messages")

        # 10 December: the leader's coverage, and the yearly assessment.
        with on("2026-12-10 10:00"):
            leader = signed_in(chromium, live_server, people.first)
            main_nav(leader, "培训")
            # Unit A: two handlers, two leaders, one assistant; 2 of 5 trained = 40.0%.
            assert leader.inner_text("[data-testid=coverage-rate]") == "40.0%"
            assert leader.inner_text("[data-testid=untrained]") == "周协理、赵分管、王经办"

            county = signed_in(chromium, live_server, people.supervisor)
            main_nav(county, "监督")
            sub_nav(county, "年度考核")
            row = county.locator("[data-testid=assessment-row][data-unit=巴彦高勒镇]")
            # on time 2/2 = 100; findings 100×(1−2/2) = 0; rectified on time 1/1 = 100;
            # spot checks 0/1 passed = 0; complaints 0/1 unfounded = 0; training 40.
            # (40×100 + 20×0 + 20×100 + 20×0 + 10×0 + 10×40) / 120 = 6400/120 = 53.3
            assert row.locator("[data-testid=training-part] a").inner_text() == "40.0"
            assert row.locator("[data-testid=score]").inner_text() == "53.3"
            idle = county.locator("[data-testid=assessment-row][data-unit=隆盛合镇]")
            assert "本年度无可考核事项" in idle.inner_text()
            go(
                county,
                "[data-testid=assessment-row][data-unit=巴彦高勒镇] [data-testid=training-part] a",
            )
            assert "已培训2人" in county.inner_text("#training")

    assert Finding.objects.get(case=checked).state == Finding.State.CLOSED
    assert Rectification.objects.get().attachments.count() == 1
