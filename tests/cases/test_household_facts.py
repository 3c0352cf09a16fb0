"""Household facts are corrected as versioned records: who, when, why, before and after."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from cases import services
from cases.facts.selectors import current_facts, fact_history
from cases.facts.services import record_fact_change
from cases.models import (
    Case,
    CountyRules,
    FactChange,
    FactChannel,
    Income,
    Kind,
    Person,
    State,
)
from dengkou_aid.errors import Conflict, DomainError, NotAllowed

from ..factories import unique_id_number

# The issue's day: assessed on 2026-12-02, the period is December 2025 to November 2026.
TODAY = "2026-12-02 10:00 +08:00"


@pytest.fixture(autouse=True)
def on_the_issues_day():
    with time_machine.travel(TODAY, tick=False):
        yield


def file_case(people, *, kind=Kind.DIBAO, actor=None, **kwargs) -> Case:
    members = [
        {
            "name": "张明东",
            "id_number": unique_id_number(),
            "incomes": [
                {
                    "kind": "wage",
                    "source": "务工",
                    "monthly_amount": "300",
                    "period_start": date(2020, 1, 1),
                }
            ],
        },
        {"name": "李秀英", "id_number": unique_id_number(sex="F"), "relation": "spouse"},
    ]
    return services.file_application(
        actor=actor or people.handler,
        kind=kind,
        village=people.village_a,
        area="rural",
        members=members,
        entrusted_reason="申请人行动不便" if actor == people.assistant else "",
        **kwargs,
    )


def to_visited(people, case: Case) -> Case:
    h = people.handler
    case = services.accept(actor=h, case=case, on=date(2026, 12, 2))
    case = services.record_consent(
        actor=h, case=case, method="on_screen", signed_on=date(2026, 12, 2), signers="张明东"
    )
    case = services.request_verification(actor=h, case=case)
    case = services.record_verification_report(
        actor=people.verifier,
        case=case,
        findings=[{"agency": "公安", "result": "无车辆"}],
        summary="未发现不符合条件的财产",
    )
    return services.record_home_visit(
        actor=h,
        case=case,
        visited_on=date(2026, 12, 2),
        findings="配偶外出务工",
        investigators=[{"name": "李经办", "kind": "staff"}, {"name": "周协理", "kind": "village"}],
    )


def spouse(case: Case) -> Person:
    return case.household.members.get(relation="spouse")


def add_spouse_wage(people, case, **values):
    return record_fact_change(
        case=case,
        actor=people.handler,
        reason="入户调查发现配偶在镇上务工",
        subject="income",
        operation="add",
        values={"person": spouse(case).pk, "kind": "wage", "monthly_amount": "2000", **values},
    )


def test_an_income_added_by_the_handler_is_recorded_with_who_why_and_after(people, standards):
    case = file_case(people)
    change = add_spouse_wage(people, case, period_start="2026-06-01", source="镇上超市")
    assert change.actor == people.handler and change.actor_role == "handler"
    assert change.before == {} and change.after["monthly_amount"] == "2000.00"
    assert change.channel == FactChannel.CASE
    event = case.events.get(action="fact_change")
    assert event.label == "新增收入：李秀英 工资性收入"
    assert event.note == "入户调查发现配偶在镇上务工"
    history = fact_history(case)
    assert history[0]["title"] == "新增收入：李秀英 工资性收入"
    assert {"field": "起始日期", "before": "—", "after": "2026-06-01"} in history[0]["rows"]


def test_the_assessment_reads_the_corrected_income_for_its_whole_months(people, standards):
    # Two members, rural standard 670. Applicant 300 × 12 months = 3,600; spouse 2,000 from
    # 2026-06-01 counts June–November: 2,000 × 6 = 12,000. Household: 15,600 / 12 = 1,300 a month.
    # Dibao: 670 × 2 − 1,300 = 40 元.
    case = to_visited(people, file_case(people))
    add_spouse_wage(people, case, period_start="2026-06-01")
    record = services.assess(actor=people.handler, case=case)
    assert record.counted_monthly_income == Decimal("1300.00")
    assert record.amount == Decimal("40.00")
    lines = {line["person"]: line for line in record.working["incomes"]}
    assert lines["李秀英"]["months"] == 6 and lines["李秀英"]["counted"] == "12000.00"
    assert lines["李秀英"]["kind"] == "工资性收入"
    assert record.working["period"] == "2025年12月至2026年11月"


def test_a_change_keeps_the_value_before_and_after(people, standards):
    case = file_case(people)
    income = Income.objects.get(person=case.applicant)
    change = record_fact_change(
        case=case,
        actor=people.handler,
        reason="工资单显示实际为350元",
        subject="income",
        operation="change",
        target_id=income.pk,
        values={"monthly_amount": "350"},
    )
    assert change.before["monthly_amount"] == "300.00"
    assert change.after["monthly_amount"] == "350.00"
    assert fact_history(case)[0]["rows"] == [
        {"field": "月均金额（元）", "before": "300.00", "after": "350.00"}
    ]


def test_a_member_is_added_changed_and_removed_and_leaves_the_assessment(people, standards):
    case = file_case(people)
    child = record_fact_change(
        case=case,
        actor=people.handler,
        reason="户口簿上还有一名子女",
        subject="member",
        operation="add",
        values={
            "name": "张小华",
            "id_number": unique_id_number(date(2015, 3, 1)),
            "relation": "child",
            "phone": "",
        },
    ).person
    record_fact_change(
        case=case,
        actor=people.handler,
        reason="残疾证为二级",
        subject="member",
        operation="change",
        target_id=child.pk,
        values={"disability_grade": "2", "phone": "13800001111"},
    )
    assert len(current_facts(case).members) == 3
    record_fact_change(
        case=case,
        actor=people.handler,
        reason="经核实已随母迁出",
        subject="member",
        operation="remove",
        target_id=child.pk,
    )
    assert [m.name for m in current_facts(case).members] == ["张明东", "李秀英"]
    assert Person.objects.get(pk=child.pk).removed_at is not None
    titles = [h["title"] for h in fact_history(case)]
    assert titles == ["新增家庭成员：张小华", "修改家庭成员：张小华", "移除家庭成员：张小华"]


def test_the_applicant_cannot_be_removed(people, standards):
    case = file_case(people)
    with pytest.raises(DomainError) as refused:
        record_fact_change(
            case=case,
            actor=people.handler,
            reason="误录",
            subject="member",
            operation="remove",
            target_id=case.applicant_id,
        )
    assert "申请人不能从家庭成员中移除" in refused.value.message
    assert not FactChange.objects.exists()


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"period_start": "2026-06-01", "period_end": "2026-05-31"}, "period_end", "不能早于"),
        ({"monthly_amount": "-5"}, "monthly_amount", "不能为负数"),
        ({"monthly_amount": "两千"}, "monthly_amount", "不是有效的数字"),
        ({"months_received": "13"}, "months_received", "1到12"),
        ({"period_start": "2026-13-01"}, "period_start", "年-月-日"),
    ],
)
def test_a_bad_income_is_refused_on_its_field_and_nothing_is_saved(
    people, standards, values, field, words
):
    case = file_case(people)
    with pytest.raises(DomainError) as refused:
        add_spouse_wage(people, case, **values)
    assert refused.value.field == field and words in refused.value.message
    assert not FactChange.objects.exists()
    assert not Income.objects.filter(person=spouse(case)).exists()
    assert Case.objects.get(pk=case.pk).version == case.version


def test_an_asset_value_that_is_not_a_number_is_refused(people, standards):
    case = file_case(people)
    with pytest.raises(DomainError) as refused:
        record_fact_change(
            case=case,
            actor=people.handler,
            reason="核对发现存款",
            subject="asset",
            operation="add",
            values={"kind": "deposit", "value": "一万", "description": "银行存款"},
        )
    assert refused.value.field == "value"
    assert not case.household.assets.exists()


def test_a_reason_is_required(people, standards):
    case = file_case(people)
    with pytest.raises(DomainError) as refused:
        record_fact_change(
            case=case,
            actor=people.handler,
            reason=" ",
            subject="asset",
            operation="add",
            values={"kind": "deposit", "value": "100"},
        )
    assert refused.value.field == "reason"


def test_the_village_assistant_corrects_facts_of_an_own_village_case_before_acceptance(
    people, standards
):
    case = file_case(people, actor=people.assistant)
    change = record_fact_change(
        case=case,
        actor=people.assistant,
        reason="补充配偶收入",
        subject="income",
        operation="add",
        values={"person": spouse(case).pk, "kind": "wage", "monthly_amount": "800"},
    )
    assert change.actor_role == "village_assistant"
    services.accept(actor=people.handler, case=case, on=date(2026, 12, 2))
    with pytest.raises(NotAllowed) as refused:
        record_fact_change(
            case=case,
            actor=people.assistant,
            reason="再次修改",
            subject="income",
            operation="remove",
            target_id=change.income_id,
        )
    assert "须由苏木镇经办人更正" in refused.value.message


def test_another_villages_assistant_and_another_units_handler_may_not_correct(people, standards):
    case = file_case(people)
    for outsider in (people.outsider_assistant, people.outsider):
        with pytest.raises(NotAllowed):
            record_fact_change(
                case=case,
                actor=outsider,
                reason="修改",
                subject="asset",
                operation="add",
                values={"kind": "deposit", "value": "100"},
            )


def test_after_approval_facts_change_only_through_a_review_or_change_report(people, standards):
    case = file_case(people)
    Case.objects.filter(pk=case.pk).update(state=State.APPROVED)
    income = Income.objects.get(person=case.applicant)
    arguments = {
        "case": case,
        "actor": people.handler,
        "reason": "工资上涨",
        "subject": "income",
        "operation": "change",
        "target_id": income.pk,
        "values": {"monthly_amount": "3000"},
    }
    with pytest.raises(Conflict) as refused:
        record_fact_change(**arguments)
    assert "只能通过变更报告或定期复核更正" in refused.value.message
    change = record_fact_change(**arguments, channel=FactChannel.REVIEW, channel_ref=7)
    assert change.get_channel_display() == "定期复核入户调查" and change.channel_ref == 7
    assert current_facts(case).incomes[0].monthly_amount == Decimal("3000")


def test_a_review_cannot_correct_a_case_not_yet_approved(people, standards):
    case = file_case(people)
    with pytest.raises(Conflict):
        record_fact_change(
            case=case,
            actor=people.handler,
            reason="复核",
            subject="asset",
            operation="add",
            values={"kind": "deposit", "value": "100"},
            channel=FactChannel.REVIEW,
        )


def test_a_second_clerk_with_an_old_page_gets_409_saying_what_changed(people, standards):
    case = file_case(people)
    seen = case.version
    add_spouse_wage(people, case)
    with pytest.raises(Conflict) as refused:
        record_fact_change(
            case=case,
            actor=people.handler2,
            reason="我也来补充",
            subject="asset",
            operation="add",
            values={"kind": "deposit", "value": "100"},
            version=seen,
        )
    assert refused.value.status == 409
    assert "新增收入：李秀英 工资性收入" in refused.value.message
    assert "李经办" in refused.value.message


def test_facts_cannot_be_changed_in_place_during_publicity(people, standards):
    case = to_visited(people, file_case(people))
    services.assess(actor=people.handler, case=case)
    services.publish(
        actor=people.handler, case=case, starts_on=date(2026, 12, 2), location="村委会"
    )
    with pytest.raises(Conflict) as refused:
        add_spouse_wage(people, case)
    assert "公示期间不能直接修改家庭信息" in refused.value.message


def test_a_correction_after_the_assessment_must_be_reassessed_before_publicity(people, standards):
    case = to_visited(people, file_case(people))
    services.assess(actor=people.handler, case=case)
    # A small wage: the household stays within the standard, so it may still be published.
    add_spouse_wage(people, case, monthly_amount="200")
    with pytest.raises(Conflict) as refused:
        services.publish(
            actor=people.handler, case=case, starts_on=date(2026, 12, 2), location="村委会"
        )
    assert "请先重新进行收入核算" in refused.value.message
    services.assess(actor=people.handler, case=case)
    services.publish(
        actor=people.handler, case=case, starts_on=date(2026, 12, 2), location="村委会"
    )


def test_a_kind_the_county_disregards_is_listed_but_not_counted(people, standards):
    # Applicant 300 counted; spouse's 计划生育奖励扶助金 200 listed as exempt by the county.
    # 670 × 2 − 300 = 1,040 元.
    case = to_visited(people, file_case(people))
    add_spouse_wage(people, case, kind="family_planning", monthly_amount="200")
    record = services.assess(actor=people.handler, case=case)
    assert record.amount == Decimal("1040.00")
    lines = {line["person"]: line for line in record.working["incomes"]}
    assert lines["李秀英"]["exempt"] and lines["李秀英"]["counted"] == "0"
    assert lines["李秀英"]["exempt_reason"] == "县定不计入家庭收入的收入类型"


def test_the_handler_may_choose_the_other_period_only_with_a_reason(people, standards):
    # 6 months (June–November 2026): applicant 300 × 6 + spouse 2,000 × 6 = 13,800 / 6 = 2,300,
    # above 670 × 2 = 1,340: not eligible.
    case = to_visited(people, file_case(people))
    add_spouse_wage(people, case, period_start="2026-06-01")
    with pytest.raises(DomainError) as refused:
        services.assess(actor=people.handler, case=case, period_months=6)
    assert refused.value.field == "period_reason"
    record = services.assess(
        actor=people.handler, case=case, period_months=6, period_reason="配偶收入不固定"
    )
    assert record.period_months == 6 and not record.eligible
    assert record.working["period"] == "2026年6月至2026年11月"
    assert record.working["period_reason"] == "配偶收入不固定"


def test_tekun_care_follows_the_indicators_ticked(people, standards):
    # Rural tekun basic 1,020 + partial care 495 (two indicators not met) = 1,515 元.
    case = to_visited(people, file_case(people, kind=Kind.TEKUN))
    record = services.assess(actor=people.handler, case=case, care_indicators=["bathing", "toilet"])
    assert record.care_tier == "partial" and record.amount == Decimal("1515.00")
    assert record.working["care_unmet"] == ["自主如厕", "自主洗澡"]


def test_a_marginal_household_over_the_county_asset_limit_is_not_eligible(people, standards):
    CountyRules.objects.create(
        effective_from=date(2026, 1, 1), marginal_asset_limit=Decimal("20000")
    )
    case = to_visited(people, file_case(people, kind=Kind.MARGINAL))
    record_fact_change(
        case=case,
        actor=people.handler,
        reason="核对报告显示存款",
        subject="asset",
        operation="add",
        values={"kind": "deposit", "value": "50000", "description": "定期存款"},
    )
    record = services.assess(actor=people.handler, case=case)
    assert not record.eligible  # 50,000 > 20,000 × 2
    assert any("超过县定上限" in note for note in record.working["notes"])


def test_a_correction_voids_the_signatures_still_valid_on_the_case(people, standards):
    from cases.events import sign
    from cases.models import SignatureStep

    case = to_visited(people, file_case(people))
    services.assess(actor=people.handler, case=case)
    case = Case.objects.get(pk=case.pk)
    signature = sign(case, step=SignatureStep.PROPOSAL, signer=people.handler, role="handler")
    add_spouse_wage(people, case)
    assert signature.__class__.objects.get(pk=signature.pk).is_void
    event = case.events.get(action="fact_change")
    assert event.data["voided_signatures"] == 1
