"""The spot-check checklist shows the checker the case facts to check against, and what was
recorded reads back in Chinese on the checklist and on the finding, never as a stored dict."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from cases.models import Asset, Income, IncomeAssessment, Person
from supervision.models import Finding, Rule
from supervision.services import draw_spot_check_sample

pytestmark = pytest.mark.django_db
MARCH = {"period_start": date(2026, 3, 1), "period_end": date(2026, 3, 31)}
RAW = re.compile(
    r"\{'|\{&#x27;|'ok':|&#x27;ok&#x27;|\bTrue\b|\bFalse\b|\bNone\b|home_visit|archive"
)


def visible_text(html: str) -> str:
    """The page as a person reads it: no tags, attributes or scripts."""
    html = re.sub(r"<script.*?</script>|<style.*?</style>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture
def sample_with_facts(people, decided_case):
    case = decided_case()
    applicant = Person.objects.filter(household=case.household).order_by("id").first()
    Income.objects.create(
        person=applicant,
        kind="wage",
        source="县城打零工",
        monthly_amount=Decimal("500.00"),
        period_start=date(2025, 3, 1),
        months_received=12,
    )
    Asset.objects.create(
        household=case.household, kind="deposit", value=Decimal("3000.00"), description="存款"
    )
    # A later assessment supersedes the first one; it counted the applicant's wage.
    first = case.assessments.get()
    IncomeAssessment.objects.create(
        case=case,
        basis_date=first.basis_date,
        period_months=12,
        household_size=first.household_size,
        total_monthly_income=first.total_monthly_income,
        exempt_monthly_income=0,
        counted_monthly_income=first.counted_monthly_income,
        per_capita_income=first.per_capita_income,
        standard=first.standard,
        standard_amount=first.standard_amount,
        eligible=True,
        amount=first.amount,
        assessed_by=first.assessed_by,
        assessed_at=first.assessed_at + timedelta(hours=1),
        working={
            "total_period_income": "6000",
            "exempt_period_income": "0",
            "incomes": [
                {
                    "person": applicant.name,
                    "kind": "工资性收入",
                    "kind_code": "wage",
                    "source": "县城打零工",
                    "monthly_amount": "500.00",
                    "months": 12,
                    "total": "6000.00",
                    "exempt": False,
                }
            ],
        },
    )
    draw = draw_spot_check_sample(**MARCH, actor=people.supervisor, seed=7)
    return case, applicant, draw.samples.get()


def test_the_checklist_shows_the_members_decision_incomes_and_assets(
    people, sample_with_facts, login
):
    case, applicant, sample = sample_with_facts
    page = login(people.supervisor).get(f"/supervision/spot-checks/samples/{sample.pk}/")
    html = page.content.decode()
    assert 'data-testid="sample-facts"' in html
    assert applicant.name in html and applicant.masked_id in html
    assert applicant.id_number not in html
    assert "840.00元" in html and case.get_kind_display() in html
    assert "县城打零工" in html and "计入 6000.00元" in html
    assert "3000.00" in html and "存款" in html
    assert "月人均收入" in html and "适用标准" in html


def test_a_recorded_checklist_reads_in_chinese_on_the_checklist_and_the_finding(
    people, sample_with_facts, login
):
    _, _, sample = sample_with_facts
    client = login(people.supervisor)
    form = {
        "home_visit_ok": "ok",
        "archive_ok": "problem",
        "archive_note": "档案缺少户口簿复印件",
        "income_ok": "ok",
        "publicity_ok": "ok",
    }
    assert client.post(f"/supervision/spot-checks/samples/{sample.pk}/", form).status_code == 302
    finding = Finding.objects.get(rule=Rule.SPOT_CHECK)

    checklist = visible_text(
        client.get(f"/supervision/spot-checks/samples/{sample.pk}/").content.decode()
    )
    assert "已记录的核查结果" in checklist
    assert re.search(r"档案资料\s+有问题\s+档案缺少户口簿复印件", checklist)
    assert re.search(r"入户调查\s+无问题", checklist)

    page = visible_text(client.get(f"/supervision/findings/{finding.pk}/").content.decode())
    assert re.search(r"档案资料\s+档案缺少户口簿复印件", page)
    assert re.search(r"档案资料\s+有问题", page)
    assert sample.case.number in page and "2026-03-01至2026-03-31抽样" in page
    assert not RAW.search(page), RAW.search(page)
    assert not RAW.search(checklist), RAW.search(checklist)
