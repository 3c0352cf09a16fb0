"""A complaint is handed to the township it is about, which sees it with the complainant
masked and answers back; the county answers the complainant with a numbered reply letter."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.test import Client

from accounts.models import Notification
from dengkou_aid.errors import Conflict, DomainError, NotAllowed
from dengkou_aid.lib.pdfcheck import has_embedded_cjk_font, pdf_text
from supervision.complaints.services import answer_as_township, hand_off_complaint
from supervision.models import Complaint
from supervision.services import answer_complaint, record_investigation, register_complaint

pytestmark = pytest.mark.django_db


@pytest.fixture
def complaint(people, decided_case):
    case = decided_case()
    with time_machine.travel("2026-12-01 10:00 +08:00", tick=False):
        return register_complaint(
            actor=people.supervisor,
            data={
                "channel": Complaint.Channel.LETTER,
                "complainant_name": "王大明",
                "complainant_contact": "13812345678",
                "subject": "邻居有车仍享受低保",
                "content": "该户家中有小轿车一辆。",
                "case": case,
            },
        )


def handed(complaint, people):
    # Friday 4 December 2026: ten working days later is Friday 18 December.
    with time_machine.travel("2026-12-04 10:00 +08:00", tick=False):
        return hand_off_complaint(
            complaint=complaint, actor=people.supervisor, unit=people.unit_a, note="请入户核实"
        )


def test_a_hand_off_goes_to_the_township_concerned_due_in_working_days(
    complaint, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        complaint = handed(complaint, people)
    assert complaint.state == Complaint.State.HANDED_OFF
    assert complaint.township_due_on == date(2026, 12, 18)
    told = Notification.objects.filter(key=f"complaint:{complaint.pk}:handed_off")
    assert set(told.values_list("user__username", flat=True)) == {
        "handler_a",
        "handler_a2",
        "direct_a",
        "first_a",
    }
    assert "王大明" not in told.first().title


def test_a_hand_off_to_a_unit_the_complaint_is_not_about_is_refused(complaint, people):
    with pytest.raises(DomainError, match="该信访举报涉及的是巴彦高勒镇，不能转交隆盛合镇办理"):
        hand_off_complaint(complaint=complaint, actor=people.supervisor, unit=people.unit_b)
    assert Complaint.objects.get(pk=complaint.pk).state == Complaint.State.REGISTERED


def test_the_hand_off_page_keeps_the_choice_and_says_why(complaint, people, login):
    page = login(people.supervisor).post(
        f"/supervision/complaints/{complaint.pk}/",
        {"action": "handoff", "unit": str(people.unit_b.pk), "handoff_note": "请核实"},
    )
    html = page.content.decode()
    assert page.status_code == 400
    assert "不能转交隆盛合镇办理" in html and ">请核实</textarea>" in html


def test_the_township_sees_only_what_was_handed_to_it_with_the_complainant_masked(
    complaint, people, login
):
    mine = login(people.handler).get("/supervision/complaints/township/")
    assert "邻居有车仍享受低保" not in mine.content.decode()
    handed(complaint, people)
    page = login(people.handler, Client()).get(f"/supervision/complaints/township/{complaint.pk}/")
    html = page.content.decode()
    assert "王*明" in html and "王大明" not in html and "13812345678" not in html
    outsider = login(people.outsider, Client())
    assert outsider.get(f"/supervision/complaints/township/{complaint.pk}/").status_code == 404
    assert "邻居有车" not in outsider.get("/supervision/complaints/township/").content.decode()
    assistant = login(people.assistant, Client())
    assert assistant.get(f"/supervision/complaints/township/{complaint.pk}/").status_code == 404


def test_the_township_answers_back_and_only_its_own_staff_may(complaint, people):
    handed(complaint, people)
    with pytest.raises(NotAllowed):
        answer_as_township(
            complaint=complaint, actor=people.outsider, answer="查无此事", substantiated=False
        )
    with pytest.raises(DomainError, match="请选择反映问题是否属实"):
        answer_as_township(
            complaint=complaint, actor=people.handler, answer="经核实", substantiated=None
        )
    answered = answer_as_township(
        complaint=complaint, actor=people.handler, answer="经入户核实该户有车", substantiated=True
    )
    assert answered.state == Complaint.State.TOWNSHIP_ANSWERED
    with pytest.raises(Conflict):
        answer_as_township(
            complaint=complaint, actor=people.handler, answer="再次反馈", substantiated=True
        )


def test_the_county_cannot_investigate_while_the_township_has_it(complaint, people):
    handed(complaint, people)
    with pytest.raises(Conflict, match="须待乡镇反馈"):
        record_investigation(
            complaint=complaint, actor=people.supervisor, investigation="x", substantiated=False
        )


def test_the_answer_issues_a_numbered_signed_reply_letter(complaint, people, login):
    handed(complaint, people)
    answer_as_township(
        complaint=complaint, actor=people.handler, answer="经入户核实该户有车", substantiated=True
    )
    record_investigation(
        complaint=complaint,
        actor=people.supervisor,
        investigation="经巴彦高勒镇入户核实，该户有小轿车一辆。",
        substantiated=True,
    )
    with time_machine.travel("2026-12-21 10:00 +08:00", tick=False):
        complaint = answer_complaint(
            complaint=complaint, actor=people.supervisor, answer="已责成停发该户低保。"
        )
    reply = complaint.reply
    assert reply.number == "磴民政信复〔2026〕1号" and reply.issued_on == date(2026, 12, 21)
    data = reply.file.open("rb").read()
    text = pdf_text(data).replace(" ", "").replace("\n", "")
    assert has_embedded_cjk_font(data)
    assert "信访事项答复意见书" in text and "王大明：" in text
    assert "转交巴彦高勒镇调查核实" in text and "你反映的问题属实" in text
    assert "已责成停发该户低保。" in text and "2026年12月21日" in text
    assert login(people.supervisor).get(f"/files/complaint_reply/{reply.pk}/").status_code == 200
    assert (
        login(people.first, Client()).get(f"/files/complaint_reply/{reply.pk}/").status_code == 404
    )


def test_an_anonymous_complaint_is_answered_without_a_letter(people):
    complaint = register_complaint(
        actor=people.supervisor,
        data={"channel": Complaint.Channel.PHONE, "anonymous": True, "subject": "反映问题"},
    )
    record_investigation(
        complaint=complaint, actor=people.supervisor, investigation="查无实据", substantiated=False
    )
    answered = answer_complaint(complaint=complaint, actor=people.supervisor, answer="不属实")
    assert answered.state == Complaint.State.ANSWERED
    assert not hasattr(Complaint.objects.get(pk=complaint.pk), "reply")
