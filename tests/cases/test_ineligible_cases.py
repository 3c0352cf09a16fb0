"""A plainly ineligible case goes to non-approval straight after the assessment, without the
7-day publicity; the notice with reasons is due within 3 working days of the decision; the
publicity is only ever for households proposed for assistance."""

from datetime import date

import pytest

from cases import ineligible
from cases.deadlines.calendar import add_workdays
from cases.documents.archive import missing_items
from cases.documents.services import issue_document
from cases.models import Case, DocType, Outcome, State
from dengkou_aid.errors import Conflict

from .flow import ApiFlow, load_materials


@pytest.fixture
def flow(api, people, standards):
    load_materials()
    flow = ApiFlow(api, people)
    yield flow
    flow.stop()


def test_a_household_above_the_line_is_refused_without_a_publicity(flow, people):
    # Wage 2000 for two people: 2000 ÷ 2 = 1000 元 a head, above the rural standard 670 元.
    case_id = flow.file(income="2000").json()["id"]
    assessed = flow.to_assessment(case_id)
    assert assessed["assessment"]["eligible"] is False
    flow.upload_materials(case_id)
    body = flow.client(people.handler).get(f"/api/cases/{case_id}/").json()
    assert "publish" not in body["available_transitions"]

    case = Case.objects.get(pk=case_id)
    with pytest.raises(Conflict):
        issue_document(case=case, doc_type=DocType.PUBLICITY_NOTICE, actor=people.handler)
    assert ineligible.ineligibility(case) == (
        "经入户调查和收入核算，家庭月人均收入1000.00元，高于城乡低保标准670.00元，不符合保障条件。"
    )
    body = flow.sign_off(case_id, outcome="reject", reason=ineligible.ineligibility(case))

    case = Case.objects.get(pk=case_id)
    assert case.state == State.REJECTED and not case.publicities.exists()
    notice = case.documents.get(doc_type=DocType.REJECTION_NOTICE)
    assert "高于城乡低保标准670.00元" in notice.context["reason"]
    issued = case.events.get(action="issue_rejection")
    due = add_workdays(case.decided_on, 3).date
    assert issued.data["notice_due"] == due.isoformat() and issued.data["on_time"] is True
    assert "审核确认公示" not in missing_items(case)
    assert missing_items(case) == []


def test_an_eligible_household_cannot_skip_the_publicity(flow, people):
    case_id = flow.file(income="300").json()["id"]
    flow.to_assessment(case_id)
    flow.upload_materials(case_id)
    for outcome in ("approve", "reject"):
        refused = flow.step(people.handler, case_id, "propose", outcome=outcome, text="理由")
        assert refused.status_code == 400, outcome
        assert "公示" in refused.json()["detail"]
    assert Case.objects.get(pk=case_id).state == State.ASSESSED


def test_the_publicity_of_an_eligible_household_still_runs_seven_days_before_a_proposal(
    flow, people
):
    case_id = flow.file(income="300").json()["id"]
    flow.to_publicity(case_id)
    flow.upload_materials(case_id)
    refused = flow.step(people.handler, case_id, "propose", outcome="approve")
    assert refused.status_code == 400
    assert "公示期未满" in refused.json()["detail"]


@pytest.mark.django_db
def test_the_notice_is_due_three_working_days_after_the_decision():
    # Decided on Friday 4 December 2026: Monday 7, Tuesday 8, Wednesday 9 December.
    case = Case(outcome=Outcome.REJECT, decided_on=date(2026, 12, 4))
    assert ineligible.notice_due(case) == date(2026, 12, 9)
    assert (
        ineligible.notice_due(Case(outcome=Outcome.APPROVE, decided_on=date(2026, 12, 4))) is None
    )
