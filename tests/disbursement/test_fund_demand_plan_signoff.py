"""The yearly plan is signed as prepared and as approved, then submitted, and prints to PDF."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from dengkou_aid.errors import Conflict, DomainError, NotAllowed
from disbursement.models import FundDemandPlanSubmission, PlanStep
from disbursement.plan import (
    adjust_plan_line,
    compute_fund_demand_plan,
    plan_state,
    sign_plan,
    submit_plan,
    valid_plan_signatures,
)

pytestmark = pytest.mark.django_db

NOW = "2026-11-28 10:00 +08:00"


@pytest.fixture
def plan(people, entitle, standards):
    entitle(amount="600", decided_on=date(2026, 10, 10))
    with time_machine.travel(NOW, tick=False):
        [line] = compute_fund_demand_plan(year=2027, actor=people.finance)
    return line


def test_finance_prepares_a_supervisor_approves_then_it_is_submitted_and_frozen(people, plan):
    assert plan_state(2027) == "编制中"
    with pytest.raises(NotAllowed):
        sign_plan(year=2027, actor=people.supervisor)  # the preparer signs first
    sign_plan(year=2027, actor=people.finance)
    assert plan_state(2027) == "已编制签字，待审核"
    with pytest.raises(DomainError, match="审核人"):
        submit_plan(year=2027, actor=people.finance)
    sign_plan(year=2027, actor=people.supervisor)
    submission = submit_plan(year=2027, actor=people.finance)
    assert plan_state(2027) == "已报送"
    assert submission.total == plan.final_amount
    with pytest.raises(Conflict):
        adjust_plan_line(line=plan, adjusted_amount=Decimal("1"), note="改", actor=people.finance)
    with pytest.raises(Conflict):
        submit_plan(year=2027, actor=people.finance)
    assert FundDemandPlanSubmission.objects.count() == 1


def test_changing_a_line_after_signing_voids_the_sign_off(people, plan):
    sign_plan(year=2027, actor=people.finance)
    adjust_plan_line(
        line=plan, adjusted_amount=Decimal("9000"), note="预计减少", actor=people.finance
    )
    assert valid_plan_signatures(2027) == {}
    sign_plan(year=2027, actor=people.finance)
    assert set(valid_plan_signatures(2027)) == {PlanStep.PREPARE}


def test_the_plan_page_signs_submits_and_prints_with_names_in_the_boxes(people, plan, login):
    finance = login(people.finance, Client())
    finance.post("/disbursement/plan/2027/", {"action": "sign"})
    sign_plan(year=2027, actor=people.supervisor)
    finance.post("/disbursement/plan/2027/", {"action": "submit"})
    page = finance.get("/disbursement/plan/2027/").content.decode()
    assert "已报送" in page and "钱资金" in page and "郑监管" in page
    again = finance.post("/disbursement/plan/2027/", {"action": "submit"})
    assert again.status_code == 409
    pdf = finance.get("/disbursement/plan/2027/?export=pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
