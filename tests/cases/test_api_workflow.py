"""Each kind of assistance walked through the whole workflow by the API."""

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from cases.models import Case, SignatureStep, State

from ..conftest import make_user
from .flow import ApiFlow, load_materials


@pytest.fixture
def flow(api, people, standards):
    load_materials()
    flow = ApiFlow(api, people)
    yield flow
    flow.stop()


@pytest.mark.parametrize(
    ("kind", "income", "amount"),
    [("dibao", "300", "1040.00"), ("marginal", "900", "0.00"), ("tekun", "0", "2286.00")],
)
def test_each_kind_goes_from_application_to_approval(flow, people, kind, income, amount):
    members = 1 if kind == "tekun" else 2
    filed = flow.file(kind=kind, income=income, members=members)
    assert filed.status_code == 201, filed.json()
    case_id = filed.json()["id"]
    assert filed.json()["household"]["members"][0]["id_number"].count("*") == 10
    flow.to_publicity(case_id, kind=kind)
    flow.upload_materials(case_id)
    flow.later(7)
    body = flow.sign_off(case_id)
    assert body["state"] == State.APPROVED
    assert body["monthly_amount"] == amount
    assert body["decided_on_time"] is True
    assert [s["step"] for s in body["signatures"] if s["void"] is None] == [
        SignatureStep.PROPOSAL,
        SignatureStep.OPINION,
        SignatureStep.DECISION,
    ]
    events = flow.client(people.handler).get(f"/api/cases/{case_id}/events/").json()
    assert [e["action"] for e in events][:3] == ["file", "accept", "authorize"]
    assert events[-1]["to_state"] == State.APPROVED


def test_a_household_above_the_standard_gets_a_non_approval_notice_without_publicity(flow, people):
    case_id = flow.file(income="2000").json()["id"]
    assessed = flow.to_assessment(case_id)
    assert assessed["assessment"]["eligible"] is False
    flow.upload_materials(case_id)
    refused = flow.step(
        people.handler, case_id, "publish", starts_on=str(flow_today()), location="村委会"
    )
    assert refused.status_code == 400
    assert "不予公示" in refused.json()["detail"]
    refused = flow.step(people.handler, case_id, "propose", outcome="approve")
    assert refused.status_code == 400
    assert refused.json()["field"] == "outcome"
    body = flow.sign_off(
        case_id, outcome="reject", reason="家庭月人均收入1000元，高于低保标准670元"
    )
    assert body["state"] == State.REJECTED
    assert body["rejection_reason"].startswith("家庭月人均收入")
    assert body["publicities"] == []


def test_a_substantiated_objection_returns_the_case_to_home_visit(flow, people):
    case_id = flow.file().json()["id"]
    flow.to_publicity(case_id)
    flow.ok(
        people.assistant,
        case_id,
        "record_objection",
        received_on=flow_today(),
        content="该户有经营性货车一辆",
        raised_by="村民",
    )
    body = flow.client(people.handler).get(f"/api/cases/{case_id}/").json()
    objection_id = body["publicities"][0]["objections"][0]["id"]
    assert "resolve_objection" in body["available_transitions"]
    body = flow.ok(
        people.handler,
        case_id,
        "resolve_objection",
        objection_id=objection_id,
        substantiated=True,
        resolution="经核实该户有货车，重新入户调查",
    )
    assert body["state"] == State.VERIFIED
    flow.visit(case_id)
    flow.ok(people.handler, case_id, "assess")
    body = flow.ok(people.handler, case_id, "publish", starts_on=flow_today(), location="村委会")
    assert body["state"] == State.IN_PUBLICITY
    assert len(body["publicities"]) == 2


def test_the_direct_responsible_leader_extends_the_deadline_once(flow, people):
    case_id = flow.file().json()["id"]
    due = flow.ok(people.handler, case_id, "accept")["due_date"]
    assert flow.step(people.direct, case_id, "extend", reason="").status_code == 400
    body = flow.ok(people.direct, case_id, "extend", reason="需补充外省收入核对")
    assert body["extended"] is True and body["due_date"] > due
    assert any(s["step"] == SignatureStep.EXTENSION for s in body["signatures"])
    again = flow.step(people.direct, case_id, "extend", reason="再次延期")
    assert again.status_code == 409


def test_the_applicant_withdraws_through_the_village_assistant(flow, people):
    case_id = flow.file().json()["id"]
    flow.ok(people.handler, case_id, "accept")
    body = flow.ok(people.assistant, case_id, "withdraw", reason="家庭收入已增加，申请人主动撤回")
    assert body["state"] == State.WITHDRAWN
    assert Case.objects.get(pk=case_id).withdrawal_reason.startswith("家庭收入")


def test_an_entrusted_application_by_the_village_assistant_needs_a_reason(flow, people):
    refused = flow.file(user=people.assistant)
    assert refused.status_code == 400
    assert refused.json()["field"] == "entrusted_reason"
    filed = flow.file(user=people.assistant, entrusted_reason="申请人卧床，无法到镇办理")
    assert filed.status_code == 201
    assert filed.json()["entrusted"] is True


def test_a_leader_may_not_sign_twice_in_one_chain(flow, people):
    both = make_user(people.unit_a, Role.HANDLER, Role.DIRECT_RESPONSIBLE, username="both")
    case_id = flow.file().json()["id"]
    flow.to_publicity(case_id)
    flow.upload_materials(case_id)
    flow.later(7)
    flow.ok(both, case_id, "propose", outcome="approve")
    refused = flow.step(both, case_id, "sign_opinion", opinion="agree")
    assert refused.status_code == 403
    assert Decimal(
        flow.client(people.handler).get(f"/api/cases/{case_id}/").json()["monthly_amount"]
    )


def flow_today():
    return timezone.localdate().isoformat()
