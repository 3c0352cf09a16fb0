"""Every new supervision and training page reads in Chinese for each person who opens it:
no English word, code name or Python value in the text."""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from supervision.complaints.services import hand_off_complaint
from supervision.models import Audience, Complaint, Finding, Rule
from supervision.services import order_rectification, register_complaint
from supervision.training.services import add_material, plan_session, sign_in

from ..files import pdf_bytes

pytestmark = pytest.mark.django_db
ALLOWED = {"PDF", "JPG", "PNG", "CSV", "YYYY", "MM", "DD", "Excel"}
WORD = re.compile(r"[A-Za-z_]{2,}")


def visible_text(html: str) -> str:
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    return re.sub(r"(?s)<[^>]+>", " ", html)


def english_in(html: str) -> set[str]:
    return {w for w in WORD.findall(visible_text(html)) if w not in ALLOWED}


@pytest.fixture
def scene(people, decided_case):
    case = decided_case()
    finding = Finding.objects.create(
        rule=Rule.SPOT_CHECK,
        case=case,
        unit=people.unit_a,
        evidence={"sample": 1, "draw": 1, "problems": {"archive": "缺少户口簿"}},
    )
    order_rectification(
        finding=finding, actor=people.supervisor, instruction="补齐", due_on=date(2099, 1, 1)
    )
    complaint = register_complaint(
        actor=people.supervisor,
        data={"channel": Complaint.Channel.VISIT, "subject": "反映", "case": case},
    )
    hand_off_complaint(complaint=complaint, actor=people.supervisor, unit=people.unit_a)
    material = add_material(
        actor=people.supervisor,
        title="办法",
        category="policy",
        upload=SimpleUploadedFile("办法.pdf", pdf_bytes()),
    )
    with time_machine.travel("2026-11-10 10:00 +08:00", tick=False):
        session = plan_session(
            actor=people.supervisor,
            topic="政策解读",
            held_on=date(2026, 11, 10),
            place="县民政局",
            trainer="郑监管",
            audiences=[Audience.STAFF, Audience.ASSISTANTS],
            units=[people.unit_a],
            materials=[material],
        )
        sign_in(session=session, actor=people.handler, trainee=people.handler)
    return {"finding": finding, "complaint": complaint, "session": session}


def test_the_pages_read_in_chinese(scene, people, login):
    s, a = scene, people
    pages = {
        a.supervisor: [
            f"/supervision/findings/{s['finding'].pk}/",
            "/supervision/bulletins/",
            f"/supervision/complaints/{s['complaint'].pk}/",
            "/supervision/complaints/",
            "/supervision/training/",
            f"/supervision/training/{s['session'].pk}/",
            "/supervision/training/library/",
            f"/supervision/training/coverage/{a.unit_a.pk}/",
            f"/supervision/training/people/{a.handler.pk}/",
            "/supervision/assessment/?year=2026",
            f"/supervision/assessment/2026/{a.unit_a.pk}/",
            "/supervision/agencies/",
            f"/supervision/agencies/{a.agency.pk}/acceptance/2026/",
            "/supervision/",
        ],
        a.first: [
            "/supervision/training/",
            f"/supervision/findings/{s['finding'].pk}/",
            "/supervision/complaints/township/",
            f"/supervision/complaints/township/{s['complaint'].pk}/",
        ],
        a.handler: [
            f"/supervision/training/{s['session'].pk}/",
            f"/supervision/complaints/township/{s['complaint'].pk}/",
            f"/supervision/training/people/{a.handler.pk}/",
        ],
        a.assistant: ["/supervision/training/", "/supervision/training/library/"],
    }
    for person, urls in pages.items():
        client = login(person, Client())
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert not english_in(response.content.decode()), (
                url,
                english_in(response.content.decode()),
            )
