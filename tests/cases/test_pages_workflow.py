"""The workflow by the pages: the entrusted application on a tablet, the steps on the case
page (only the steps this person may take), the verification queue, the list and its search."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from cases.models import Case, MaterialRequirement, State
from cases.selectors import CODE_SIGNED_STEPS, CONFIRMED_STEPS

from ..conftest import needs_code, signing_otp
from ..factories import unique_id_number
from .flow import load_materials, pdf_upload


class PageFlow:
    def __init__(self, login, people):
        self.login, self.people, self._clients, self._travellers = login, people, {}, []

    def client(self, user) -> Client:
        if user.pk not in self._clients:
            self._clients[user.pk] = self.login(user, Client())
        return self._clients[user.pk]

    def later(self, days: int) -> None:
        traveller = time_machine.travel(timezone.now() + timedelta(days=days), tick=True)
        traveller.start()
        self._travellers.append(traveller)
        self._clients.clear()

    def stop(self) -> None:
        for traveller in reversed(self._travellers):
            traveller.stop()

    def step(self, user, case_id, name, files=None, **data):
        client = self.client(user)  # sign in first: the sign-in takes the code of the moment
        case = Case.objects.get(pk=case_id)
        body = {"version": case.version, **data}
        if name in CONFIRMED_STEPS:
            body["confirmed"] = "1"  # the confirmation page's button (tests/cases/test_signing.py)
        if name in CODE_SIGNED_STEPS and needs_code(user):
            body.setdefault("otp_token", signing_otp(user))
        if files:
            body["files"] = files
        return client.post(f"/cases/{case_id}/do/{name}/", body)

    def ok(self, user, case_id, name, **data):
        response = self.step(user, case_id, name, **data)
        assert response.status_code == 302, response.content.decode()[:2000]
        return Case.objects.get(pk=case_id)


@pytest.fixture
def pages(login, people, standards):
    load_materials()
    flow = PageFlow(login, people)
    yield flow
    flow.stop()


def entrust(pages, people, *, kind="dibao", income="300"):
    response = pages.client(people.assistant).post(
        "/cases/new/",
        {
            "kind": kind,
            "area": "rural",
            "village": people.village_a.pk,
            "entrusted_reason": "申请人卧床，无法到镇办理",
            "m0_name": "张明东",
            "m0_id": unique_id_number(),
            "m0_work": "unable",
            "m0_income": income,
            "m0_income_kind": "transfer",
            "m0_income_source": "子女赡养",
            "m0_income_since": "2024-01-01",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Case.objects.latest("id")


def walk_to_publicity(pages, people, case, *, publish: bool = True):
    today = timezone.localdate().isoformat()
    pages.ok(people.handler, case.pk, "accept")
    pages.ok(
        people.handler,
        case.pk,
        "record_consent",
        method="scan",
        signed_on=today,
        signers="张明东",
        files=[pdf_upload()],
    )
    pages.ok(people.handler, case.pk, "request_verification")
    report = pages.client(people.verifier).post(
        f"/cases/verification/{case.pk}/report/",
        {
            "agency": ["公安", "不动产", ""],
            "result": ["无车辆", "无房产", ""],
            "summary": "未发现不符合条件的财产",
        },
    )
    assert report.status_code == 302
    assert Case.objects.get(pk=case.pk).state == State.VERIFIED
    pages.ok(
        people.handler,
        case.pk,
        "record_home_visit",
        visited_on=today,
        investigator=["李经办", "周协理", ""],
        investigator_kind=["staff", "village", "staff"],
        findings="独居，卧床",
    )
    pages.ok(
        people.handler, case.pk, "assess", **({"care_unmet": "2"} if case.kind == "tekun" else {})
    )
    if publish:
        pages.ok(people.handler, case.pk, "publish", starts_on=today, location="村委会公示栏")
    for requirement in MaterialRequirement.objects.filter(
        kind=case.kind, required=True, platform_supplied=False
    ):
        response = pages.client(people.handler).post(
            f"/cases/{case.pk}/upload/",
            {"requirement": requirement.pk, "category": "material", "file": pdf_upload()},
        )
        assert response.status_code == 302


@pytest.mark.parametrize(
    ("kind", "amount"), [("dibao", "370.00"), ("tekun", "1515.00"), ("marginal", "0.00")]
)
def test_an_entrusted_application_is_approved_through_the_pages(pages, people, kind, amount):
    form = pages.client(people.assistant).get("/cases/new/")
    assert 'class="tablet"' in form.content.decode()
    case = entrust(pages, people, kind=kind)
    assert case.entrusted and case.filed_by == people.assistant
    walk_to_publicity(pages, people, case)
    pages.later(7)
    pages.ok(people.handler, case.pk, "propose", outcome="approve")
    pages.ok(people.direct, case.pk, "sign_opinion", opinion="agree")
    pages.ok(people.first, case.pk, "confirm", outcome="approve")
    case = pages.ok(people.handler, case.pk, "issue_decision")
    assert case.state == State.APPROVED
    assert str(case.monthly_amount) == amount
    page = pages.client(people.handler).get(f"/cases/{case.pk}/").content.decode()
    assert "已批准" in page and "第一责任人审核确认" in page


def test_a_rejection_through_the_pages_records_the_reason_without_publicity(pages, people):
    case = entrust(pages, people, income="900")
    walk_to_publicity(pages, people, case, publish=False)
    page = pages.client(people.handler).get(f"/cases/{case.pk}/").content.decode()
    assert 'data-step="publish"' not in page
    assert "不经公示，直接提出不予保障意见" in page
    pages.ok(people.handler, case.pk, "propose", outcome="reject", text="人均收入高于标准")
    pages.ok(people.direct, case.pk, "sign_opinion", opinion="agree")
    refused = pages.step(people.first, case.pk, "confirm", outcome="reject")
    assert refused.status_code == 400
    assert "不予保障的理由" in refused.content.decode()
    pages.ok(
        people.first, case.pk, "confirm", outcome="reject", reason="月人均收入900元高于标准670元"
    )
    assert pages.ok(people.handler, case.pk, "issue_decision").state == State.REJECTED
    assert not case.publicities.exists()


def test_an_objection_during_publicity_sends_the_case_back_to_home_visit(pages, people):
    case = entrust(pages, people)
    walk_to_publicity(pages, people, case)
    today = timezone.localdate().isoformat()
    pages.ok(people.assistant, case.pk, "record_objection", received_on=today, content="有货车")
    objection = case.publicities.get().objections.get()
    case = pages.ok(
        people.handler,
        case.pk,
        "resolve_objection",
        objection_id=objection.pk,
        substantiated="yes",
        resolution="属实",
    )
    assert case.state == State.VERIFIED


def test_extension_and_withdrawal_through_the_pages(pages, people):
    case = entrust(pages, people)
    pages.ok(people.handler, case.pk, "accept")
    due = Case.objects.get(pk=case.pk).due_date
    case = pages.ok(people.direct, case.pk, "extend", reason="需补充核对")
    assert case.extended and case.due_date > due
    case = pages.ok(people.assistant, case.pk, "withdraw", reason="申请人撤回")
    assert case.state == State.WITHDRAWN


def test_the_case_page_offers_only_the_steps_this_person_may_take(pages, people):
    case = entrust(pages, people)
    handler_page = pages.client(people.handler).get(f"/cases/{case.pk}/").content.decode()
    assert 'data-step="accept"' in handler_page and 'data-step="refuse"' in handler_page
    direct_page = pages.client(people.direct).get(f"/cases/{case.pk}/").content.decode()
    assert 'data-step="accept"' not in direct_page
    assert "您当前没有可办理的事项" in direct_page
    assert pages.client(people.outsider).get(f"/cases/{case.pk}/").status_code == 404


def test_a_refused_step_on_the_page_leaves_the_case_unchanged(pages, people):
    case = entrust(pages, people)
    before = (case.state, case.version)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert pages.step(people.handler, case.pk, "accept", on=tomorrow).status_code == 400
    assert pages.step(people.direct, case.pk, "accept").status_code == 403
    assert (
        pages.step(
            people.handler, case.pk, "publish", starts_on="2026-01-01", location="村"
        ).status_code
        == 409
    )
    stale = pages.client(people.handler).post(
        f"/cases/{case.pk}/do/accept/", {"version": case.version + 5}
    )
    assert stale.status_code == 409
    case = Case.objects.get(pk=case.pk)
    assert (case.state, case.version) == before


def test_an_invalid_id_number_on_the_tablet_form_is_refused(pages, people):
    response = pages.client(people.assistant).post(
        "/cases/new/",
        {
            "kind": "dibao",
            "area": "rural",
            "village": people.village_a.pk,
            "entrusted_reason": "卧床",
            "m0_name": "张明东",
            "m0_id": "150822197001010000",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "第1位家庭成员的公民身份号码" in page and "members[" not in page
    assert not Case.objects.exists()


def test_the_list_searches_by_exact_id_number_and_masks_it(pages, people):
    case = entrust(pages, people)
    entrust(pages, people)
    number = case.applicant.id_number
    page = pages.client(people.handler).get("/cases/", {"q": number}).content.decode()
    table = page.split("<tbody>")[1].split("</tbody>")[0]
    assert case.number in table and number not in table
    assert f"{number[:4]}**********{number[-4:]}" in table
    assert "共 1 件" in page


def test_the_verification_queue_lists_requests_for_the_county_officer(pages, people):
    case = entrust(pages, people)
    pages.ok(people.handler, case.pk, "accept")
    pages.ok(
        people.handler,
        case.pk,
        "record_consent",
        method="on_screen",
        signed_on=timezone.localdate().isoformat(),
        signers="张明东",
    )
    pages.ok(people.handler, case.pk, "request_verification")
    queue = pages.client(people.verifier).get("/cases/verification/").content.decode()
    assert case.number in queue
    assert pages.client(people.handler).get("/cases/verification/").status_code == 403
    home = pages.client(people.verifier).get("/home/").content.decode()
    assert case.number in home and "核对任务" in home
