"""Issue 16's whole year in Chromium, one household from filing to stop.

December 2026: the township handler files a household of three (urban dibao); during publicity
a neighbour objects that the spouse works in town for about 2,000 元 a month; the objection is
substantiated, the handler corrects the spouse's income on the case page, the household is
visited again and reassessed, and after a fresh publicity the leaders approve it on
10 December. The account is registered; the household is paid from January 2027.
June 2027, six months later: the review's home visit finds the spouse's wage risen to 3,000 元;
the recalculation puts the household above the standard, the handler proposes phase-out, the
leaders sign, and the household keeps its amount for the county's 6 phase-out months and is
stopped after them.

Hand computation (urban dibao standard 840 元, three members):
- Filed (basis 2026-12-02, period December 2025 – November 2026): the applicant's wage of
  600 元 a month: 600 × 12 ÷ 12 = 600; 840 × 3 − 600 = 1,920 元.
- Corrected: the spouse's 2,000 元 from 2026-06-01 covers June to November: 2,000 × 6 = 12,000;
  (7,200 + 12,000) ÷ 12 = 1,600; 2,520 − 1,600 = 920 元. Approved 10 December (before the 20th):
  paid from January 2027.
- Review visit 2027-06-10 (period June 2026 – May 2027): 600 × 12 + 3,000 × 12 = 43,200;
  43,200 ÷ 12 = 3,600 a month; ÷ 3 = 1,200.0000 元 a head > 840: no longer eligible.
- Phase-out decided 10 June 2027 (before the 20th): takes effect July 2027; 920 元 paid unchanged
  for 6 months, July to December 2027; stopped from January 2028. Paid 920 元 every month from
  January to December 2027, 12 × 920 = 11,040 元 in all.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from accounts.models import User
from cases.facts.selectors import current_facts
from cases.models import Case, FactChange, FactChannel
from disbursement.models import Review, ReviewState
from disbursement.services import amount_in_force, generate_roster

from ..conftest import service_missing, signing_otp
from ..e2e_support import browser, chromium_available, signed_in
from .test_correcting_household_facts import CORRECTED_AMOUNT, FILED_AMOUNT
from .test_correcting_household_facts import (
    test_a_substantiated_objection_corrects_the_spouses_income_and_the_amount_follows as filed_corrected_and_approved,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAID_MONTHS = [date(2027, month, 1) for month in range(1, 13)]  # January – December 2027
STOP_MONTH = date(2028, 1, 1)


def open_review_from_menu(page, review) -> None:
    """A leader reaches the review as they would: the menu's 复核 list, then the review."""
    with page.expect_navigation():
        page.click("header >> text=复核")
    with page.expect_navigation():
        page.click(f"main a:text-is('复核#{review.pk}')")


@pytest.fixture
def chromium():
    if not chromium_available():
        service_missing("chromium")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with browser() as launched:
        yield launched


def submit(page, form, button: str, signer=None) -> None:
    """Press a form's button; an act that cannot be undone is confirmed (a leader's code too)."""
    if form.locator("input[name=otp_token]").count():
        form.locator("input[name=otp_token]").fill(signing_otp(signer))
    with page.expect_navigation():
        form.locator(f"button:has-text('{button}')").click()
    if page.locator("[data-testid=confirm-form]").count():
        code = page.locator("input[name=otp_token]")
        if code.count():
            code.fill(signing_otp(signer))
        with page.expect_navigation():
            page.click("[data-testid=confirm-step]")
    assert page.locator(".msg-error").count() == 0, page.inner_text("main")[:1500]


def passwords_renewed(*users) -> None:
    """Half a year on, the staff have changed their passwords as the county requires (the
    password-change page has its own tests); without it the sign-in asks for a new one."""
    User.objects.filter(pk__in=[u.pk for u in users]).update(password_changed_at=timezone.now())


def roster_amount(people, entitlement, month: date):
    roster = generate_roster(unit=people.unit_a, month=month, actor=people.handler)
    line = roster.lines.filter(entitlement=entitlement).first()
    return line.amount if line else None


