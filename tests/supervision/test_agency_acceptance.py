"""The yearly acceptance of a third-party agency: a verdict on each item beside the year's
figures, a reason for each failed one, the supervisor's signature, a numbered PDF, once."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client

from dengkou_aid.errors import Conflict, DomainError
from dengkou_aid.lib.pdfcheck import has_embedded_cjk_font, pdf_text
from supervision.agencies.services import accept_agency, acceptance_items
from supervision.models import AgencyAcceptance, CountySignature

pytestmark = pytest.mark.django_db
ALL_PASS = {"on_time": "pass", "quality": "pass", "contract": "pass"}


def test_each_item_shows_the_years_figure(people):
    items = acceptance_items(agency=people.agency, year=2026)
    assert [i["key"] for i in items] == ["on_time", "quality", "contract"]
    assert items[0]["figure"] == "无可考核记录（0/0件）"
    assert items[2]["figure"] == "分派0件，已审核确认0件"


def test_a_failed_item_needs_its_reason(people):
    with pytest.raises(DomainError, match="不合格的，须说明理由"):
        accept_agency(
            agency=people.agency,
            year=2026,
            actor=people.supervisor,
            verdicts={**ALL_PASS, "quality": "fail"},
            notes={},
        )
    with pytest.raises(DomainError, match="请对“服务合同履行"):
        accept_agency(
            agency=people.agency,
            year=2026,
            actor=people.supervisor,
            verdicts={"on_time": "pass", "quality": "pass"},
            notes={},
        )
    assert not AgencyAcceptance.objects.exists()


def test_the_acceptance_is_signed_numbered_rendered_and_made_once(people, login):
    with time_machine.travel("2026-12-20 10:00 +08:00", tick=False):
        acceptance = accept_agency(
            agency=people.agency,
            year=2026,
            actor=people.supervisor,
            verdicts={**ALL_PASS, "quality": "fail"},
            notes={"quality": "入户调查记录缺少签字两份"},
            conclusion="限期一个月整改",
        )
    assert acceptance.number == "磴民政验〔2026〕1号" and not acceptance.passed
    assert acceptance.signature.act == CountySignature.Act.ACCEPTANCE
    data = acceptance.file.open("rb").read()
    text = pdf_text(data).replace(" ", "").replace("\n", "")
    assert has_embedded_cjk_font(data)
    assert "样例社会工作服务中心2026年度社会救助服务考核验收表" in text
    assert "验收结论：不合格。限期一个月整改" in text
    assert acceptance.items[1]["note"] == "入户调查记录缺少签字两份"
    with pytest.raises(Conflict, match="不能重复验收"):
        accept_agency(
            agency=people.agency, year=2026, actor=people.supervisor, verdicts=ALL_PASS, notes={}
        )
    page = login(people.supervisor).get(
        f"/supervision/agencies/{people.agency.pk}/acceptance/2026/"
    )
    assert "磴民政验〔2026〕1号" in page.content.decode()
    assert login(people.supervisor).get(f"/files/acceptance/{acceptance.pk}/").status_code == 200
    investigator = login(people.investigator, Client())
    assert investigator.get(f"/files/acceptance/{acceptance.pk}/").status_code == 404


def test_the_page_keeps_the_verdicts_typed_when_refused(people, login):
    page = login(people.supervisor).post(
        f"/supervision/agencies/{people.agency.pk}/acceptance/2026/",
        {"on_time_verdict": "pass", "quality_verdict": "fail", "contract_verdict": "pass"},
    )
    html = page.content.decode()
    assert page.status_code == 400 and "不合格的，须说明理由" in html
    assert 'name="quality_verdict" value="fail" checked' in html
