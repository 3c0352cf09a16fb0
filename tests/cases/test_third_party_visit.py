"""A third-party investigator records the home visit only for cases assigned to its agency."""

import pytest
from django.utils import timezone

from cases.models import State

from .flow import ApiFlow, load_materials


@pytest.fixture
def flow(api, people, standards):
    load_materials()
    flow = ApiFlow(api, people)
    yield flow
    flow.stop()


def verified_case(flow, people):
    case_id = flow.file().json()["id"]
    today = timezone.localdate().isoformat()
    flow.ok(people.handler, case_id, "accept")
    flow.ok(
        people.handler,
        case_id,
        "record_consent",
        method="on_screen",
        signed_on=today,
        signers="张明东",
    )
    flow.ok(people.handler, case_id, "request_verification")
    flow.ok(
        people.verifier,
        case_id,
        "record_verification_report",
        findings=[{"agency": "公安", "result": "无"}],
        summary="无异常",
    )
    return case_id


def visit(flow, user, case_id):
    return flow.step(
        user,
        case_id,
        "record_home_visit",
        visited_on=timezone.localdate().isoformat(),
        findings="属实",
        investigators=[
            {"name": "冯调查", "kind": "third_party"},
            {"name": "卫调查", "kind": "third_party"},
        ],
    )


def test_the_investigator_visits_an_assigned_case_and_cannot_see_others(flow, people):
    assigned, other = verified_case(flow, people), verified_case(flow, people)
    flow.ok(people.handler, assigned, "assign_agency", agency=people.agency.pk)
    investigator = flow.client(people.investigator)
    assert investigator.get(f"/api/cases/{other}/").status_code == 404
    assert visit(flow, people.investigator, other).status_code == 404
    listed = [c["id"] for c in investigator.get("/api/cases/").json()["results"]]
    assert listed == [assigned]
    body = visit(flow, people.investigator, assigned).json()
    assert body["state"] == State.VISITED


def test_a_visit_with_one_investigator_is_refused_naming_what_is_missing(flow, people):
    case_id = verified_case(flow, people)
    response = flow.step(
        people.handler,
        case_id,
        "record_home_visit",
        visited_on=timezone.localdate().isoformat(),
        findings="属实",
        investigators=[{"name": "李经办"}],
    )
    assert response.status_code == 400
    assert response.json()["field"] == "investigators"
    assert response.json()["missing"] == ["还差1名调查人员"]
