"""The administrator's holiday table: CSV import, marking a year complete, and recomputing
the deadlines that were provisional while a year was unknown.

A CSV is `date,is_workday,name`, one day a line (a header line is allowed). The whole file
is checked first; any error rejects it with the line numbers, and nothing is written.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

import chinese_calendar
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from cases.events import locked_case, record_event
from cases.models import CLOCK_STATES, CalendarYear, Case, WorkdayOverride
from dengkou_aid.errors import DomainError
from dengkou_aid.lib.workdays import WorkdayCalendar, WorkdayResult

from . import calendar

TRUE_WORDS = {"1", "true", "yes", "y", "是", "班", "上班", "工作日"}
FALSE_WORDS = {"0", "false", "no", "n", "否", "休", "休息", "休息日", "假", "节假日"}
HEADER_WORDS = {"date", "日期"}
IMPORT_URL = "/admin/cases/workdayoverride/import/"
DATE_PATTERN = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")


@dataclass
class HolidayRow:
    line: int
    date: date
    is_workday: bool
    name: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    years: list[int] = field(default_factory=list)
    recomputed: int = 0


class HolidayImportError(DomainError):
    """A rejected CSV; `errors` lists one Chinese message per bad line."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("节假日文件有误，未导入任何数据：" + "；".join(errors), field="file")


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM) or GB18030, as Excel in Chinese saves it."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise HolidayImportError(["文件编码无法识别，请保存为UTF-8编码的CSV文件"])


def parse_holiday_csv(text: str) -> list[HolidayRow]:
    """Every row of the file, or HolidayImportError naming each bad line."""
    rows: list[HolidayRow] = []
    errors: list[str] = []
    seen: dict[date, int] = {}
    for line, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [cell.strip() for cell in cells]
        if not any(cells) or (line == 1 and cells[0].lower() in HEADER_WORDS):
            continue
        row, error = _parse_row(line, cells)
        if error is None and row.date in seen:
            error = f"第{line}行：日期{row.date:%Y-%m-%d}与第{seen[row.date]}行重复"
        if error is None:
            error = _contradicts_package(row)
        if error is not None:
            errors.append(error)
            continue
        seen[row.date] = line
        rows.append(row)
    if errors:
        raise HolidayImportError(errors)
    if not rows:
        raise HolidayImportError(["文件中没有任何日期"])
    return rows


def import_holidays(
    *,
    text: str,
    actor: User | None,
    source: str = "CSV导入",
    complete_years: bool = False,
) -> ImportResult:
    """Validate the whole CSV, then write it in one transaction; the table wins over the package."""
    rows = parse_holiday_csv(text)
    result = ImportResult(years=sorted({row.date.year for row in rows}))
    with transaction.atomic():
        for row in rows:
            _, created = WorkdayOverride.objects.update_or_create(
                date=row.date,
                defaults={
                    "is_workday": row.is_workday,
                    "name": row.name[:100],
                    "source": source[:200],
                },
                create_defaults={
                    "is_workday": row.is_workday,
                    "name": row.name[:100],
                    "source": source[:200],
                    "created_by": actor,
                },
            )
            result.created += created
            result.updated += not created
        if complete_years:
            for year in result.years:
                _mark_complete(year, actor=actor)
    calendar.invalidate()
    result.recomputed = recompute_provisional_deadlines()
    return result


def mark_year_complete(*, year: int, actor: User | None, complete: bool = True) -> int:
    """Record that a year's holidays are fully entered; returns how many deadlines moved."""
    with transaction.atomic():
        _mark_complete(year, actor=actor, complete=complete)
    calendar.invalidate()
    return recompute_provisional_deadlines()


def recompute_provisional_deadlines() -> int:
    """Recompute every running case's provisional due date whose years are now known.

    Each case is locked and written on its own, so an interrupted run is simply repeated.
    """
    calendar.invalidate()
    cal = calendar.current_calendar()
    changed = 0
    pending = Case.objects.filter(
        deadline_provisional=True, state__in=CLOCK_STATES, accepted_on__isnull=False
    ).values_list("pk", "accepted_on", "extended")
    for case_id, accepted_on, extended in list(pending):
        # Lock only the cases whose years are now known; the rest stay provisional.
        if not _due_date(cal, accepted_on, extended).provisional:
            changed += _recompute_one(case_id, cal)
    return changed


