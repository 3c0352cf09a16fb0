"""Correcting household facts from the case page, and the calculation sheet it leads to."""

import re
from datetime import date

import pytest
import time_machine

from cases import services
from cases.models import Case, FactChange, Income, Kind, State

from ..factories import unique_id_number

TODAY = "2026-12-02 10:00 +08:00"
CODES = re.compile(r"\b(wage|transfer|family_planning|up_yuan|dibao|tekun|partial|spouse)\b")


@pytest.fixture(autouse=True)
def on_the_issues_day():
    with time_machine.travel(TODAY, tick=False):
        yield


def file_case(people, kind=Kind.DIBAO) -> Case:
    return services.file_application(
        actor=people.handler,
        kind=kind,
        village=people.village_a,
        area="urban",
        members=[
            {
                "name": "张明东",
                "id_number": unique_id_number(),
                "work_ability": "unable" if kind == Kind.TEKUN else "able",
                "incomes": [{"kind": "transfer", "source": "子女赡养", "monthly_amount": "0"}],
            },
            {"name": "李秀英", "id_number": unique_id_number(sex="F"), "relation": "spouse"},
            {
                "name": "张小华",
                "id_number": unique_id_number(date(2012, 5, 1)),
                "relation": "child",
            },
        ],
    )


def visited(people, case) -> Case:
    h = people.handler
    case = services.accept(actor=h, case=case, on=date(2026, 12, 2))
    case = services.record_consent(
        actor=h, case=case, method="on_screen", signed_on=date(2026, 12, 2), signers="张明东"
    )
    case = services.request_verification(actor=h, case=case)
    case = services.record_verification_report(
        actor=people.verifier,
        case=case,
        findings=[{"agency": "人社", "result": "无"}],
        summary="无",
    )
    return services.record_home_visit(
        actor=h,
        case=case,
        visited_on=date(2026, 12, 2),
        findings="配偶务工",
        investigators=[{"name": "李经办", "kind": "staff"}, {"name": "周协理", "kind": "village"}],
    )


def add_income(client, case, **fields):
    case = Case.objects.get(pk=case.pk)
    spouse = case.household.members.get(relation="spouse")
    body = {
        "version": case.version,
        "form_id": "income-add",
        "subject": "income",
        "operation": "add",
        "person": spouse.pk,
        "kind": "wage",
        "source": "镇上超市",
        "monthly_amount": "1000",
        "period_start": "2026-06-01",
        "reason": "入户调查发现配偶务工",
        **fields,
    }
    return client.post(f"/cases/{case.pk}/facts/", body)


