"""Ledgers per unit and period: applications, decisions and stops, exported to Excel."""

from __future__ import annotations

import io
from datetime import timedelta

from django.utils import timezone
from openpyxl import load_workbook

from cases.documents.ledgers import Period, ledgers
from cases.events import record_event
from cases.models import State

from .builders import make_case, set_state


def test_the_ledger_lists_the_units_applications_decisions_and_stops(people):
    decided = make_case(people, State.APPROVED)
    stopped = make_case(people, State.APPROVED, head_name="刘美玲")
    stopped = set_state(stopped, State.TERMINATED, termination_reason="死亡减员")
    record_event(
        stopped, action="terminate", label="终止", actor=people.handler, from_state="in_payment"
    )
    make_case(people, State.ACCEPTED, head_name="陈小兵")
    today = timezone.localdate()

    registers = {
        ledger.key: ledger
        for ledger in ledgers(
            people.unit_a, Period(today - timedelta(days=2), today + timedelta(days=1))
        )
    }

    assert registers["applications"].count() == len(list(registers["applications"].rows())) == 3
    assert {row[0] for row in registers["decisions"].rows()} == {decided.number, stopped.number}
    assert [row[-1] for row in registers["terminations"].rows()] == ["死亡减员"]
    assert all(len(row[3]) == 18 and "*" in row[3] for row in registers["applications"].rows())


def test_the_page_shows_the_count_and_the_latest_rows_the_excel_file_all(
    people, login, monkeypatch
):
    from cases.documents import views as document_views

    monkeypatch.setattr(document_views, "LEDGER_PAGE_ROWS", 2)
    cases = [make_case(people, State.ACCEPTED, head_name=name) for name in ("甲一", "乙二", "丙三")]
    today = timezone.localdate()
    period = {
        "start": f"{today - timedelta(days=2):%Y-%m-%d}",
        "end": f"{today + timedelta(days=1):%Y-%m-%d}",
    }
    client = login(people.handler)

    html = client.get("/documents/ledgers/", period).content.decode()
    section = html.split('data-ledger="applications"')[1].split("</section>")[0]
    assert "申请受理登记（3）" in section and "此处显示最近 2 条" in section
    assert cases[2].number in section and cases[1].number in section
    assert cases[0].number not in section

    workbook = load_workbook(
        io.BytesIO(client.get("/documents/ledgers/", {**period, "format": "xlsx"}).content)
    )
    assert workbook["申请受理登记"].max_row == 4


def test_the_excel_export_has_a_sheet_per_register(people, login):
    make_case(people, State.APPROVED)
    today = timezone.localdate()

    response = login(people.handler).get(
        "/documents/ledgers/",
        {
            "start": f"{today - timedelta(days=2):%Y-%m-%d}",
            "end": f"{today + timedelta(days=1):%Y-%m-%d}",
            "format": "xlsx",
        },
    )

    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == [
        "申请受理登记",
        "审核确认登记",
        "停发（终止）登记",
        "待遇调整（增发、减发）登记",
        "停发登记（按决定日期）",
        "复核登记",
        "资金发放登记",
    ]
    assert workbook["审核确认登记"].max_row == 2


def test_another_units_handler_sees_only_their_own_units_ledger(people, login):
    make_case(people, State.APPROVED)

    html = (
        login(people.outsider)
        .get("/documents/ledgers/", {"unit": people.unit_a.pk})
        .content.decode()
    )

    assert "隆盛合镇" in html and "张建国" not in html
