"""In Debian's Chromium: a two-person household approved on 10 June 2026 at 1,340 元 a month
(670 × 2, no income). Six months later, on Monday 7 December, the clerk's review visit finds
the head now earns 3,000 元 a month. The recalculation shows 1,500 元 a head, above the
standard; the clerk proposes phase-out, the two leaders sign, and the household keeps its
1,340 元 for the county's 6 phase-out months (January to June 2027) and is stopped from July."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

import pytest
import time_machine

from cases.models import Person
from disbursement.models import ChangeSource, Review, ReviewState
from disbursement.services import amount_in_force, generate_roster

from ..conftest import service_missing, signing_otp
from ..e2e_support import browser, chromium_available, signed_in
from ..reviews.conftest import in_payment

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


def open_review_from_menu(page, review) -> None:
    """A leader reaches the review as they would: the menu's 复核 list, then the review."""
    with page.expect_navigation():
        page.click("header >> text=复核")
    with page.expect_navigation():
        page.click(f"main a:text-is('复核#{review.pk}')")


def submit(page, form, button: str, signer=None) -> None:
    """Press a form's button; a leader types the one-time code on their phone to sign."""
    if signer is not None:
        form.locator("input[name=otp_token]").fill(signing_otp(signer))
    with page.expect_navigation():
        form.locator(f"button:has-text('{button}')").click()


def roster_amount(people, entitlement, month: date):
    roster = generate_roster(unit=people.unit_a, month=month, actor=people.handler)
    line = roster.lines.filter(entitlement=entitlement).first()
    return line.amount if line else None


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_higher_wage_found_at_a_review_phases_the_household_out(live_server, people, standards):
    if not chromium_available():
        service_missing("chromium")
    with time_machine.travel("2026-06-10 10:00 +08:00", tick=False):
        case = in_payment(people, amount="1340", members=2, decided_on=date(2026, 6, 10))
    entitlement = case.entitlement
    head = Person.objects.filter(household_id=case.household_id).order_by("id").first()

    with time_machine.travel("2026-12-07 09:00 +08:00", tick=True), browser() as chromium:
        clerk = signed_in(chromium, live_server, people.handler)
        clerk.goto(f"{live_server.url}/reviews/households/{case.household_id}/")
        with clerk.expect_navigation():
            clerk.click("main button:has-text('启动复核')")
        review = Review.objects.get()

        # The visit form starts from the household as the case knows it: both members.
        visit = clerk.locator("[data-testid=review-visit-form]")
        assert visit.locator("input[name=member_name]").nth(0).input_value() == head.name
        visit.locator("input[name=investigator1]").fill("李经办")
        visit.locator("input[name=investigator2]").fill("周协理")
        visit.locator("textarea[name=findings]").fill("户主已在县城物流公司就业")
        wage = visit.locator("[data-testid=income-row]").first
        wage.locator("input[name=income_member]").fill(head.name)
        wage.locator("input[name=income_source]").fill("物流公司工资")
        wage.locator("input[name=income_monthly_amount]").fill("-3000")
        submit(clerk, visit, "记录入户调查")
        # Refused beside the field, everything typed still there.
        visit = clerk.locator("[data-testid=review-visit-form]")
        wage = visit.locator("[data-testid=income-row]").first
        assert "第1项收入：月均金额须为不小于0的数字" in wage.inner_text()
        assert wage.locator("input[name=income_source]").input_value() == "物流公司工资"
        assert visit.locator("input[name=investigator2]").input_value() == "周协理"
        assert visit.locator("textarea[name=findings]").input_value() == "户主已在县城物流公司就业"
        wage.locator("input[name=income_monthly_amount]").fill("3000")
        submit(clerk, visit, "记录入户调查")
        assert "物流公司工资" in clerk.inner_text("[data-testid=review-facts]")

        submit(
            clerk, clerk.locator("form", has=clerk.locator("input[value=assess]")), "重新核算收入"
        )
        # Hand computation: 3000 × 12 months ÷ 12 ÷ 2 members = 1500.0000 元 a head > 670 元.
        assessment = clerk.inner_text("[data-testid=review-assessment]")
        assert "已不符合保障条件" in assessment
        assert "月人均收入1500.0000元" in assessment and "标准670.00元" in assessment

        proposal = clerk.locator("form", has=clerk.locator("input[value=propose]"))
        proposal.locator("select[name=outcome]").select_option("phase_out")
        proposal.locator("textarea[name=reason]").fill(
            "户主就业，家庭月人均收入超过低保标准，给予渐退"
        )
        submit(clerk, proposal, "提出复核意见并签署")

        leader = signed_in(chromium, live_server, people.direct)
        open_review_from_menu(leader, review)
        submit(
            leader,
            leader.locator("form", has=leader.locator("input[value=opinion]")),
            "同意并签署",
            signer=people.direct,
        )
        head_of_town = signed_in(chromium, live_server, people.first)
        open_review_from_menu(head_of_town, review)
        decision = head_of_town.locator("form", has=head_of_town.locator("input[value=decide]"))
        submit(head_of_town, decision, "审核确认并签署", signer=people.first)
        # Decided 7 December (before the 20th): the change takes effect in January 2027;
        # 6 months paid unchanged, January to June; stopped from July.
        assert "继续按原标准发放至2027年6月，次月起停发" in head_of_town.inner_text(
            "[data-testid=phase-out]"
        )
        assert "调整(停发)告知书" in head_of_town.inner_text("main")

    review = Review.objects.get()
    assert review.state == ReviewState.DECIDED and review.outcome == "phase_out"
    assert review.phase_out_until == date(2027, 6, 1)
    assert review.change.source == ChangeSource.PHASE_OUT
    assert review.notice.context["change"] == "停发"
    assert review.notice.context["effective_month"] == "2027年7月"
    with time_machine.travel("2027-06-10 10:00 +08:00", tick=False):
        assert roster_amount(people, entitlement, date(2027, 6, 1)) == Decimal("1340.00")
    with time_machine.travel("2027-07-10 10:00 +08:00", tick=False):
        assert roster_amount(people, entitlement, date(2027, 7, 1)) is None
    assert amount_in_force(entitlement, date(2027, 7, 1)) == Decimal("0")
