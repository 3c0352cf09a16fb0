"""A county supervisor's spot-check checklist filled offline on the tablet: the open samples come
with their facts (ID numbers masked); a retry after a lost answer records one result; a sample
checked on the server meanwhile comes back as a conflict in Chinese."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from cases.tablet.models import SyncState, TabletSync
from supervision.models import Finding, SpotCheckSample
from supervision.services import draw_spot_check_sample, record_spot_check

from ..supervision.conftest import decided_case  # noqa: F401

ALL_FINE = {item: {"ok": True, "note": ""} for item in ("home_visit", "archive", "publicity")}


@pytest.fixture
def sample(decided_case, people):  # noqa: F811
    case = decided_case()
    draw_spot_check_sample(
        period_start=date(2026, 3, 1), period_end=date(2026, 3, 31), actor=people.supervisor
    )
    return SpotCheckSample.objects.get(case=case)


def checklist(sample, key=None) -> dict:
    results = ALL_FINE | {"income": {"ok": False, "note": "务工收入与核算不符"}}
    return {
        "key": str(key or uuid.uuid4()),
        "device": "测试平板",
        "made_at": "2020-01-01T08:00:00",
        "payload": {"sample": sample.pk, "results": results},
    }


URL = "/supervision/tablet/spot-checks/"


@pytest.mark.django_db
def test_the_supervisors_reference_holds_the_open_samples_with_masked_ids(tablet, people, sample):
    client = tablet(people.supervisor)
    assert client.get("/tablet/api/session/").json()["supervisor"] is True
    data = client.get("/supervision/tablet/reference/").json()
    entry = data["spot_samples"][0]
    applicant = sample.case.household.members.order_by("id").first()
    assert entry["id"] == sample.pk and entry["case"] == sample.case.number
    text = str(entry["facts"])
    assert applicant.masked_id in text and applicant.id_number not in text
    assert "840.00元" in text
    assert [i["label"] for i in data["check_items"]] == [
        "入户调查",
        "档案资料",
        "收入核算",
        "审核确认公示",
    ]


@pytest.mark.django_db
def test_a_village_assistant_may_not_send_a_spot_check(tablet, people, sample):
    response = tablet(people.assistant).post_draft(URL, checklist(sample))
    assert response.status_code == 403
    assert "监督核查" in response.json()["message"]
    assert SpotCheckSample.objects.get(pk=sample.pk).checked_at is None


@pytest.mark.django_db
def test_retries_of_one_checklist_record_one_result(tablet, people, sample):
    client = tablet(people.supervisor)
    draft = checklist(sample)
    answers = [client.post_draft(URL, draft) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert {a.json()["result"]["label"] for a in answers} == {
        f"核查结果已保存，案件编号 {sample.case.number}"
    }
    sample.refresh_from_db()
    assert sample.checked_by == people.supervisor
    assert sample.results["income"] == {"ok": False, "note": "务工收入与核算不符"}
    assert Finding.objects.filter(case=sample.case).count() == 1
    receipt = TabletSync.objects.get(key=draft["key"])
    assert receipt.state == SyncState.ACCEPTED and receipt.attempts == 3
    assert receipt.get_kind_display() == "实地抽查核查表"


@pytest.mark.django_db
def test_an_incomplete_checklist_is_refused_in_chinese_and_may_come_again(tablet, people, sample):
    client = tablet(people.supervisor)
    draft = checklist(sample)
    draft["payload"]["results"].pop("archive")
    answer = client.post_draft(URL, draft)
    assert answer.status_code == 400
    assert answer.json()["message"] == "请填写以下核查项目：档案资料。"
    draft["payload"]["results"]["archive"] = {"ok": True, "note": ""}
    assert client.post_draft(URL, draft).status_code == 200


@pytest.mark.django_db
def test_a_sample_checked_on_the_server_meanwhile_comes_back_as_a_conflict(tablet, people, sample):
    record_spot_check(
        sample=sample, actor=people.supervisor, results=ALL_FINE | {"income": {"ok": True}}
    )
    before = SpotCheckSample.objects.get(pk=sample.pk).results
    answer = tablet(people.supervisor).post_draft(URL, checklist(sample))
    assert answer.status_code == 409
    body = answer.json()
    assert body["state"] == "conflict"
    assert "在您离线期间已在服务器上录入核查结果" in body["message"]
    assert ["收入核算", "无问题"] in body["result"]["current"]
    assert SpotCheckSample.objects.get(pk=sample.pk).results == before
    assert not Finding.objects.filter(case=sample.case).exists()
