"""Village assistants report changes from a tablet; the unit's handler decides what follows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from accounts.models import Notification
from cases.models import Income, IncomeKind, Kind, Person
from disbursement.models import ChangeReport, ChangeReportState, Review, ReviewTrigger
from disbursement.reviews.change_reports import decide_change_report, file_change_report
from disbursement.services import amount_in_force, generate_roster

from .conftest import at

DEC, JAN = date(2026, 12, 1), date(2027, 1, 1)


def report_through_the_api(api, people, case, **fields):
    body = {"household": case.household_id, "kind": "new_job", "details": "户主在镇上超市务工"}
    body.update(fields)
    return api(people.assistant).post("/api/reviews/change-reports/", body, format="json")


def test_an_assistant_reports_a_change_from_the_tablet_api_and_handlers_are_told(
    paid, people, api, django_capture_on_commit_callbacks
):
    case = paid()
    households = api(people.assistant).get("/api/reviews/households/").json()
    assert [h["id"] for h in households] == [case.household_id]
    assert "*" in households[0]["members"][0]["id_number"]
    with django_capture_on_commit_callbacks(execute=True):
        response = report_through_the_api(api, people, case)
    assert response.status_code == 201, response.content
    report = ChangeReport.objects.get()
    assert report.reported_by == people.assistant and report.state == ChangeReportState.NEW
    assert Notification.objects.filter(
        user=people.handler, key=f"change-report:{report.pk}"
    ).exists()


def test_an_assistant_of_another_village_cannot_report_on_the_household(paid, people, api):
    case = paid()
    response = api(people.outsider_assistant).post(
        "/api/reviews/change-reports/",
        {"household": case.household_id, "kind": "new_job", "details": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["field"] == "household"
    assert not ChangeReport.objects.exists()


def test_a_death_report_names_the_member(paid, people, api):
    response = report_through_the_api(api, people, paid(), kind="death", details="去世")
    assert response.status_code == 400
    assert response.json()["field"] == "member"


def test_the_tablet_page_files_a_report(paid, people, login):
    case = paid()
    client = login(people.assistant)
    page = client.get("/reviews/reports/new/")
    assert 'class="tablet"' in page.content.decode()
    response = client.post(
        "/reviews/reports/new/",
        {"household": case.household_id, "kind": "new_vehicle", "details": "新购轿车一辆"},
    )
    assert response.status_code == 302
    assert ChangeReport.objects.get().kind == "new_vehicle"


def test_the_tablet_page_refuses_a_member_of_another_household_and_keeps_the_entry(
    paid, people, login
):
    case, other = paid(), paid()
    stranger = other.household.members.first()
    client = login(people.assistant)
    response = client.post(
        "/reviews/reports/new/",
        {
            "household": case.household_id,
            "member": stranger.pk,
            "kind": "death",
            "details": "户主去世",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200 and "所选成员不属于该家庭" in page
    assert "户主去世" in page  # what the assistant typed is still there
    assert not ChangeReport.objects.exists()


def test_the_handler_opens_a_review_with_a_new_check_for_an_income_report(paid, people, api):
    case = paid()
    report = ChangeReport.objects.get(pk=report_through_the_api(api, people, case).json()["id"])
    response = api(people.handler).post(
        f"/api/reviews/change-reports/{report.pk}/decision/", {"decision": "review"}, format="json"
    )
    assert response.status_code == 200, response.content
    review = Review.objects.get()
    assert review.trigger == ReviewTrigger.CHANGE_REPORT and review.verification_required
    assert response.json()["review"] == review.pk
    again = api(people.handler).post(
        f"/api/reviews/change-reports/{report.pk}/decision/",
        {"decision": "dismiss", "note": "x"},
        format="json",
    )
    assert again.status_code == 409


def test_the_handler_may_decide_no_review_is_needed_but_must_say_why(paid, people):
    report = file_change_report(
        actor=people.assistant, household=paid().household, kind="other", details="x"
    )
    from dengkou_aid.errors import DomainError

    with pytest.raises(DomainError):
        decide_change_report(report=report, actor=people.handler, decision="dismiss")
    report = decide_change_report(
        report=report, actor=people.handler, decision="dismiss", note="情况不影响保障"
    )
    assert report.state == ChangeReportState.DISMISSED
    assert not Review.objects.exists()


def test_only_a_handler_of_the_unit_decides(paid, people):
    from dengkou_aid.errors import NotAllowed

    report = file_change_report(
        actor=people.assistant, household=paid().household, kind="other", details="x"
    )
    for someone in (people.assistant, people.outsider, people.direct):
        with pytest.raises(NotAllowed):
            decide_change_report(report=report, actor=someone, decision="review")


def death_of_child(paid, people, *, day, members=3, amount="2010", child_income=None):
    case = paid(members=members, amount=amount)
    child = Person.objects.filter(household=case.household).exclude(pk=case.applicant_id).first()
    if child_income:
        Income.objects.create(
            person=child,
            kind=IncomeKind.WAGE,
            source="务工",
            monthly_amount=Decimal(child_income),
            period_start=date(2025, 1, 1),
        )
    with at(day):
        report = file_change_report(
            actor=people.assistant,
            household=case.household,
            kind="death",
            member=child,
            details="因病去世",
            occurred_on=day,
        )
        report = decide_change_report(
            report=report, actor=people.handler, decision="confirm", note="已核实死亡证明"
        )
    return case, child, report


def test_a_confirmed_death_stops_that_members_share_from_the_next_payable_month(paid, people):
    case, child, report = death_of_child(paid, people, day=date(2026, 11, 20))
    assert report.state == ChangeReportState.CONFIRMED
    child.refresh_from_db()
    assert child.left_on == date(2026, 11, 20) and child.left_reason == "成员死亡"
    # 670 × 3 = 2010 for three members; one fewer: 2010 − 670 = 1340, from December.
    assert report.change.kind == "decrease" and report.change.source == "death"
    assert report.change.effective_month == DEC
    assert generate_roster(
        unit=people.unit_a, month=date(2026, 11, 1), actor=None
    ).lines.get().amount == Decimal("2010.00")
    assert generate_roster(unit=people.unit_a, month=DEC, actor=None).lines.get().amount == Decimal(
        "1340.00"
    )
    assert case.documents.filter(doc_type="adjustment_notice").exists()


def test_a_death_confirmed_after_the_20th_takes_effect_a_month_later(paid, people):
    case, _child, report = death_of_child(paid, people, day=date(2026, 11, 21))
    assert report.change.effective_month == JAN
    assert amount_in_force(case.entitlement, DEC) == Decimal("2010.00")
    assert amount_in_force(case.entitlement, JAN) == Decimal("1340.00")


def test_the_deceased_members_income_leaves_the_household_with_them(paid, people):
    # Household income 300 was the child's: 670 × 3 − 300 = 1710; without the child 670 × 2 = 1340.
    _case, _child, report = death_of_child(
        paid, people, day=date(2026, 11, 20), amount="1710", child_income="300"
    )
    assert report.change.new_amount == Decimal("1340.00")


def test_the_death_of_the_last_member_stops_payment(paid, people):
    case = paid(kind=Kind.TEKUN, members=1, amount="1020")
    with at(date(2026, 11, 10)):
        report = file_change_report(
            actor=people.assistant,
            household=case.household,
            kind="death",
            member=case.applicant,
            details="去世",
        )
        report = decide_change_report(report=report, actor=people.handler, decision="confirm")
    assert report.change.kind == "stop"
    assert amount_in_force(case.entitlement, DEC) == 0


def test_only_deaths_and_moves_can_be_confirmed_directly(paid, people):
    from dengkou_aid.errors import DomainError

    report = file_change_report(
        actor=people.assistant, household=paid().household, kind="new_job", details="x"
    )
    with pytest.raises(DomainError):
        decide_change_report(report=report, actor=people.handler, decision="confirm")
    assert ChangeReport.objects.get().state == ChangeReportState.NEW
