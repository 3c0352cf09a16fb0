"""The county supervisor sets the assessment's rules from a date; earlier rules stay as history."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from cases.models import CountyRules

TODAY = "2026-12-02 10:00 +08:00"


@pytest.fixture(autouse=True)
def on_the_issues_day():
    with time_machine.travel(TODAY, tick=False):
        yield


def body(**changes):
    return {
        "effective_from": "2027-01-01",
        "assessment_months": "6",
        "disregarded_income_kinds": ["award", "family_planning"],
        "marginal_asset_limit": "30000",
        "note": "县民政局2026年第5号通知",
        **changes,
    }


def test_the_county_supervisor_sets_the_rules_from_a_date(login, people):
    client = login(people.supervisor)
    assert "收入核算规则" in client.get("/cases/assessment-rules/").content.decode()
    response = client.post("/cases/assessment-rules/", body())
    assert response.status_code == 302, response.content.decode()[:1500]
    rules = CountyRules.objects.get()
    assert (rules.effective_from, rules.assessment_months) == (date(2027, 1, 1), 6)
    assert rules.disregarded_income_kinds == ["award", "family_planning"]
    assert rules.marginal_asset_limit == Decimal("30000.00") and rules.set_by == people.supervisor
    assert CountyRules.in_force(date(2026, 12, 31)).assessment_months == 12
    assert CountyRules.in_force(date(2027, 1, 1)).assessment_months == 6
    page = client.get("/cases/assessment-rules/").content.decode()
    assert "县民政局2026年第5号通知" in page


def test_a_refused_rule_comes_back_with_what_was_typed(login, people):
    client = login(people.supervisor)
    response = client.post(
        "/cases/assessment-rules/", body(marginal_asset_limit="三万", effective_from="2026-11-01")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="error-effective_from">执行日期不能早于今天' in page
    assert 'value="三万"' in page and "县民政局2026年第5号通知</textarea>" in page
    assert 'value="family_planning" checked' in page
    assert not CountyRules.objects.exists()


def test_a_handler_may_not_set_the_county_rules(login, people):
    response = login(people.handler).post("/cases/assessment-rules/", body())
    assert response.status_code == 403
    assert not CountyRules.objects.exists()


def test_the_county_sets_the_phase_out_months_and_a_wrong_count_is_refused(login, people):
    client = login(people.supervisor)
    refused = client.post("/cases/assessment-rules/", body(phase_out_months="半年"))
    assert refused.status_code == 400
    page = refused.content.decode()
    assert 'data-testid="error-phase_out_months">渐退期请填写1至12之间的整月数' in page
    assert 'value="半年"' in page and not CountyRules.objects.exists()
    assert client.post("/cases/assessment-rules/", body(phase_out_months="3")).status_code == 302
    assert CountyRules.in_force(date(2026, 12, 31)).phase_out_months == 6
    assert CountyRules.in_force(date(2027, 1, 1)).phase_out_months == 3
    # Today the rules in force are still the earlier ones: six months.
    assert (
        "继续按原标准发放 6 个月后停发" in client.get("/cases/assessment-rules/").content.decode()
    )
