"""Ledgers (台账) per unit and period: applications, decisions, terminations — and more sheets
that other apps register (periodic reviews live in a higher layer and add their own register).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Unit
from cases.models import Case, CaseEvent, State
from dengkou_aid.lib.spreadsheets import Sheet, write_xlsx


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def bounds(self) -> tuple[datetime, datetime]:
        tz = timezone.get_current_timezone()
        return (
            datetime.combine(self.start, time.min, tzinfo=tz),
            datetime.combine(self.end, time.max, tzinfo=tz),
        )


@dataclass
class Ledger:
    """One register: its records (an ordered queryset) and how each becomes a row.

    A township's register for a year can hold a hundred thousand records, so rows are read
    lazily: the page shows the count and the latest few, the Excel file streams them all.
    """

    key: str
    title: str
    header: Sequence[str]
    records: QuerySet
    row: Callable[[Any], Sequence[Any]]

    def count(self) -> int:
        return self.records.count()

    def rows(self) -> Iterator[Sequence[Any]]:
        return map(self.row, self.records.iterator(chunk_size=2000))

    def latest_rows(self, n: int) -> list[Sequence[Any]]:
        """The last n records, newest first."""
        return [self.row(record) for record in self.records.reverse()[:n]]


LedgerProvider = Callable[[Unit, Period], Ledger]
_LEDGERS: list[LedgerProvider] = []


def register_ledger(provider: LedgerProvider) -> LedgerProvider:
    """Add a register to every unit ledger (e.g. periodic reviews from a higher layer)."""
    _LEDGERS.append(provider)
    return provider


def ledgers(unit: Unit, period: Period) -> list[Ledger]:
    return [provider(unit, period) for provider in _LEDGERS]


def _cases(unit: Unit) -> QuerySet[Case]:
    return Case.objects.filter(unit=unit).select_related("applicant", "village", "handler")


@register_ledger
def applications(unit: Unit, period: Period) -> Ledger:
    start, end = period.bounds()
    # An imported household was not an application of the day it was imported.
    records = (
        _cases(unit)
        .filter(submitted_at__range=(start, end), imported=False)
        .order_by("submitted_at", "id")
    )

    def row(c: Case) -> Sequence[Any]:
        return (
            c.number,
            timezone.localtime(c.submitted_at).date(),
            c.applicant.name,
            c.applicant.masked_id,
            c.village.name,
            c.get_kind_display(),
            "是" if c.entrusted else "否",
            c.accepted_on,
            c.get_state_display(),
            c.handler.full_name if c.handler_id else "",
        )

    header = (
        "案件编号",
        "申请日期",
        "申请人",
        "身份证号（脱敏）",
        "嘎查村/社区",
        "救助类别",
        "委托申请",
        "受理日期",
        "当前状态",
        "经办人",
    )
    return Ledger("applications", "申请受理登记", header, records, row)


@register_ledger
def decisions(unit: Unit, period: Period) -> Ledger:
    records = (
        _cases(unit)
        .filter(decided_on__range=(period.start, period.end))
        .order_by("decided_on", "id")
    )

    def row(c: Case) -> Sequence[Any]:
        return (
            c.number,
            c.decided_on,
            c.applicant.name,
            c.village.name,
            c.get_kind_display(),
            c.get_outcome_display(),
            c.monthly_amount,
            "是" if c.decided_on_time else "否",
            c.rejection_reason,
        )

    header = (
        "案件编号",
        "审核确认日期",
        "申请人",
        "嘎查村/社区",
        "救助类别",
        "结果",
        "月救助金额（元）",
        "按期办结",
        "不予保障理由",
    )
    return Ledger("decisions", "审核确认登记", header, records, row)


@register_ledger
def terminations(unit: Unit, period: Period) -> Ledger:
    start, end = period.bounds()
    events = (
        CaseEvent.objects.filter(case__unit=unit, to_state=State.TERMINATED, at__range=(start, end))
        .exclude(from_state=State.TERMINATED)
        .select_related("case__applicant", "case__village")
        .order_by("at", "id")
    )

    def row(e: CaseEvent) -> Sequence[Any]:
        return (
            e.case.number,
            timezone.localtime(e.at).date(),
            e.case.applicant.name,
            e.case.village.name,
            e.case.get_kind_display(),
            e.case.termination_reason or e.note,
        )

    header = ("案件编号", "停发日期", "姓名", "嘎查村/社区", "救助类别", "停发理由")
    return Ledger("terminations", "停发（终止）登记", header, events, row)


def ledger_xlsx(unit: Unit, period: Period) -> bytes:
    """All of the unit's registers for the period as one workbook, a sheet each."""
    output = io.BytesIO()
    write_xlsx(
        output,
        [
            Sheet(title=ledger.title, header=ledger.header, rows=ledger.rows())
            for ledger in ledgers(unit, period)
        ],
    )
    return output.getvalue()
