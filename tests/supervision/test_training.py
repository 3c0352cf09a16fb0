"""Training: the county's versioned library (PDF or image only), sessions for chosen units'
staff and/or assistants, signed attendance inside the audience, records and coverage, and
the yearly assessment's training part."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dengkou_aid.errors import Conflict, DomainError, NotAllowed
from supervision.models import Attendance, Audience, TrainingMaterial
from supervision.selectors import yearly_assessment
from supervision.training.selectors import record_of, unit_coverage
from supervision.training.services import add_material, add_version, plan_session, sign_in

from ..files import pdf_bytes, png_bytes

pytestmark = pytest.mark.django_db


def pdf(name="低保审核确认办法.pdf"):
    return SimpleUploadedFile(name, pdf_bytes(), content_type="application/pdf")


@pytest.fixture
def session(people):
    """Staff of unit A only, on 10 November 2026."""
    return plan_session(
        actor=people.supervisor,
        topic="低保审核确认政策解读",
        held_on=date(2026, 11, 10),
        place="县民政局三楼会议室",
        trainer="郑监管",
        audiences=[Audience.STAFF],
        units=[people.unit_a],
    )


def test_the_library_keeps_every_version(people):
    material = add_material(
        actor=people.supervisor, title="低保审核确认办法", category="policy", upload=pdf()
    )
    with pytest.raises(DomainError, match="请填写修订说明"):
        add_version(material=material, actor=people.supervisor, upload=pdf())
    second = add_version(material=material, actor=people.supervisor, upload=pdf(), note="2026修订")
    assert second.number == 2 and material.current == second
    assert list(material.versions.values_list("number", flat=True)) == [2, 1]


def test_a_library_upload_that_is_not_a_pdf_or_image_is_refused(people, login):
    word = SimpleUploadedFile("办法.docx", b"PK\x03\x04" + b"0" * 100)
    with pytest.raises(DomainError, match="资料须为PDF文件或图片"):
        add_material(actor=people.supervisor, title="办法", category="policy", upload=word)
    page = login(people.supervisor).post(
        "/supervision/training/library/",
        {"title": "办法", "category": "policy", "file": word},
    )
    assert page.status_code == 400
    assert "资料须为PDF文件或图片" in page.content.decode()
    assert 'value="办法"' in page.content.decode()
    assert not TrainingMaterial.objects.exists()


def test_only_the_county_uploads_and_village_assistants_read_the_library(people, login):
    with pytest.raises(NotAllowed):
        add_material(actor=people.handler, title="x", category="policy", upload=pdf())
    picture = SimpleUploadedFile("流程图.png", png_bytes(), content_type="image/png")
    material = add_material(
        actor=people.supervisor, title="审核确认流程图", category="material", upload=picture
    )
    assistant = login(people.assistant)
    assert "审核确认流程图" in assistant.get("/supervision/training/library/").content.decode()
    download = assistant.get(f"/files/training/{material.current.pk}/")
    assert download.status_code == 200 and download["Content-Type"] == "image/png"


def test_a_session_needs_its_audience_and_units(people):
    with pytest.raises(DomainError, match="请选择培训对象"):
        plan_session(
            actor=people.supervisor,
            topic="政策",
            held_on=date(2026, 11, 10),
            place="县民政局",
            trainer="郑监管",
            audiences=[],
            units=[people.unit_a],
        )
    with pytest.raises(DomainError, match="请选择参训单位"):
        plan_session(
            actor=people.supervisor,
            topic="政策",
            held_on=date(2026, 11, 10),
            place="县民政局",
            trainer="郑监管",
            audiences=[Audience.ASSISTANTS],
            units=[],
        )


def test_attendance_is_signed_by_the_trainee_or_the_organiser(session, people):
    with time_machine.travel("2026-11-10 09:30 +08:00", tick=False):
        itself = sign_in(session=session, actor=people.handler, trainee=people.handler)
        organised = sign_in(session=session, actor=people.supervisor, trainee=people.first)
        with pytest.raises(Conflict, match="李经办已签到"):
            sign_in(session=session, actor=people.supervisor, trainee=people.handler)
        with pytest.raises(NotAllowed):
            sign_in(session=session, actor=people.handler, trainee=people.direct)
    assert (itself.method, itself.signer) == (Attendance.Method.SELF, people.handler)
    assert (organised.method, organised.signer) == (Attendance.Method.ORGANISER, people.supervisor)
    assert [a.session for a in record_of(people.handler)] == [session]


def test_attendance_outside_the_audience_is_refused(session, people, login):
    with time_machine.travel("2026-11-10 09:30 +08:00", tick=False):
        # A village assistant of unit A (the session is for staff) and a handler of unit B.
        for outsider, name in ((people.assistant, "周协理"), (people.outsider, "陈外单位")):
            with pytest.raises(DomainError, match=f"{name}不在本次培训的培训对象范围内"):
                sign_in(session=session, actor=people.supervisor, trainee=outsider)
        page = login(people.supervisor).post(
            f"/supervision/training/{session.pk}/", {"trainee": str(people.assistant.pk)}
        )
    assert page.status_code == 400
    assert "周协理不在本次培训的培训对象范围内" in page.content.decode()


def test_no_one_signs_in_before_the_session(session, people):
    with (
        time_machine.travel("2026-11-09 18:00 +08:00", tick=False),
        pytest.raises(DomainError, match="培训尚未举行"),
    ):
        sign_in(session=session, actor=people.handler, trainee=people.handler)


def test_a_leader_sees_who_of_the_unit_is_not_trained_this_year(session, people, login):
    with time_machine.travel("2026-11-10 09:30 +08:00", tick=False):
        sign_in(session=session, actor=people.handler, trainee=people.handler)
        sign_in(session=session, actor=people.direct, trainee=people.direct)
    coverage = unit_coverage(people.unit_a, 2026)
    # Unit A: two handlers, two leaders, one village assistant; two trained.
    assert coverage.people == 5 and len(coverage.trained) == 2
    assert coverage.rate == Decimal("40.0")
    with time_machine.travel("2026-12-01 10:00 +08:00", tick=False):
        page = login(people.first).get("/supervision/training/")
    html = page.content.decode()
    assert 'data-testid="coverage-rate">40.0%' in html
    assert "王经办" in html and "孙镇长" in html and "周协理" in html
    outsider = login(people.outsider_direct, Client())
    assert outsider.get(f"/supervision/training/coverage/{people.unit_a.pk}/").status_code == 404


def test_the_yearly_assessment_reads_the_training_coverage(session, people):
    with time_machine.travel("2026-11-10 09:30 +08:00", tick=False):
        sign_in(session=session, actor=people.handler, trainee=people.handler)
    rows = {row["unit"].pk: row for row in yearly_assessment(year=2026)}
    # 1 of unit A's 5 people trained: 20.0; the only part with anything to judge.
    assert rows[people.unit_a.pk]["parts"]["training"] == Decimal("20.0")
    assert rows[people.unit_a.pk]["score"] == Decimal("20.0")
    # Unit B was in no session: nothing to assess, not ranked.
    assert rows[people.unit_b.pk]["score"] is None and rows[people.unit_b.pk]["rank"] is None