def _due_date(cal: WorkdayCalendar, accepted_on: date, extended: bool) -> WorkdayResult:
    limit = calendar.ACCEPTANCE_LIMIT_WORKDAYS
    if extended:
        limit += calendar.EXTENSION_WORKDAYS
    return cal.add_workdays(accepted_on, limit)


def _recompute_one(case_id: int, cal: WorkdayCalendar) -> bool:
    with locked_case(case_id) as case:
        if not case.deadline_provisional or case.state not in CLOCK_STATES:
            return False
        due = _due_date(cal, case.accepted_on, case.extended)
        if due.provisional:
            return False
        old_due = case.due_date
        case.due_date, case.deadline_provisional = due.date, False
        case.version += 1
        case.save(update_fields=["due_date", "deadline_provisional", "version", "updated_at"])
        record_event(
            case,
            action="deadline_recomputed",
            label="节假日安排录入后重新计算办结期限",
            actor=None,
            from_state=case.state,
            note=f"办结期限由{old_due:%Y-%m-%d}（暂定）改为{due.date:%Y-%m-%d}",
            data={"old_due_date": old_due, "due_date": due.date},
        )
        return True


def _mark_complete(year: int, *, actor: User | None, complete: bool = True) -> None:
    CalendarYear.objects.update_or_create(
        year=year, defaults={"complete": complete, "updated_by": actor}
    )


def _parse_row(line: int, cells: list[str]) -> tuple[HolidayRow | None, str | None]:
    if len(cells) < 2:
        return None, f"第{line}行：应为“日期,是否工作日,名称”三列"
    day = _parse_date(cells[0])
    if day is None:
        return None, f"第{line}行：日期“{cells[0]}”格式有误，应为YYYY-MM-DD"
    flag = cells[1].lower()
    if flag not in TRUE_WORDS | FALSE_WORDS:
        return None, f"第{line}行：是否工作日“{cells[1]}”无法识别，应为1（上班）或0（休息）"
    name = cells[2] if len(cells) > 2 else ""
    return HolidayRow(line=line, date=day, is_workday=flag in TRUE_WORDS, name=name), None


def _parse_date(text: str) -> date | None:
    match = DATE_PATTERN.fullmatch(text)
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _contradicts_package(row: HolidayRow) -> str | None:
    """A year the package knows may be restated, never contradicted."""
    try:
        package_says = chinese_calendar.is_workday(row.date)
    except NotImplementedError:
        return None
    if package_says == row.is_workday:
        return None
    said = "工作日" if package_says else "休息日"
    return f"第{row.line}行：{row.date:%Y-%m-%d}按国务院已公布的安排为{said}，与文件不一致"


def administrator_home(user: User) -> dict:
    """The administrator's home block: whether this year's and next year's holidays are in."""
    today = timezone.localdate()
    cal = calendar.current_calendar()
    items = []
    for year in (today.year, today.year + 1):
        known = calendar.year_is_known(year, calendar=cal)
        note = "已确定" if known else "尚未录入：涉及该年度的办结期限暂按周一至周五计算"
        items.append({"url": IMPORT_URL, "label": f"{year}年节假日安排", "note": note})
    provisional = Case.objects.filter(deadline_provisional=True, state__in=CLOCK_STATES).count()
    if provisional:
        items.append(
            {
                "url": "/admin/cases/calendaryear/",
                "label": f"暂定办结期限{provisional}件",
                "note": "录入节假日并标记年度完整后自动重算",
            }
        )
    return {
        "title": "工作日历与系统管理",
        "items": items,
        "empty": "",
        "count": provisional or None,
        "links": [
            {"url": IMPORT_URL, "label": "导入节假日安排"},
            {"url": "/admin/", "label": "管理后台"},
        ],
    }
