"""The county sees who submitted, returns with a reason, and totals the month once all are in."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from cases.deadlines.cutoffs import roster_due_date
from cases.models import RosterWindowLeave
from dengkou_aid.errors import DomainError, NotAllowed
from disbursement.models import Category, RosterState
from disbursement.releases import record_fund_release
from disbursement.selectors import month_overview
from disbursement.services import (
    county_totals,
    create_fund_request,
    generate_roster,
    reconcile_month,
    return_roster,
    submit_roster,
)

from .conftest import DECEMBER, IN_WINDOW, sign_all


@pytest.fixture
def unit_b_people(people):
    from accounts.models import Role

    from ..conftest import make_user

    return {
        "handler": people.outsider,
        "direct": people.outsider_direct,
        "first": make_user(people.unit_b, Role.FIRST_RESPONSIBLE, username="first_b"),
    }


def submit_unit_b(people, unit_b_people):
    from types import SimpleNamespace

    roster = generate_roster(unit=people.unit_b, month=DECEMBER, actor=unit_b_people["handler"])
    sign_all(roster, SimpleNamespace(**unit_b_people))
    with time_machine.travel(IN_WINDOW, tick=False):
        submit_roster(roster=roster, actor=unit_b_people["handler"])
    roster.refresh_from_db()
    return roster


def test_the_fund_request_waits_for_every_unit(people, entitle, submitted_roster):
    entitle(village=people.village_b, amount="900")

    with pytest.raises(DomainError, match="隆盛合镇"):
        create_fund_request(month=DECEMBER, actor=people.finance)
    overview = {u.unit.pk: u for u in month_overview(DECEMBER)}
    assert overview[people.unit_a.pk].submitted
    assert not overview[people.unit_b.pk].submitted


def test_county_totals_reconcile_per_unit_and_category(
    people, entitle, submitted_roster, unit_b_people
):
    entitle(village=people.village_b, amount="900")
    roster_b = submit_unit_b(people, unit_b_people)

    request = create_fund_request(month=DECEMBER, actor=people.finance)

    assert request.total_amount == submitted_roster.total_amount + roster_b.total_amount
    assert request.total_amount == Decimal("2410.00")
    assert request.line_count == 3
    by_key = {(row["unit"], row["category"]): Decimal(row["amount"]) for row in request.totals}
    assert by_key == {
        ("巴彦高勒镇", Category.DIBAO_RURAL): Decimal("670.00"),
        ("巴彦高勒镇", Category.DIBAO_URBAN): Decimal("840.00"),
        ("隆盛合镇", Category.DIBAO_RURAL): Decimal("900.00"),
    }
    assert reconcile_month(DECEMBER) == []
    submitted_roster.refresh_from_db()
    assert submitted_roster.state == RosterState.ACCEPTED


def test_the_county_overview_sums_the_roster_subtotals_to_the_lines_totals(
    people, entitle, submitted_roster, unit_b_people
):
    entitle(village=people.village_b, amount="900")
    entitle(village=people.village_b, amount="450")
    roster_b = submit_unit_b(people, unit_b_people)
    assert roster_b.subtotals == {Category.DIBAO_RURAL: [2, "1350.00"]}

    overview = county_totals(DECEMBER)

    request = create_fund_request(month=DECEMBER, actor=people.finance)  # totals of the lines

    def amounts(rows):
        return [{**row, "amount": Decimal(row["amount"])} for row in rows]

    assert amounts(overview) == amounts(request.totals)
    assert county_totals(DECEMBER) == overview  # accepted rosters still count


def test_a_returned_roster_needs_a_reason_and_frees_the_month(people, submitted_roster):
    with pytest.raises(DomainError, match="原因"):
        return_roster(roster=submitted_roster, reason="", actor=people.finance)
    return_roster(
        roster=submitted_roster, reason="人数与上月差异过大，请核实", actor=people.finance
    )

    submitted_roster.refresh_from_db()
    assert submitted_roster.state == RosterState.RETURNED
    assert submitted_roster.lines.count() == 2  # kept as it was, as a record
    again = generate_roster(unit=people.unit_a, month=DECEMBER, actor=people.handler)
    assert again.pk != submitted_roster.pk
    assert again.line_count == 2


def test_only_the_county_returns_rosters_and_requests_funds(people, submitted_roster):
    with pytest.raises(NotAllowed):
        return_roster(roster=submitted_roster, reason="x", actor=people.first)
    with pytest.raises(NotAllowed):
        create_fund_request(month=DECEMBER, actor=people.handler)


def test_fund_releases_are_recorded_per_unit(people, submitted_roster):
    from datetime import date

    request = create_fund_request(month=DECEMBER, actor=people.finance)
    record_fund_release(
        fund_request=request,
        unit=people.unit_a,
        category=Category.DIBAO_RURAL,
        amount=Decimal("670"),
        released_on=date(2026, 12, 5),
        reference="磴财拨〔2026〕12号",
        actor=people.finance,
    )
    overview = {u.unit.pk: u for u in month_overview(DECEMBER)}
    assert overview[people.unit_a.pk].released == Decimal("670")


def test_the_county_page_shows_who_submitted(people, login, submitted_roster):
    client = login(people.finance)
    page = client.get("/disbursement/county/2026-12/").content.decode()
    assert "巴彦高勒镇" in page
    assert 'data-testid="submitted-count">1<' in page
    assert client.get("/home/").status_code == 200


def test_a_unit_cannot_open_the_county_page(people, login):
    assert login(people.handler).get("/disbursement/county/2026-12/").status_code == 404


def test_the_county_grants_a_unit_leave_to_submit_late_on_the_county_page(people, login):
    url = "/disbursement/county/2026-12/leave/"
    form = {"unit": people.unit_a.pk, "until": "2026-11-28", "reason": "系统故障，无法按时签章"}

    refused = login(people.finance).post(url, form, follow=True)
    assert "只有县民政局监管人员可以批准延期报送清册" in refused.content.decode()
    supervisor = login(people.supervisor, Client())
    early = supervisor.post(url, {**form, "until": "2026-11-24"}, follow=True)
    assert "延期截止日期应晚于当月25日" in early.content.decode()
    assert not RosterWindowLeave.objects.exists()

    page = supervisor.post(url, form, follow=True).content.decode()
    leave = RosterWindowLeave.objects.get()
    assert (leave.unit, leave.month, leave.until) == (
        people.unit_a,
        date(2026, 12, 1),
        date(2026, 11, 28),
    )
    assert leave.granted_by == people.supervisor
    assert "准予延至11月28日" in page
    assert roster_due_date(people.unit_a, date(2026, 12, 1)) == date(2026, 11, 28)


def test_a_county_total_that_disagrees_with_a_unit_roster_blocks_the_request_and_names_it(
    people, entitle, submitted_roster, unit_b_people, monkeypatch
):
    from disbursement import services
    from disbursement.models import CountyFundRequest

    entitle(village=people.village_b, amount="900")
    roster_b = submit_unit_b(people, unit_b_people)
    sum_lines = services._totals_of

    def off_by_one_yuan_for_unit_b(rosters):
        rows = sum_lines(rosters)
        for row in rows:
            if row["unit_id"] == people.unit_b.pk:
                row["amount"] = str(Decimal(row["amount"]) + 1)
        return rows

    monkeypatch.setattr(services, "_totals_of", off_by_one_yuan_for_unit_b)

    with pytest.raises(DomainError) as refused:
        create_fund_request(month=DECEMBER, actor=people.finance)

    message = str(refused.value)
    assert "县级汇总与各单位清册不一致" in message
    assert "隆盛合镇：汇总901.00元，清册合计900.00元" in message
    assert "巴彦高勒镇" not in message
    assert not CountyFundRequest.objects.exists()
    for roster in (submitted_roster, roster_b):
        roster.refresh_from_db()
        assert roster.state == RosterState.SUBMITTED
        assert not roster.fund_requests.exists()
