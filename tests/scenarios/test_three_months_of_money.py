"""Unit A through December 2026, January and February 2027: new approvals by the 20th, a review
decrease, a revocation backdated into a submitted month, a supplementary roster, the county's
fund requests and two partial releases. For each month the statistics, the dashboard, the
rosters and the county's totals count the same households and the same yuan, written out by
hand beside each assertion.

Households (all rural dibao unless said; decided → first paid, day-20 cut-off):
  甲 670    decided 2026-10-09 → from Nov
  乙 840    urban, decided 2026-10-09 → from Nov; revoked on 22 Dec back to December
  丙 1140   decided 2026-10-09 → from Nov; review on 10 Dec lowers it to 420 from January
  丁 900    decided 2026-11-10 (by the 20th) → from December
  戊 600    decided 2026-12-15 (by the 20th) → from January
  己 500    decided 2026-12-21 (after the 20th) → from February
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from openpyxl import load_workbook

from accounts.access import Scope
from cases.models import Area
from disbursement.in_force import month_totals, roster_totals, shown_amount
from disbursement.models import Category, ChangeSource, PaymentRoster, RosterKind
from disbursement.releases import record_fund_release, release_figures
from disbursement.services import (
    adjust_entitlement,
    county_totals,
    create_fund_request,
    generate_roster,
    generate_supplementary_roster,
    submit_roster,
)
from supervision import selectors as supervision
from supervision.services import revoke_decision

from ..conftest import signing_otp
from ..disbursement.conftest import entitle, sign_all  # noqa: F401

pytestmark = pytest.mark.django_db

DEC, JAN, FEB = date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)


def at(moment: str):
    return time_machine.travel(f"{moment} +08:00", tick=False)


def submit_regular(people, month: date) -> PaymentRoster:
    roster = generate_roster(unit=people.unit_a, month=month, actor=people.handler)
    sign_all(roster, people)
    submit_roster(roster=roster, actor=people.handler)
    roster.refresh_from_db()
    return roster


def statistics_page_totals(client: Client, month: date) -> tuple[int, Decimal]:
    """Households and yuan of the 合计 row of the statistics workbook the county downloads."""
    response = client.get(f"/supervision/statistics/?month={month:%Y-%m}&export=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    totals = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "合计")
    return totals[3], Decimal(str(totals[5])).quantize(Decimal("0.01"))


def dashboard_totals(month: date) -> tuple[int, Decimal]:
    filters = supervision.Filters(start=date(2026, 10, 1), end=date(2027, 2, 28), month=month)
    sections = supervision.dashboard(scope=Scope(everything=True), filters=filters)
    rows = next(s for s in sections if s.key == "beneficiaries").rows
    return sum(r[2] for r in rows), sum((Decimal(r[3]) for r in rows), Decimal("0.00"))


def county_amount(month: date) -> Decimal:
    return sum((Decimal(r["amount"]) for r in county_totals(month)), Decimal("0.00"))


def statistics_totals(month: date) -> tuple[int, Decimal]:
    rows = supervision.monthly_statistics(month=month, scope=Scope(everything=True))
    return sum(r[3] for r in rows), sum((r[5] for r in rows), Decimal("0.00"))


def assert_month_agrees(client: Client | None, month: date, households: int, amount: str) -> None:
    """Statistics (the page's workbook when signed in), dashboard, rosters, history, county."""
    expected = (households, Decimal(amount))
    assert statistics_totals(month) == expected, "statistics"
    if client is not None:
        assert statistics_page_totals(client, month) == expected, "statistics page"
    assert dashboard_totals(month) == expected, "dashboard"
    paid = roster_totals(month, unit_id=None)
    assert (paid.households, paid.amount) == expected, "rosters"
    history = month_totals(month)
    assert (history.households, history.amount) == expected, "entitlement history"
    assert county_amount(month) == Decimal(amount), "county totals"


def test_three_months_of_money_agree_to_the_yuan(people, entitle, login, api):  # noqa: F811
    # --- Before December ----------------------------------------------------------------------
    jia = entitle(amount="670", decided_on=date(2026, 10, 9))
    yi = entitle(amount="840", area=Area.URBAN, decided_on=date(2026, 10, 9))
    bing = entitle(amount="1140", decided_on=date(2026, 10, 9))
    with at("2026-10-21 10:00"):
        submit_regular(people, date(2026, 11, 1))
    with at("2026-11-10 09:00"):
        ding = entitle(amount="900", decided_on=date(2026, 11, 10))

    # --- December's roster, request and releases ----------------------------------------------
    with at("2026-11-21 10:00"):
        december = submit_regular(people, DEC)
    # 670 + 840 + 1140 + 900 = 3550 for four households.
    assert (december.line_count, december.total_amount) == (4, Decimal("3550.00"))
    with at("2026-11-26 10:00"):
        request = create_fund_request(month=DEC, actor=people.finance)
        assert_month_agrees(None, DEC, 4, "3550.00")
    assert request.total_amount == Decimal("3550.00")
    # Rural dibao asked 670 + 1140 + 900 = 2710; released in two parts, 1500 then 1000.
    with at("2026-11-28 10:00"):
        for amount, voucher in (("1500", "磴财拨〔2026〕101号"), ("1000", "磴财拨〔2026〕102号")):
            record_fund_release(
                fund_request=request,
                unit=people.unit_a,
                category=Category.DIBAO_RURAL,
                amount=Decimal(amount),
                released_on=date(2026, 11, 28),
                reference=voucher,
                actor=people.finance,
            )
    rural = next(
        r
        for r in release_figures(DEC)
        if r.category == Category.DIBAO_RURAL and r.unit == people.unit_a
    )
    # 2710 requested − (1500 + 1000) released = 210 outstanding.
    assert (rural.requested, rural.released, rural.outstanding) == (
        Decimal("2710.00"),
        Decimal("2500.00"),
        Decimal("210.00"),
    )

    # --- During December: a review decrease, two approvals, a backdated revocation ------------
    with at("2026-12-10 10:00"):
        adjust_entitlement(
            entitlement=bing,
            effective_month=JAN,
            new_amount=Decimal("420"),
            reason="复核：家庭成员新就业，收入增加",
            source=ChangeSource.REVIEW,
            actor=people.handler,
        )
        # In December the household is still paid 1140; January's 420 is shown as ahead.
        shown = shown_amount(bing)
        assert (shown.amount, shown.ahead) == (Decimal("1140.00"), "自2027年1月起：420.00元")
    with at("2026-12-15 10:00"):
        entitle(amount="600", decided_on=date(2026, 12, 15))
    with at("2026-12-21 10:00"):
        entitle(amount="500", decided_on=date(2026, 12, 21))
    with at("2026-12-22 09:00"):
        revoke_decision(
            case=yi.case,
            actor=people.supervisor,
            reason="隐瞒家庭收入",
            stop_from=DEC,
            otp_token=signing_otp(people.supervisor),
        )
        # December's submitted roster paid 乙 840: the correction recovers it.
        correction = generate_supplementary_roster(
            unit=people.unit_a,
            month=DEC,
            reason="撤销乙户审核确认，追回12月救助金",
            actor=people.handler,
        )
        assert (correction.line_count, correction.total_amount) == (1, Decimal("-840.00"))
        sign_all(correction, people)
        submit_roster(roster=correction, actor=people.handler)

        january = submit_regular(people, JAN)
    # 甲 670 + 丙 420 + 丁 900 + 戊 600 = 2590; 己 (decided on the 21st) waits for February.
    assert (january.line_count, january.total_amount) == (4, Decimal("2590.00"))

    with at("2026-12-26 10:00"):
        # The correction goes to the county in a second request for December: −840.
        second = create_fund_request(month=DEC, actor=people.finance)
        assert second.total_amount == Decimal("-840.00")
        create_fund_request(month=JAN, actor=people.finance)
        # December now: 3550 − 840 = 2710 for three households (乙 revoked back to December).
        assert_month_agrees(None, DEC, 3, "2710.00")
        assert_month_agrees(None, JAN, 4, "2590.00")

    # --- February -------------------------------------------------------------------------------
    with at("2027-01-21 10:00"):
        february = submit_regular(people, FEB)
    # 670 + 420 + 900 + 600 + 己 500 = 3090 for five households.
    assert (february.line_count, february.total_amount) == (5, Decimal("3090.00"))
    with at("2027-01-26 10:00"):
        create_fund_request(month=FEB, actor=people.finance)
        # Every month, read again later, still agrees: the past is read from its own month.
        supervisor = login(people.supervisor, Client())
        assert_month_agrees(supervisor, DEC, 3, "2710.00")
        assert_month_agrees(supervisor, JAN, 4, "2590.00")
        assert_month_agrees(supervisor, FEB, 5, "3090.00")
        finance = login(people.finance, Client())
        for month, households, amount in ((DEC, 3, "2710.00"), (JAN, 4, "2590.00")):
            page = finance.get(f"/disbursement/county/{month:%Y-%m}/").content.decode()
            assert f"实发 <strong>{households}</strong> 户，<strong>{amount}</strong> 元" in page
            assert 'data-testid="chart-rosters"' in page and 'data-testid="chart-releases"' in page
        rows = supervision.monthly_statistics(month=FEB, scope=Scope(everything=True))
        # February: one new (己), none stopped; January: one new (戊), one stopped (乙 from Dec).
        assert [(r[6], r[7]) for r in rows] == [(1, 0)]
        january_rows = supervision.monthly_statistics(month=JAN, scope=Scope(everything=True))
        assert [(r[6], r[7]) for r in january_rows] == [(1, 0)]
        december_rows = supervision.monthly_statistics(month=DEC, scope=Scope(everything=True))
        # December: 丁 new; 乙 was last paid (in force) in November, so it stopped in December.
        assert sorted((r[1], r[6], r[7]) for r in december_rows) == [
            ("农村牧区", 1, 0),
            ("城市", 0, 1),
        ]
    with at("2027-01-26 11:00"):
        # The dashboard's API gives the same month as the page: December, 3 households 2710.
        response = api(people.supervisor).get("/api/supervision/dashboard/?month=2026-12")
        rows = next(s for s in response.json() if s["key"] == "beneficiaries")["rows"]
        assert (sum(r[2] for r in rows), sum(Decimal(str(r[3])) for r in rows)) == (
            3,
            Decimal("2710.00"),
        )
    assert PaymentRoster.objects.filter(kind=RosterKind.SUPPLEMENTARY).count() == 1
    assert ding.start_month == DEC and jia.start_month == date(2026, 11, 1)
