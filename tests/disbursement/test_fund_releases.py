"""Releases belong to a fund request, never exceed it without a supervisor's reason, one voucher each."""

from __future__ import annotations

import re
import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from dengkou_aid.errors import Conflict, DomainError
from disbursement.models import Category, CountyFundRequest, FundRelease, RosterEvent
from disbursement.releases import record_fund_release, release_figures

from .conftest import DECEMBER

# The request asks 52,856.00 for unit A's rural dibao and 840.00 for its urban dibao:
# unit A in all 52,856.00 + 840.00 = 53,696.00.
RURAL = Decimal("52856.00")
URBAN = Decimal("840.00")


@pytest.fixture
def fund_request(people, submitted_roster):
    """December's request covering unit A (made directly: test setup only)."""
    request = CountyFundRequest.objects.create(
        month=DECEMBER,
        total_amount=RURAL + URBAN,
        line_count=2,
        totals=[
            {
                "unit_id": people.unit_a.pk,
                "unit_code": people.unit_a.code,
                "unit": people.unit_a.name,
                "category": Category.DIBAO_RURAL,
                "count": 1,
                "amount": str(RURAL),
            },
            {
                "unit_id": people.unit_a.pk,
                "unit_code": people.unit_a.code,
                "unit": people.unit_a.name,
                "category": Category.DIBAO_URBAN,
                "count": 1,
                "amount": str(URBAN),
            },
        ],
        created_by=people.finance,
    )
    request.rosters.add(submitted_roster)
    return request


def release(
    people, fund_request, amount, reference, *, actor=None, category=Category.DIBAO_RURAL, **kw
):
    return record_fund_release(
        fund_request=fund_request,
        unit=people.unit_a,
        category=category,
        amount=Decimal(amount) if not isinstance(amount, str) else amount,
        released_on=date(2026, 12, 5),
        reference=reference,
        actor=actor or people.finance,
        **kw,
    )


def figures(month=DECEMBER):
    return {(row.unit.code, row.category): row for row in release_figures(month)}


def test_two_partial_releases_leave_nothing_outstanding_and_a_third_is_refused(
    people, fund_request
):
    release(people, fund_request, Decimal("30000.00"), "磴财拨〔2026〕101号")
    release(people, fund_request, Decimal("22856.00"), "磴财拨〔2026〕102号")

    row = figures()[(people.unit_a.code, Category.DIBAO_RURAL)]
    # 52,856.00 − 30,000.00 − 22,856.00 = 0.00
    assert row.requested == Decimal("52856.00")
    assert row.released == Decimal("52856.00")
    assert row.outstanding == Decimal("0.00")
    with pytest.raises(Conflict, match=r"未拨付金额0\.00元") as refused:
        release(people, fund_request, Decimal("0.01"), "磴财拨〔2026〕103号")
    assert refused.value.field == "amount"
    assert FundRelease.objects.count() == 2
    events = RosterEvent.objects.filter(action="fund_released")
    assert [e.data["amount"] for e in events.order_by("id")] == ["30000.00", "22856.00"]


def test_a_voucher_number_is_recorded_once(people, fund_request):
    release(people, fund_request, Decimal("30000.00"), "磴财拨〔2026〕101号")

    with pytest.raises(Conflict, match="已登记过拨付") as refused:
        release(people, fund_request, Decimal("100.00"), " 磴财拨〔2026〕101号 ")
    assert refused.value.field == "reference"
    assert FundRelease.objects.count() == 1


def test_an_over_release_needs_a_supervisors_reason_which_the_county_page_shows(
    people, fund_request, login
):
    release(people, fund_request, Decimal("52856.00"), "V-1")
    reason = "11月补发差额随本月一并拨付"
    with pytest.raises(DomainError, match="监管人员") as refused:
        release(people, fund_request, Decimal("500.00"), "V-2", over_reason=reason)
    assert refused.value.field == "over_reason"  # the finance officer may not give it

    over = release(
        people, fund_request, Decimal("500.00"), "V-2", actor=people.supervisor, over_reason=reason
    )

    assert over.over_reason == reason
    row = figures()[(people.unit_a.code, Category.DIBAO_RURAL)]
    # 52,856.00 − 52,856.00 − 500.00 = −500.00
    assert row.outstanding == Decimal("-500.00")
    page = login(people.finance).get("/disbursement/county/2026-12/").content.decode()
    assert f"超额拨付原因：{reason}（郑监管）" in page


def test_the_unit_total_also_bounds_each_category(people, fund_request):
    # Urban asks 840.00; releasing 840.01 exceeds it by 0.01.
    with pytest.raises(Conflict, match=r"未拨付金额840\.00元"):
        release(people, fund_request, Decimal("840.01"), "V-U", category=Category.DIBAO_URBAN)
    with pytest.raises(DomainError, match="没有"):
        release(people, fund_request, Decimal("1.00"), "V-M", category=Category.MARGINAL)


