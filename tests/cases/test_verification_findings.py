"""The county verification officer can verify: the task shows the members with full ID numbers
(each read audited) and the handler's note; findings are entered agency by agency, and they
appear on the handler's case page, the calculation sheet and the archive."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditLog
from cases.documents.archive import archive_sections
from cases.documents.services import build_context
from cases.models import VERIFICATION_AGENCIES, Case, DocType, Person, State, VerificationReport

from .flow import ApiFlow, load_materials


@pytest.fixture
def flow(api, people, standards):
    load_materials()
    flow = ApiFlow(api, people)
    yield flow
    flow.stop()


@pytest.fixture
def requested(flow, people):
    """A case whose handler has asked the county to verify, with a note."""
    case_id = flow.file().json()["id"]
    flow.ok(people.handler, case_id, "accept")
    flow.ok(
        people.handler,
        case_id,
        "record_consent",
        method="on_screen",
        signed_on=timezone.localdate().isoformat(),
        signers="张明东、李秀英",
    )
    flow.ok(people.handler, case_id, "request_verification", note="申请人自述有一辆旧农用车")
    return Case.objects.get(pk=case_id)


def report_body(**changes) -> dict:
    """Every agency answered 未发现 but the vehicle office, which found the farm vehicle."""
    found = ["no"] * len(VERIFICATION_AGENCIES)
    result = [""] * len(VERIFICATION_AGENCIES)
    found[2], result[2] = "yes", "登记农用三轮车一辆（2012年）"
    body = {
        "agency": [*VERIFICATION_AGENCIES, "农牧局"],
        "found": [*found, "no"],
        "result": [*result, "无草场承包"],
        "summary": "除农用车外未发现其他财产",
    }
    body.update(changes)
    return body


def test_the_queue_shows_the_note_and_the_task_the_full_id_numbers_each_read_audited(
    login, people, requested
):
    client = login(people.verifier, Client())
    queue = client.get("/cases/verification/").content.decode()
    assert "申请人自述有一辆旧农用车" in queue
    members = list(Person.objects.filter(household=requested.household))
    assert all(m.id_number not in queue for m in members)

    task = client.get(f"/cases/verification/{requested.pk}/").content.decode()
    assert all(m.id_number in task for m in members) and "申请人自述有一辆旧农用车" in task
    reads = AuditLog.objects.filter(action=AuditLog.Action.SENSITIVE_READ, user=people.verifier)
    assert sorted(reads.values_list("object_id", flat=True)) == sorted(str(m.pk) for m in members)


def test_a_handler_may_not_open_the_verification_task(login, people, requested):
    assert (
        login(people.handler, Client()).get(f"/cases/verification/{requested.pk}/").status_code
        == 403
    )
    assert not AuditLog.objects.filter(action=AuditLog.Action.SENSITIVE_READ).exists()


def test_findings_are_entered_agency_by_agency_and_shown_wherever_the_case_is_read(
    login, people, requested
):
    officer = login(people.verifier, Client())
    response = officer.post(f"/cases/verification/{requested.pk}/report/", report_body())
    assert response.status_code == 302
    report = VerificationReport.objects.get(request__case=requested)
    assert len(report.findings) == len(VERIFICATION_AGENCIES) + 1
    vehicles = report.finding_rows[2]
    assert vehicles == {
        "agency": "公安（户籍、机动车）",
        "verdict": "发现记录",
        "result": "登记农用三轮车一辆（2012年）",
    }
    assert report.finding_rows[0]["result"] == "未发现相关记录"

    case_page = login(people.handler, Client()).get(f"/cases/{requested.pk}/").content.decode()
    assert "家庭经济状况核对报告" in case_page and "登记农用三轮车一辆（2012年）" in case_page
    archive = {s.title: s for s in archive_sections(Case.objects.get(pk=requested.pk))}
    detail = " ".join(item.detail for item in archive["家庭经济状况核对"].items)
    assert "公安（户籍、机动车）：发现记录，登记农用三轮车一辆（2012年）" in detail


def test_the_calculation_sheet_prints_the_findings(flow, people, requested):
    flow.ok(
        people.verifier,
        requested.pk,
        "record_verification_report",
        findings=[{"agency": "税务（纳税记录）", "found": False, "result": ""}],
        summary="未发现",
    )
    flow.visit(requested.pk)
    flow.ok(people.handler, requested.pk, "assess")
    case = Case.objects.get(pk=requested.pk)
    sheet = build_context(case, DocType.INCOME_SHEET, number="N", on=timezone.localdate(), extra={})
    assert sheet["verification"] == [
        {"agency": "税务（纳税记录）", "verdict": "未发现", "result": "未发现相关记录"}
    ]


def test_a_record_found_without_what_is_refused_with_what_was_typed_kept(login, people, requested):
    officer = login(people.verifier, Client())
    body = report_body()
    body["result"] = [""] * len(body["found"])
    response = officer.post(f"/cases/verification/{requested.pk}/report/", body)
    page = response.content.decode()
    assert response.status_code == 400
    assert "公安（户籍、机动车）：发现记录的，须填写发现的情况。" in page
    assert "除农用车外未发现其他财产" in page and 'value="农牧局"' in page
    assert Case.objects.get(pk=requested.pk).state == State.VERIFICATION_REQUESTED
