"""Bulletins are numbered per Dengkou year, dated and signed; their findings are grouped by
their true source; only open findings are demanded; every unit reads the county bulletin."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.test import Client

from dengkou_aid.errors import DomainError
from dengkou_aid.lib.pdfcheck import pdf_text
from supervision.bulletins.selectors import bulletin_figures, bulletins_visible_to
from supervision.models import Bulletin, CountySignature, Finding, Rule
from supervision.services import issue_bulletins, order_rectification

pytestmark = pytest.mark.django_db
NOVEMBER = {"period_start": date(2026, 11, 1), "period_end": date(2026, 11, 30)}


def finding(case, rule, *, day="2026-11-10", state=Finding.State.OPEN, **evidence):
    with time_machine.travel(f"{day} 10:00 +08:00", tick=False):
        return Finding.objects.create(
            rule=rule, case=case, unit=case.unit, evidence=evidence, state=state
        )


@pytest.fixture
def three_sources(people, decided_case):
    """One system-check finding, one field spot-check finding, one closed complaint finding."""
    system = finding(decided_case(), Rule.PUBLICITY_SHORT, days=5)
    field = finding(decided_case(), Rule.SPOT_CHECK, problems={"archive": "缺少户口簿复印件"})
    closed = finding(
        decided_case(), Rule.COMPLAINT, state=Finding.State.CLOSED, subject="收入未如实申报"
    )
    return system, field, closed


def test_findings_are_counted_under_their_true_source(three_sources, people):
    figures = bulletin_figures(**NOVEMBER)
    (unit,) = figures["units"]
    assert unit["counts"] == {"system": 1, "field": 1, "complaint": 1}
    assert figures["counts"] == {"system": 1, "field": 1, "complaint": 1}
    # The closed complaint finding is reported, not demanded: two open ones are.
    assert unit["open_count"] == 2 and unit["closed_count"] == 1
    assert {line["rule"] for line in unit["demanded"]} == {"公示期不足", "实地监督核查发现问题"}
    field_group = next(g for g in unit["groups"] if g["key"] == "field")
    assert field_group["findings"][0]["detail"] == "档案资料：缺少户口簿复印件"


def test_a_bulletin_is_numbered_dated_and_signed_by_the_supervisor(three_sources, people):
    with time_machine.travel("2026-12-03 09:00 +08:00", tick=False):
        unit_bulletin, county = issue_bulletins(**NOVEMBER, actor=people.supervisor)
    assert (unit_bulletin.number, county.number) == ("磴民政通〔2026〕1号", "磴民政通〔2026〕2号")
    assert unit_bulletin.issued_on == date(2026, 12, 3)
    assert unit_bulletin.signature.signer == people.supervisor
    assert unit_bulletin.signature.act == CountySignature.Act.BULLETIN
    text = pdf_text(unit_bulletin.file.open("rb").read()).replace(" ", "").replace("\n", "")
    assert "磴民政通〔2026〕1号" in text and "2026年12月3日" in text and "签发人：郑监管" in text
    assert "系统监督核查发现的问题1个，实地监督核查发现的问题1个，信访举报查实的问题1个" in text
    assert "已整改关闭1个，尚未整改2个" in text
    assert "请你单位对以下尚未整改的2个问题逐项限期整改" in text


def test_the_counter_runs_by_dengkous_year(three_sources, people):
    """At 07:30 on New Year's Day in Dengkou (23:30 UTC the day before) the year is 2027."""
    with time_machine.travel("2027-01-01 07:30 +08:00", tick=False):
        bulletins = issue_bulletins(**NOVEMBER, actor=people.supervisor)
    assert bulletins[0].number == "磴民政通〔2027〕1号"


def test_a_bulletin_over_no_findings_is_refused_with_a_message(people, decided_case):
    decided_case()
    with pytest.raises(DomainError, match="本期没有发现问题，无需印发工作通报"):
        issue_bulletins(**NOVEMBER, actor=people.supervisor)
    assert not Bulletin.objects.exists()


def test_the_page_keeps_the_period_typed_when_refused(people, login):
    page = login(people.supervisor).post(
        "/supervision/bulletins/", {"period_start": "2026-10-01", "period_end": "2026-10-31"}
    )
    html = page.content.decode()
    assert page.status_code == 400
    assert "本期没有发现问题" in html and 'value="2026-10-01"' in html


def test_every_unit_leader_reads_the_county_bulletin_and_only_their_own(
    three_sources, people, login
):
    unit_bulletin, county = issue_bulletins(**NOVEMBER, actor=people.supervisor)
    assert set(bulletins_visible_to(people.outsider_direct)) == {county}
    assert set(bulletins_visible_to(people.first)) == {unit_bulletin, county}
    outsider = login(people.outsider_direct, Client())
    assert outsider.get(f"/supervision/bulletins/{county.pk}/pdf/").status_code == 200
    assert outsider.get(f"/supervision/bulletins/{unit_bulletin.pk}/pdf/").status_code == 404
    assert bulletins_visible_to(people.outsider_assistant).count() == 0


def test_a_closed_finding_is_not_ordered_for_rectification(three_sources, people):
    closed = three_sources[2]
    with pytest.raises(DomainError, match="该问题已关闭，无需整改"):
        order_rectification(
            finding=closed, actor=people.supervisor, instruction="整改", due_on=date(2099, 1, 1)
        )


def test_the_finding_list_shows_and_filters_by_source(three_sources, people, login):
    client = login(people.supervisor)
    field_only = client.get("/supervision/findings/?state=open&source=field").content.decode()
    system, field, _ = three_sources
    assert f"#{field.pk}<" in field_only and f"#{system.pk}<" not in field_only
    assert "实地监督核查发现的问题" in field_only
