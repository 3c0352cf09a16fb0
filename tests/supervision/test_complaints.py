"""Complaints: registered with a subject (anonymous allowed), assigned, investigated, answered,
closed; the register is the county's alone."""

from __future__ import annotations

import pytest
from django.test import Client

from supervision.models import Complaint, Finding, Rule

pytestmark = pytest.mark.django_db


def register(client, **data):
    form = {"channel": "phone", "subject": "低保户有经营性收入", "content": "某户开有商店", **data}
    return client.post("/supervision/complaints/new/", form)


def test_a_complaint_goes_from_register_to_close_and_raises_a_finding(people, decided_case, login):
    case = decided_case()
    client = login(people.supervisor)
    response = register(
        client,
        complainant_name="王某某",
        complainant_contact="13800001234",
        case_number=case.number,
    )
    complaint = Complaint.objects.get()
    assert response.status_code == 302 and complaint.unit == people.unit_a
    url = f"/supervision/complaints/{complaint.pk}/"
    client.post(url, {"action": "assign", "assignee": people.supervisor.pk})
    client.post(url, {"action": "close"})  # refused: not answered yet
    assert Complaint.objects.get().state == Complaint.State.ASSIGNED
    client.post(
        url, {"action": "investigate", "investigation": "经核实属实", "substantiated": "yes"}
    )
    client.post(url, {"action": "answer", "answer": "已责成镇政府重新核定"})
    client.post(url, {"action": "close"})
    complaint.refresh_from_db()
    assert complaint.state == Complaint.State.CLOSED
    finding = Finding.objects.get(rule=Rule.COMPLAINT)
    assert list(complaint.findings.all()) == [finding] and finding.case == case


def test_a_complaint_without_a_subject_is_refused_and_anonymity_keeps_no_name(people, login):
    client = login(people.supervisor)
    response = register(client, subject=" ")
    assert response.status_code == 400 and "请填写信访举报事由" in response.content.decode()
    assert not Complaint.objects.exists()
    register(client, anonymous="on", complainant_name="不应保存")
    assert Complaint.objects.get().complainant_name == ""


def test_township_users_get_404_on_the_complaint_register(people, login):
    register(login(people.supervisor), complainant_name="王某某", complainant_contact="13800001234")
    complaint = Complaint.objects.get()
    for user in (people.first, people.handler, people.outsider_direct):
        client = login(user, Client())
        assert client.get("/supervision/complaints/").status_code == 404
        assert client.get("/supervision/complaints/new/").status_code == 404
        assert client.get(f"/supervision/complaints/{complaint.pk}/").status_code == 404


def test_the_complainant_is_shown_in_full_to_the_assignee_only_and_each_read_is_logged(
    people, login
):
    from accounts.models import AuditLog, Role

    from ..conftest import make_user

    handler = make_user(people.supervisor.unit, Role.COUNTY_SUPERVISOR, username="xinfang")
    registrar = login(people.supervisor)
    register(registrar, complainant_name="王某某", complainant_contact="13800001234")
    complaint = Complaint.objects.get()
    url = f"/supervision/complaints/{complaint.pk}/"
    reads = AuditLog.objects.filter(action=AuditLog.Action.SENSITIVE_READ)

    def shown(client, query=""):
        page = client.get(url + query).content.decode()
        return page.split('data-testid="complainant"')[1].split("</p>")[0]

    assert "王某某" not in shown(registrar) and "13800001234" not in shown(registrar)
    assert not reads.exists()
    assert "王某某（13800001234）" in shown(registrar, "?identity=full")
    assert reads.count() == 1

    registrar.post(url, {"action": "assign", "assignee": handler.pk})
    assert "王某某" not in shown(registrar, "?identity=full")
    assert "仅承办人可见" in shown(registrar)
    assert "王某某（13800001234）" in shown(login(handler, Client()))
    assert reads.count() == 2 and reads.order_by("id").last().user == handler


def test_the_county_pages_open_for_the_supervisor(people, decided_case, login):
    decided_case()
    client = login(people.supervisor)
    for url in (
        "/supervision/findings/",
        "/supervision/spot-checks/",
        "/supervision/bulletins/",
        "/supervision/statistics/?month=2026-03",
        "/supervision/agencies/",
        "/supervision/assessment/?year=2026",
        f"/supervision/assessment/2026/{people.unit_a.pk}/",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get("/supervision/statistics/?export=xlsx").status_code == 200
    assert client.get("/supervision/agencies/?export=xlsx").status_code == 200


def test_the_supervisors_home_shows_open_findings_overdue_cases_and_complaints(people, login):
    from supervision.models import Finding, Rule

    Finding.objects.create(rule=Rule.DECIDED_LATE, unit=people.unit_a, evidence={})
    response = login(people.supervisor).get("/home/")
    assert "未关闭的问题 1 个" in response.content.decode()
    assert "待办信访举报 0 件" in response.content.decode()