def test_the_handler_adds_an_income_and_the_sheet_shows_the_hand_computation(
    login, people, standards
):
    # The issue's example: three members, urban standard 840 元, a wage of 1,000 元 from
    # 2026-06-01, basis 2026-12-02 over 12 months (Dec 2025 – Nov 2026) → 6 months counted.
    # 1,000 × 6 = 6,000 ÷ 12 = 500 元 a month; dibao 840 × 3 − 500 = 2,020 元.
    client = login(people.handler)
    case = visited(people, file_case(people))
    response = add_income(client, case)
    assert response.status_code == 302
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "新增收入：李秀英 工资性收入" in page and "入户调查发现配偶务工" in page
    case = Case.objects.get(pk=case.pk)
    response = client.post(
        f"/cases/{case.pk}/do/assess/",
        {"version": case.version, "basis_date": "2026-12-02", "period_months": "12"},
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    page = client.get(f"/cases/{case.pk}/").content.decode()
    sheet = page[
        page.index('data-testid="assessment"') : page.index(
            "</section>", page.index('data-testid="assessment"')
        )
    ]
    assert "2025年12月至2026年11月" in sheet
    assert '<td class="num" data-testid="line-months">6</td>' in sheet
    assert '<td class="num" data-testid="line-counted">6000.00</td>' in sheet
    assert '<span data-testid="counted-monthly">500.00</span>' in sheet
    assert "840.00 × 3 − 500.00 = 2020.00 元，向上取整到元" in sheet
    assert '<strong data-testid="assessed-amount">2020.00</strong>' in sheet
    assert not CODES.search(sheet)


def test_a_refused_income_comes_back_with_everything_typed_and_the_message_beside_the_field(
    login, people, standards
):
    client = login(people.handler)
    case = file_case(people)
    response = add_income(
        client, case, monthly_amount="-20", source="砖厂打工", period_end="2026-07-31"
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert (
        '<span class="error" data-testid="error-monthly_amount">月均金额不能为负数。</span>' in page
    )
    form = page[page.index('data-testid="income-add"') :]
    assert 'value="-20"' in form and 'value="砖厂打工"' in form and 'value="2026-07-31"' in form
    assert "入户调查发现配偶务工</textarea>" in form
    assert not FactChange.objects.exists()


def test_an_income_ending_before_it_starts_is_refused_on_the_end_date(login, people, standards):
    client = login(people.handler)
    case = file_case(people)
    response = add_income(client, case, period_end="2026-05-01")
    assert response.status_code == 400
    assert 'data-testid="error-period_end">截止日期不能早于起始日期。' in response.content.decode()


def test_an_income_without_a_start_date_is_taken_as_running_before_the_period(
    login, people, standards
):
    client = login(people.handler)
    case = file_case(people)
    assert add_income(client, case, period_start="").status_code == 302
    assert Income.objects.get(source="镇上超市").period_start is None


def test_a_second_clerk_on_an_old_page_gets_409_naming_the_first_clerks_change(
    login, people, standards
):
    case = file_case(people)
    old_version = case.version
    assert add_income(login(people.handler), case).status_code == 302
    from django.test import Client

    second = login(people.handler2, Client())
    response = second.post(
        f"/cases/{case.pk}/facts/",
        {
            "version": old_version,
            "form_id": "asset-add",
            "subject": "asset",
            "operation": "add",
            "kind": "deposit",
            "value": "3000",
            "reason": "存款",
        },
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "他人已更正了该家庭的信息：新增收入：李秀英 工资性收入（李经办" in page
    assert 'value="3000"' in page


def test_after_approval_the_page_offers_no_correction_forms(login, people, standards):
    client = login(people.handler)
    case = file_case(people)
    Case.objects.filter(pk=case.pk).update(state=State.APPROVED)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="income-add"' not in page
    assert "家庭信息只能通过变更报告或定期复核更正" in page
    response = add_income(client, case)
    assert response.status_code == 409
    assert "只能通过变更报告或定期复核更正" in response.content.decode()


def test_tekun_care_is_ticked_as_six_checkboxes(login, people, standards):
    # Urban tekun basic 1,380 + full care 1,266 (four indicators not met) = 2,646 元.
    client = login(people.handler)
    case = visited(people, file_case(people, kind=Kind.TEKUN))
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert page.count('name="care_indicators"') == 6 and "不能自主洗澡" in page
    response = client.post(
        f"/cases/{case.pk}/do/assess/",
        {
            "version": case.version,
            "basis_date": "2026-12-02",
            "period_months": "12",
            "care_form": "1",
            "care_indicators": ["eating", "bed", "toilet", "bathing"],
        },
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    case = Case.objects.get(pk=case.pk)
    assert case.care_tier == "full" and str(case.monthly_amount) == "2646.00"
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "未达到 自主吃饭、自主上下床、自主如厕、自主洗澡（4 项）" in page


def test_choosing_the_other_period_without_a_reason_keeps_the_choice_and_asks_for_it(
    login, people, standards
):
    client = login(people.handler)
    case = visited(people, file_case(people))
    response = client.post(
        f"/cases/{case.pk}/do/assess/",
        {"version": case.version, "basis_date": "2026-11-30", "period_months": "6"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="error-period_reason">请填写不按县定12个月核算期的理由。' in page
    assert '<option value="6" selected>' in page and 'value="2026-11-30"' in page


def test_a_refused_home_visit_keeps_what_was_typed_and_dates_default_to_today(
    login, people, standards
):
    client = login(people.handler)
    case = file_case(people)
    case = services.accept(actor=people.handler, case=case, on=date(2026, 12, 2))
    case = services.record_consent(
        actor=people.handler,
        case=case,
        method="on_screen",
        signed_on=date(2026, 12, 2),
        signers="张明东",
    )
    case = services.request_verification(actor=people.handler, case=case)
    case = services.record_verification_report(
        actor=people.verifier,
        case=case,
        findings=[{"agency": "人社", "result": "无"}],
        summary="无",
    )
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'name="visited_on" required value="2026-12-02"' in page
    response = client.post(
        f"/cases/{case.pk}/do/record_home_visit/",
        {
            "version": case.version,
            "visited_on": "2026-12-02",
            "investigator": ["李经办", "", ""],
            "investigator_kind": ["staff", "village", "staff"],
            "findings": "配偶在镇上务工，月收入约2000元",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="error-investigators">入户调查须至少2名调查人员' in page
    assert 'name="investigator" value="李经办"' in page
    assert "配偶在镇上务工，月收入约2000元</textarea>" in page


def test_the_api_corrects_a_fact_and_answers_409_to_a_stale_version(api, people, standards):
    case = file_case(people)
    client = api(people.handler)
    spouse = case.household.members.get(relation="spouse")
    body = {
        "subject": "income",
        "operation": "add",
        "values": {"person": str(spouse.pk), "kind": "wage", "monthly_amount": "2000"},
        "reason": "配偶务工",
        "version": case.version,
    }
    response = client.post(f"/api/cases/{case.pk}/facts/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["title"] == "新增收入：李秀英 工资性收入"
    again = client.post(f"/api/cases/{case.pk}/facts/", body, format="json")
    assert again.status_code == 409
    assert "新增收入：李秀英 工资性收入" in again.json()["detail"]
    facts = client.get(f"/api/cases/{case.pk}/facts/").json()
    assert [i["kind_label"] for i in facts["incomes"]] == ["转移净收入", "工资性收入"]
    assert facts["history"][0]["reason"] == "配偶务工"
    assert "*" in facts["members"][0]["masked_id"]