def test_a_household_through_a_year_from_filing_to_phase_out_and_stop(
    live_server, people, standards, chromium
):
    # Filing, objection, correction, reassessment and approval: the first half, as it is.
    filed_corrected_and_approved(live_server, people, standards, chromium)
    case = Case.objects.get()
    assert case.monthly_amount == CORRECTED_AMOUNT != FILED_AMOUNT

    with time_machine.travel("2026-12-10 15:00 +08:00", tick=True):
        clerk = signed_in(chromium, live_server, people.handler)
        clerk.click("nav >> text=发放清册")
        row = clerk.locator("tr", has_text=case.number)
        row.locator("select[name=account_kind]").select_option("social_security")
        row.locator("input[name=account_number]").fill("150822000123")
        row.locator("input[name=bank_name]").fill("磴口县农村信用社")
        with clerk.expect_navigation():
            row.locator("button:has-text('登记')").click()
        assert "发放账户已登记" in clerk.inner_text("main")
    case = Case.objects.get()
    entitlement = case.entitlement
    assert entitlement.start_month == date(2027, 1, 1)
    assert entitlement.monthly_amount == CORRECTED_AMOUNT

    # Six months after approval: the review visit finds the spouse's wage risen to 3,000 元.
    with time_machine.travel("2027-06-10 09:00 +08:00", tick=True):
        passwords_renewed(people.handler, people.direct, people.first)
        clerk = signed_in(chromium, live_server, people.handler)
        clerk.goto(f"{live_server.url}/reviews/households/{case.household_id}/")
        with clerk.expect_navigation():
            clerk.click("main button:has-text('启动复核')")
        review = Review.objects.get()
        form = clerk.locator("[data-testid=review-visit-form]")
        names = [form.locator("input[name=member_name]").nth(i).input_value() for i in range(3)]
        assert names == ["张明东", "李秀英", "张小华"]
        form.locator("input[name=investigator1]").fill("李经办")
        form.locator("input[name=investigator2]").fill("周协理")
        form.locator("textarea[name=findings]").fill("配偶在镇上超市的工资已涨至每月3000元")
        rows = form.locator("[data-testid=income-row]")
        sources = [
            rows.nth(i).locator("input[name=income_source]").input_value()
            for i in range(rows.count())
        ]
        spouse = rows.nth(sources.index("镇上超市"))
        assert spouse.locator("input[name=income_monthly_amount]").input_value() in (
            "2000",
            "2000.00",
        )
        spouse.locator("input[name=income_monthly_amount]").fill("3000")
        submit(clerk, form, "记录入户调查")
        assert "3000" in clerk.inner_text("[data-testid=review-facts]")

        submit(
            clerk, clerk.locator("form", has=clerk.locator("input[value=assess]")), "重新核算收入"
        )
        assessment = clerk.inner_text("[data-testid=review-assessment]")
        assert "已不符合保障条件" in assessment
        assert "月人均收入1200.0000元" in assessment and "标准840.00元" in assessment

        proposal = clerk.locator("form", has=clerk.locator("input[value=propose]"))
        proposal.locator("select[name=outcome]").select_option("phase_out")
        proposal.locator("textarea[name=reason]").fill(
            "配偶工资上涨，家庭月人均收入超过低保标准，给予渐退"
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
        head = signed_in(chromium, live_server, people.first)
        open_review_from_menu(head, review)
        submit(
            head,
            head.locator("form", has=head.locator("input[value=decide]")),
            "审核确认并签署",
            signer=people.first,
        )
        assert "继续按原标准发放至2027年12月，次月起停发" in head.inner_text(
            "[data-testid=phase-out]"
        )

        # The review's finding is now the household's income, with its history on the case.
        clerk.goto(f"{live_server.url}/cases/{case.pk}/")
        timeline = clerk.inner_text("[data-testid=timeline]")
        assert "修改收入：李秀英 工资性收入" in timeline

    review = Review.objects.get()
    assert review.state == ReviewState.DECIDED and review.outcome == "phase_out"
    assert review.phase_out_until == date(2027, 12, 1)
    spouse_income = [i for i in current_facts(case).incomes if i.source == "镇上超市"]
    assert [i.monthly_amount for i in spouse_income] == [Decimal("3000.00")]
    change = FactChange.objects.filter(channel=FactChannel.REVIEW).get()
    assert (
        change.channel_ref,
        change.before["monthly_amount"],
        change.after["monthly_amount"],
    ) == (
        review.pk,
        "2000.00",
        "3000.00",
    )

    # Every month's roster, January to December 2027 at 920 元, then none.
    paid = []
    for month in PAID_MONTHS:
        with time_machine.travel(f"{month:%Y-%m}-10 10:00 +08:00", tick=False):
            paid.append(roster_amount(people, entitlement, month))
    assert paid == [CORRECTED_AMOUNT] * 12
    assert sum(paid) == Decimal("11040.00")  # 12 × 920
    with time_machine.travel("2028-01-10 10:00 +08:00", tick=False):
        assert roster_amount(people, entitlement, STOP_MONTH) is None
    assert amount_in_force(entitlement, STOP_MONTH) == Decimal("0")
