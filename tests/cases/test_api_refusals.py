"""Every refusal by the API names the field and the reason, and leaves the case as it was."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.models import Case, Person

from .flow import ApiFlow, application, load_materials, pdf_upload


@pytest.fixture
def flow(api, people, standards):
    load_materials()
    flow = ApiFlow(api, people)
    yield flow
    flow.stop()


@pytest.fixture
def case_id(flow):
    return flow.file().json()["id"]


def snapshot(case_id):
    case = Case.objects.get(pk=case_id)
    return case.state, case.version, case.events.count(), case.files.count(), case.due_date


def test_an_invalid_id_number_is_refused_and_nothing_is_saved(flow, people):
    body = application(people.village_a)
    body["members"][1]["id_number"] = body["members"][1]["id_number"][:-1] + (
        "0" if body["members"][1]["id_number"][-1] != "0" else "1"
    )
    response = flow.client(people.handler).post("/api/cases/", body, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "members[1].id_number"
    assert "校验位" in response.json()["detail"]
    assert not Case.objects.exists() and not Person.objects.exists()


def test_a_negative_income_is_refused(flow, people):
    body = application(people.village_a, income="-1")
    response = flow.client(people.handler).post("/api/cases/", body, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "members[0].incomes[0].monthly_amount"
    assert "0" in response.json()["detail"]
    assert not Case.objects.exists()


def test_an_income_starting_in_the_future_is_refused(flow, people):
    body = application(people.village_a)
    body["members"][0]["incomes"][0]["period_start"] = (
        timezone.localdate() + timedelta(days=1)
    ).isoformat()
    response = flow.client(people.handler).post("/api/cases/", body, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "members[0].incomes[0].period_start"
    assert not Case.objects.exists()


def test_an_acceptance_dated_tomorrow_is_refused(flow, people, case_id):
    before = snapshot(case_id)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = flow.step(people.handler, case_id, "accept", on=tomorrow)
    assert response.status_code == 400
    assert response.json()["field"] == "on"
    assert snapshot(case_id) == before


def test_a_transition_from_the_wrong_state_is_a_conflict(flow, people, case_id):
    before = snapshot(case_id)
    response = flow.step(people.handler, case_id, "publish", starts_on="2026-01-01", location="村")
    assert response.status_code == 409
    assert "已申请" in response.json()["detail"]
    assert snapshot(case_id) == before


def test_a_transition_by_the_wrong_role_is_forbidden(flow, people, case_id):
    before = snapshot(case_id)
    response = flow.step(people.direct, case_id, "accept")
    assert response.status_code == 403
    assert "经办人" in response.json()["detail"]
    assert snapshot(case_id) == before


def test_another_units_case_is_not_found(flow, people, case_id):
    before = snapshot(case_id)
    outsider = flow.client(people.outsider)
    assert outsider.get(f"/api/cases/{case_id}/").status_code == 404
    assert flow.step(people.outsider, case_id, "accept").status_code == 404
    assert outsider.get(f"/api/cases/{case_id}/events/").status_code == 404
    assert snapshot(case_id) == before
    assert case_id not in [c["id"] for c in outsider.get("/api/cases/").json()["results"]]


def test_a_stale_version_is_a_conflict(flow, people, case_id):
    before = snapshot(case_id)
    response = flow.step(people.handler, case_id, "accept", version=before[1] + 1)
    assert response.status_code == 409
    assert response.json()["field"] == "version"
    assert snapshot(case_id) == before
    assert flow.step(people.handler, case_id, "accept", version=before[1]).status_code == 200


def test_an_upload_of_the_wrong_type_is_refused(flow, people, case_id):
    before = snapshot(case_id)
    fake = SimpleUploadedFile(
        "scan.pdf", b"MZ\x90\x00 not a pdf at all", content_type="application/pdf"
    )
    response = flow.upload(people.handler, case_id, file=fake)
    assert response.status_code == 400
    assert response.json()["field"] == "file" and "文件类型不允许" in response.json()["detail"]
    assert snapshot(case_id) == before


def test_an_upload_too_large_is_refused(flow, people, case_id, settings):
    settings.UPLOAD_MAX_BYTES = 20
    before = snapshot(case_id)
    response = flow.upload(people.handler, case_id, file=pdf_upload())
    assert response.status_code == 400
    assert "文件过大" in response.json()["detail"]
    assert snapshot(case_id) == before


def test_a_missing_reason_names_the_field(flow, people, case_id):
    response = flow.step(people.handler, case_id, "refuse")
    assert response.status_code == 400
    assert response.json()["field"] == "reason"


def test_an_unknown_transition_is_not_found(flow, people, case_id):
    assert flow.step(people.handler, case_id, "approve_everything").status_code == 404
