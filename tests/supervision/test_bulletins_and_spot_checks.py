"""Bulletins render with Chinese text that reads back, go to the units' leaders, and are kept;
the checker records a sampled case on the tablet form."""

from __future__ import annotations

import io
from datetime import date

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import Notification
from dengkou_aid.errors import Conflict
from dengkou_aid.lib.pdfcheck import has_embedded_cjk_font, pdf_text
from supervision.models import Bulletin, Finding, Rule, SpotCheckPhoto, SpotCheckSample
from supervision.services import draw_spot_check_sample, issue_bulletins

pytestmark = pytest.mark.django_db
MARCH = {"period_start": date(2026, 3, 1), "period_end": date(2026, 3, 31)}


def jpeg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "JPEG")
    return SimpleUploadedFile("photo.jpg", buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def checked_sample(people, decided_case, login):
    decided_case()
    draw = draw_spot_check_sample(**MARCH, actor=people.supervisor, seed=7)
    sample = draw.samples.get()
    client = login(people.supervisor)
    # The checker visits in late March: the finding is the March bulletin's.
    travel = time_machine.travel("2026-03-25 10:00 +08:00", tick=False)
    travel.start()
    form = {
        "home_visit_ok": "problem",
        "home_visit_note": "入户调查记录无调查人员签字",
        "archive_ok": "ok",
        "income_ok": "ok",
        "publicity_ok": "ok",
        "photos": [jpeg()],
    }
    response = client.post(f"/supervision/spot-checks/samples/{sample.pk}/", form)
    assert response.status_code == 302, response.content.decode()[:300]
    travel.stop()
    return SpotCheckSample.objects.get(pk=sample.pk)


def test_the_tablet_form_records_the_checklist_photos_and_a_finding(people, checked_sample, login):
    assert checked_sample.problems == ["home_visit"]
    assert SpotCheckPhoto.objects.get().mime == "image/jpeg"
    assert Finding.objects.get(rule=Rule.SPOT_CHECK).evidence["problems"] == {
        "home_visit": "入户调查记录无调查人员签字"
    }
    page = login(people.supervisor).get(f"/supervision/spot-checks/samples/{checked_sample.pk}/")
    assert b'class="tablet"' in page.content


def test_a_problem_without_a_note_is_refused(people, decided_case, login):
    decided_case()
    sample = draw_spot_check_sample(**MARCH, actor=people.supervisor).samples.get()
    form = {"home_visit_ok": "problem", "archive_ok": "ok", "income_ok": "ok", "publicity_ok": "ok"}
    response = login(people.supervisor).post(f"/supervision/spot-checks/samples/{sample.pk}/", form)
    assert response.status_code == 200
    assert "须说明问题" in response.content.decode()
    assert SpotCheckSample.objects.get(pk=sample.pk).checked_at is None


def test_a_refused_checklist_comes_back_as_the_checker_left_it(people, decided_case, login):
    decided_case()
    sample = draw_spot_check_sample(**MARCH, actor=people.supervisor).samples.get()
    form = {
        "home_visit_ok": "problem",
        "archive_ok": "ok",
        "income_ok": "problem",
        "income_note": "工资收入未计入",
        "publicity_ok": "ok",
    }
    page = login(people.supervisor).post(f"/supervision/spot-checks/samples/{sample.pk}/", form)
    html = page.content.decode()
    assert "须说明问题" in html and "工资收入未计入" in html
    assert 'name="income_ok" value="problem" checked' in html
    assert 'name="archive_ok" value="ok" checked' in html


def test_bulletins_render_in_chinese_go_to_the_leaders_and_are_issued_once(
    people, checked_sample, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        bulletins = issue_bulletins(**MARCH, actor=people.supervisor)
    unit_bulletin, county = bulletins
    assert unit_bulletin.unit == people.unit_a and county.unit is None
    unit_pdf = unit_bulletin.file.open("rb").read()
    text = pdf_text(unit_pdf).replace(" ", "").replace("\n", "")
    assert "关于巴彦高勒镇2026年03月01日至2026年03月31日社会救助审核确认工作的通报" in text
    assert "磴民政通〔2026〕1号" in text
    assert "系统监督核查发现的问题0个，实地监督核查发现的问题1个" in text
    assert has_embedded_cjk_font(unit_pdf)
    assert "全县共作出审核确认决定1件" in pdf_text(county.file.open("rb").read()).replace("\n", "")
    assert Notification.objects.filter(
        user=people.first, key=f"bulletin:{unit_bulletin.pk}"
    ).exists()
    with pytest.raises(Conflict):
        issue_bulletins(**MARCH, actor=people.supervisor)
    with pytest.raises(Exception, match="不可修改"):
        unit_bulletin.save()
    assert Bulletin.objects.count() == 2


def test_a_unit_reads_its_own_bulletin_but_not_another_units(people, checked_sample, login):
    bulletin = issue_bulletins(**MARCH, actor=people.supervisor)[0]
    response = login(people.first).get(f"/supervision/bulletins/{bulletin.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    from django.test import Client

    other = login(people.outsider_direct, Client())
    assert other.get(f"/supervision/bulletins/{bulletin.pk}/pdf/").status_code == 404