@pytest.mark.django_db(transaction=True)
def test_two_people_releasing_at_once_never_exceed_the_request(people, fund_request):
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def record(reference):
        try:
            barrier.wait(timeout=10)
            release(people, fund_request, Decimal("30000.00"), reference)
            outcomes.append("saved")
        except Conflict as error:
            outcomes.append(error.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=record, args=(f"V-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # 30,000.00 saved first; then 52,856.00 − 30,000.00 = 22,856.00 outstanding < 30,000.00.
    assert sorted(outcomes, key=len)[0] == "saved"
    assert outcomes.count("saved") == 1
    assert any("未拨付金额22856.00元" in o for o in outcomes)
    assert sum(r.amount for r in FundRelease.objects.all()) == Decimal("30000.00")


def post_release(client, fund_request, people, **fields):
    data = {
        "fund_request": str(fund_request.pk) if fund_request else "",
        "unit": str(people.unit_a.pk),
        "category": Category.DIBAO_RURAL,
        "amount": "30000.00",
        "released_on": "2026-12-05",
        "reference": "磴财拨〔2026〕101号",
        "over_reason": "",
        **fields,
    }
    return client.post("/disbursement/county/2026-12/fund-release/", data)


def field_error(page: str, field: str) -> str:
    found = re.search(rf'data-field-error="{field}">([^<]*)<', page)
    return found.group(1) if found else ""


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"amount": "0"}, "amount", "拨付金额须大于0。"),
        ({"amount": "-5"}, "amount", "拨付金额须大于0。"),
        ({"amount": "三万"}, "amount", "拨付金额应为数字"),
        ({"amount": "NaN"}, "amount", "拨付金额应为数字"),
        ({"amount": "1.005"}, "amount", "两位小数"),
        ({"amount": "52856.01"}, "amount", "超出"),
        ({"released_on": "12/05"}, "released_on", "拨付日期"),
        ({"reference": ""}, "reference", "凭证号"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_keeping_what_was_typed(
    people, fund_request, login, fields, field, message
):
    response = post_release(login(people.finance), fund_request, people, **fields)

    page = response.content.decode()
    assert response.status_code in (400, 409)
    assert message in field_error(page, field)
    typed = fields.get("amount", "30000.00")
    assert f'name="amount" inputmode="decimal" required value="{typed}"' in page
    assert FundRelease.objects.count() == 0


def test_a_duplicate_voucher_on_the_page_is_refused_by_the_field(people, fund_request, login):
    client = login(people.finance)
    assert post_release(client, fund_request, people).status_code == 302

    response = post_release(client, fund_request, people, amount="100.00")

    assert response.status_code == 409
    assert "已登记过拨付" in field_error(response.content.decode(), "reference")
    assert FundRelease.objects.count() == 1


def test_no_release_before_the_months_fund_request_exists(people, submitted_roster, login):
    response = post_release(login(people.finance), None, people)

    assert response.status_code == 400
    assert "尚未生成请款汇总" in field_error(response.content.decode(), "fund_request")
    assert FundRelease.objects.count() == 0


def test_the_county_month_page_shows_requested_released_outstanding_per_unit_and_category(
    people, fund_request, login
):
    release(people, fund_request, Decimal("30000.00"), "V-1")
    release(people, fund_request, Decimal("340.50"), "V-2", category=Category.DIBAO_URBAN)

    page = login(people.finance).get("/disbursement/county/2026-12/").content.decode()

    def cells(category):
        row = re.search(
            rf'data-unit="{people.unit_a.code}" data-category="{category}">(.*?)</tr>', page, re.S
        ).group(1)
        return dict(re.findall(r'data-figure="(\w+)">([^<]*)<', row))

    # Rural: 52,856.00 − 30,000.00 = 22,856.00. Urban: 840.00 − 340.50 = 499.50.
    assert cells(Category.DIBAO_RURAL) == {
        "requested": "52856.00",
        "released": "30000.00",
        "outstanding": "22856.00",
    }
    assert cells(Category.DIBAO_URBAN) == {
        "requested": "840.00",
        "released": "340.50",
        "outstanding": "499.50",
    }


def test_the_fund_request_letter_is_a_numbered_pdf_with_the_summary_and_signature_boxes(
    people, fund_request, login
):
    from dengkou_aid.lib.pdfcheck import pdf_fonts, pdf_text

    response = login(people.finance).get(
        f"/disbursement/county/2026-12/fund-request/{fund_request.pk}/letter.pdf"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content).replace(" ", "")
    year = fund_request.created_at.year
    assert f"磴民请〔{year}〕1号" in text  # the year's first request
    assert "磴口县财政局：" in text
    # 52,856.00 + 840.00 = 53,696.00 over 2 households.
    assert "应发放2户，金额合计53696.00元" in text
    assert "52856.00" in text and "840.00" in text
    for box in ("经办人", "资金管理负责人", "局领导", "单位盖章"):
        assert box in text
    fonts = pdf_fonts(response.content)
    assert any(f["emb"] == "yes" and "Noto" in f["name"] and "CJK" in f["name"] for f in fonts)
    assert all(f["emb"] == "yes" for f in fonts)


def test_a_unit_cannot_open_the_fund_request_letter(people, fund_request, login):
    response = login(people.handler).get(
        f"/disbursement/county/2026-12/fund-request/{fund_request.pk}/letter.pdf"
    )
    assert response.status_code == 404


def test_a_request_made_early_on_new_years_day_is_numbered_in_the_new_year(people):
    import time_machine

    from disbursement.releases import letter_number

    # 2027-01-01 03:00 in Dengkou is still 2026-12-31 in UTC.
    with time_machine.travel("2027-01-01 03:00 +0800", tick=False):
        first = CountyFundRequest.objects.create(
            month=date(2027, 1, 1),
            total_amount=Decimal("0.00"),
            line_count=0,
            totals=[],
            created_by=people.finance,
        )
    assert letter_number(first) == "磴民请〔2027〕1号"
