"""The rectifying unit's handler and leaders are told; its answer carries attachments; the
county accepts or returns it with a reason; an overdue order is flagged on the dashboard."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.access import scope_for
from accounts.models import Notification
from dengkou_aid.errors import DomainError
from supervision.models import Finding, Rectification, RectificationAttachment, Rule
from supervision.selectors import Filters, open_findings, supervisor_home
from supervision.services import answer_rectification, decide_rectification, order_rectification

from ..files import pdf_bytes

pytestmark = pytest.mark.django_db


def pdf_upload(name="整改报告.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(), content_type="application/pdf")


@pytest.fixture
def ordered(people, decided_case):
    case = decided_case()
    finding = Finding.objects.create(
        rule=Rule.SPOT_CHECK, case=case, unit=people.unit_a, evidence={}
    )
    with time_machine.travel("2026-12-01 10:00 +08:00", tick=False):
        return order_rectification(
            finding=finding,
            actor=people.supervisor,
            instruction="补齐入户调查签字",
            due_on=date(2026, 12, 10),
        )


def test_the_handler_and_both_leaders_are_told_of_the_order(ordered, people):
    told = set(
        Notification.objects.filter(key=f"rectification:{ordered.pk}").values_list(
            "user__username", flat=True
        )
    )
    assert told == {"handler_a", "handler_a2", "direct_a", "first_a"}


def test_an_answer_carries_its_attachments(ordered, people, login):
    response = login(people.handler).post(
        f"/supervision/rectifications/{ordered.pk}/answer/",
        {"answer": "已补签", "files": [pdf_upload()]},
    )
    assert response.status_code == 302
    attachment = RectificationAttachment.objects.get()
    assert attachment.original_name == "整改报告.pdf" and attachment.round == 1
    page = login(people.supervisor, Client()).get(f"/supervision/findings/{ordered.finding_id}/")
    assert "整改报告.pdf" in page.content.decode()
    download = login(people.first, Client()).get(f"/files/rectification/{attachment.pk}/")
    assert download.status_code == 200
    outsider = login(people.outsider, Client())
    assert outsider.get(f"/files/rectification/{attachment.pk}/").status_code == 404


def test_an_attachment_that_is_not_a_pdf_or_image_is_refused_and_the_answer_kept(
    ordered, people, login
):
    bad = SimpleUploadedFile("说明.html", b"<html>hi</html>", content_type="text/html")
    page = login(people.handler).post(
        f"/supervision/rectifications/{ordered.pk}/answer/", {"answer": "已补签", "files": [bad]}
    )
    html = page.content.decode()
    assert page.status_code == 400
    assert "附件“说明.html”不能上传" in html and ">已补签</textarea>" in html
    assert Rectification.objects.get(pk=ordered.pk).state == Rectification.State.ORDERED


def test_a_return_needs_a_reason_and_reopens_the_order(ordered, people):
    answer_rectification(rectification=ordered, actor=people.handler, answer="已补签")
    with pytest.raises(DomainError, match="退回重新整改须说明理由"):
        decide_rectification(rectification=ordered, actor=people.supervisor, accept=False)
    decide_rectification(
        rectification=ordered, actor=people.supervisor, accept=False, note="签字仍不全"
    )
    assert Rectification.objects.get(pk=ordered.pk).state == Rectification.State.ORDERED
    answer_rectification(
        rectification=ordered, actor=people.handler, answer="已全部补签", files=[pdf_upload()]
    )
    assert RectificationAttachment.objects.get().round == 2
    decide_rectification(rectification=ordered, actor=people.supervisor, accept=True)
    assert Finding.objects.get(pk=ordered.finding_id).state == Finding.State.CLOSED


def test_an_overdue_order_is_flagged_on_the_dashboard(ordered, people):
    scope = scope_for(people.supervisor)
    filters = Filters(start=date(2026, 1, 1), end=date(2026, 12, 31))
    names = {people.unit_a.pk: people.unit_a.name}

    def rectification_row(today):
        rows = open_findings(scope, filters, names, today).rows
        return next(row for row in rows if row[1] == "（整改）")

    # Due on the 10th: on the 10th one order is pending, none late; on the 11th it is late.
    assert rectification_row(date(2026, 12, 10))[3:] == [1, 0]
    assert rectification_row(date(2026, 12, 11))[3:] == [1, 1]
    answer_rectification(rectification=ordered, actor=people.handler, answer="已补签")
    assert rectification_row(date(2026, 12, 11))[3:] == [1, 0]


def test_the_supervisors_home_counts_the_late_orders(ordered, people):
    with time_machine.travel("2026-12-14 10:00 +08:00", tick=False):
        labels = [item["label"] for item in supervisor_home(people.supervisor)["items"]]
    assert "逾期未反馈的整改 1 项" in labels
