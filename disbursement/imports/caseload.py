"""Bring in the households already in payment from the spreadsheets the county keeps today.

`check_caseload` reads every row, validates it and keeps one small tally per household (never
the rows themselves): that is the preview, and nothing is written. `import_caseload` checks
again inside one transaction, then writes the households whose rows were all good: households
and members, an imported case in payment with its "存量导入" event, the entitlement and its
review schedule. A household seen before (same unit and 户编号) is updated only through
recorded changes.

New households are written set-based: the check keeps the members of new households in a
temporary table as it reads them, and a few INSERT … SELECT statements write every table from
there, so the file is read once and no model instance is built. Households imported before and
changed by the file are updated one by one through the recorded services (a second reading of
the file, only when there are such households).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import Any, BinaryIO

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.models import Role, Unit, User, Village
from cases.deadlines.calendar import first_payable_month
from cases.documents.archive import ArchiveItem, register_section
from cases.events import case_number, locked_case, locked_case_counter, record_event
from cases.models import (
    Area,
    CareTier,
    Case,
    CaseEvent,
    CaseNumberCounter,
    CountyRules,
    Household,
    Kind,
    Outcome,
    Person,
    PolicyStandard,
    Relation,
    Sex,
    StandardKind,
    State,
    WorkAbility,
)
from dengkou_aid.errors import Conflict, DomainError, NotAllowed
from dengkou_aid.lib.bulk import copy_rows, insert_select, sequence_of
from dengkou_aid.lib.crypto import encrypt, keyed_hash
from dengkou_aid.lib.idnumber import InvalidIdNumber, validate_id_number
from dengkou_aid.lib.masking import mask_account
from dengkou_aid.lib.spreadsheets import Sheet, TableError, overflow_reason, read_table, write_xlsx
from dengkou_aid.lib.uploads import format_size, random_name
from disbursement.models import (
    AccountKind,
    ChangeKind,
    ChangeSource,
    Entitlement,
    EntitlementChange,
    ImportBatch,
    ReviewRule,
    ReviewSchedule,
    category_for,
)
from disbursement.reviews.schedule import add_months_to_day, months_for
from disbursement.services import adjust_entitlement, clean_account_number

HEADER = (
    "户编号",
    "单位代码",
    "嘎查村/社区",
    "救助类别",
    "特困供养护理等级",
    "姓名",
    "公民身份号码",
    "与户主关系",
    "家庭人口",
    "月救助金额",
    "起始发放年月",
    "发放账号",
    "开户行",
    "收入不固定",
    "最近复核日期",
)
EXAMPLE_ROWS = (
    (
        "BYGL-0001",
        "150822100",
        "样例嘎查A",
        "农村牧区低保",
        "",
        "张三",
        "150822198001010114",
        "户主",
        "2",
        "1340",
        "2023-05",
        "6228480040012345670",
        "中国农业银行磴口县支行",
        "否",
        "2025-06-30",
    ),
    (
        "BYGL-0001",
        "150822100",
        "样例嘎查A",
        "农村牧区低保",
        "",
        "李四",
        "15082219820304024X",
        "配偶",
        "2",
        "1340",
        "2023-05",
        "",
        "",
        "是",
        "2025-06-30",
    ),
)
IMPORT_ACTION = "imported"
IMPORT_LABEL = "存量导入"


@register_section("import", "存量导入记录", order=5, only_if_any=True)
def _import_record(case: Case) -> list[ArchiveItem]:
    """An imported case's archive opens with where it came from: file, rows, who, when."""
    if not case.imported:
        return []
    return [
        ArchiveItem(
            title=IMPORT_LABEL,
            when=event.at,
            detail=(
                f"文件“{event.data.get('file', '')}”第{_line_span(event.data.get('lines') or [])}行，"
                f"户编号{event.data.get('household_no', '')}，"
                f"月救助金额{event.data.get('amount', '')}元；导入人：{event.actor.full_name or event.actor.username}"
            ),
            note=f"文件SHA-256：{event.data.get('sha256', '')}",
        )
        for event in case.events.filter(action=IMPORT_ACTION).select_related("actor")
    ]


def _line_span(lines: list[int]) -> str:
    return f"{lines[0]}–{lines[-1]}" if len(lines) > 1 else "".join(map(str, lines))


MAX_ERRORS_KEPT = 2000
LOOKUP_CHUNK = 1000
WRITE_BATCH = 1000
STAGE_BATCH = 2000
ANALYZE_AFTER = 1000  # new households: enough to change the written tables' statistics
IMPORTER_ROLES = (Role.ADMINISTRATOR, Role.COUNTY_SUPERVISOR)

KIND_NAMES: dict[str, tuple[str, str | None]] = {
    "城市低保": (Kind.DIBAO, Area.URBAN),
    "农村牧区低保": (Kind.DIBAO, Area.RURAL),
    "农村低保": (Kind.DIBAO, Area.RURAL),
    "特困": (Kind.TEKUN, None),
    "特困供养": (Kind.TEKUN, None),
    "城市特困": (Kind.TEKUN, Area.URBAN),
    "农村牧区特困": (Kind.TEKUN, Area.RURAL),
    "农村特困": (Kind.TEKUN, Area.RURAL),
    "低保边缘": (Kind.MARGINAL, None),
    "低保边缘家庭": (Kind.MARGINAL, None),
    "城市低保边缘": (Kind.MARGINAL, Area.URBAN),
    "农村牧区低保边缘": (Kind.MARGINAL, Area.RURAL),
}
CARE_NAMES = {
    "全自理": CareTier.SELF_CARE,
    "自理": CareTier.SELF_CARE,
    "生活自理": CareTier.SELF_CARE,
    "具备生活自理能力": CareTier.SELF_CARE,
    "半护理": CareTier.PARTIAL,
    "部分护理": CareTier.PARTIAL,
    "部分丧失生活自理能力": CareTier.PARTIAL,
    "全护理": CareTier.FULL,
    "完全丧失生活自理能力": CareTier.FULL,
}
CARE_STANDARDS = {
    CareTier.SELF_CARE: StandardKind.TEKUN_CARE_SELF,
    CareTier.PARTIAL: StandardKind.TEKUN_CARE_PARTIAL,
    CareTier.FULL: StandardKind.TEKUN_CARE_FULL,
}
RELATION_NAMES = {
    **{label: value for value, label in Relation.choices},
    "本人": Relation.HEAD,
    "户主本人": Relation.HEAD,
    "妻": Relation.SPOUSE,
    "妻子": Relation.SPOUSE,
    "夫": Relation.SPOUSE,
    "丈夫": Relation.SPOUSE,
    "子": Relation.CHILD,
    "女": Relation.CHILD,
    "儿子": Relation.CHILD,
    "女儿": Relation.CHILD,
    "长子": Relation.CHILD,
    "长女": Relation.CHILD,
    "次子": Relation.CHILD,
    "次女": Relation.CHILD,
    "父亲": Relation.PARENT,
    "母亲": Relation.PARENT,
    "孙子": Relation.GRANDCHILD,
    "孙女": Relation.GRANDCHILD,
    "外孙子": Relation.GRANDCHILD,
    "外孙女": Relation.GRANDCHILD,
    "祖父": Relation.GRANDPARENT,
    "祖母": Relation.GRANDPARENT,
    "兄弟": Relation.SIBLING,
    "姐妹": Relation.SIBLING,
    "兄": Relation.SIBLING,
    "弟": Relation.SIBLING,
    "姐": Relation.SIBLING,
    "妹": Relation.SIBLING,
}
YES = {"是", "Y", "y", "1", "√"}
NO = {"", "否", "N", "n", "0"}
_MONTH = re.compile(r"(\d{4})\s*[-/.年]?\s*(\d{1,2})\s*月?(?:\s*[-/.]?\s*(\d{1,2})\s*日?)?")
_ZERO = Decimal("0.00")
logger = logging.getLogger(__name__)

Progress = Callable[[float], None]


# --- Who may import what ------------------------------------------------------------------


def import_scope(user: User) -> Unit | None:
    """The unit a user imports for (None: any unit); refuse anyone else (403)."""
    if user.has_role(Role.ADMINISTRATOR):
        return None
    if user.has_role(Role.COUNTY_SUPERVISOR) and user.is_county_staff:
        return None
    if user.has_role(Role.HANDLER) and user.unit is not None and user.unit.is_approval_unit:
        return user.unit
    raise NotAllowed("只有经办人（本单位）或县级管理员可以导入在保家庭。")


# --- Rows -------------------------------------------------------------------------------


class RowError(ValueError):
    """A row that cannot be imported; the message is the reason shown to the clerk."""


@dataclass(slots=True)
class Member:
    line: int
    key: tuple[int, str]
    unit_id: int
    village_id: int
    household_no: str
    kind: str
    area: str
    care_tier: str
    name: str
    id_number: str
    id_hash: str
    relation: str
    size: int
    amount: Decimal
    start_month: date
    account: str
    bank: str
    irregular: bool
    last_review: date | None


class Lookups:
    """Units, villages and standards, loaded once per run (a county has a few hundred)."""

    def __init__(self, *, scope: Unit | None, today: date) -> None:
        self.scope = scope
        self.today = today
        self.units = {u.code: u for u in Unit.objects.approval_units()}
        self.villages_by_code: dict[str, Village] = {}
        self.villages_by_name: dict[tuple[int, str], Village] = {}
        for village in Village.objects.filter(unit__in=self.units.values()):
            self.villages_by_code[village.code] = village
            self.villages_by_name.setdefault((village.unit_id, village.name), village)
        self._standards: dict[tuple[str, str], Decimal | None] = {}
        self._fields: dict[tuple[str, ...], HouseholdFields] = {}

    def household_fields(self, raw: tuple[str, ...]) -> HouseholdFields:
        # Members of a household (and many households) repeat these columns: parse once.
        fields = self._fields.get(raw)
        if fields is None:
            if len(self._fields) > 20_000:
                self._fields.clear()
            fields = self._fields[raw] = _household_fields(raw, self)
        return fields

    def unit(self, code: str) -> Unit:
        unit = self.units.get(code)
        if unit is None:
            raise RowError(
                f"单位代码“{code}”不是本县的苏木镇或农场公司" if code else "缺少单位代码"
            )
        if self.scope is not None and unit.pk != self.scope.pk:
            raise RowError(f"单位代码“{code}”（{unit.name}）不是本单位，只能导入本单位的家庭")
        return unit

    def village(self, unit: Unit, value: str) -> Village:
        village = self.villages_by_code.get(value) or self.villages_by_name.get((unit.pk, value))
        if village is None or village.unit_id != unit.pk:
            raise RowError(f"{unit.name}没有嘎查村/社区“{value}”" if value else "缺少嘎查村/社区")
        if village.merged_into_id is not None:
            raise RowError(f"嘎查村/社区“{value}”已并入{village.merged_into}，请改用新名称")
        return village

    def standard(self, kind: str, area: str) -> Decimal | None:
        if (kind, area) not in self._standards:
            row = PolicyStandard.objects.in_force(kind, area, self.today)
            self._standards[(kind, area)] = row.amount if row else None
        return self._standards[(kind, area)]


HOUSEHOLD_COLUMNS = (
    "单位代码",
    "嘎查村/社区",
    "救助类别",
    "特困供养护理等级",
    "家庭人口",
    "月救助金额",
    "起始发放年月",
    "最近复核日期",
)


@dataclass(frozen=True, slots=True)
class HouseholdFields:
    """The columns every member of a household repeats, parsed once per distinct value."""

    unit: Unit | None
    village: Village | None
    kind_area: tuple[str, str | None] | None
    care_tier: str | None
    size: int | None
    amount: Decimal | None
    start_month: date | None
    last_review: date | None
    problems: tuple[str, ...]


def _collect(problems: list[str], parse: Callable[[], Any]) -> Any:
    try:
        return parse()
    except RowError as error:
        problems.append(str(error))
        return None


def _household_fields(raw: tuple[str, ...], lookups: Lookups) -> HouseholdFields:
    unit_code, village_name, kind, tier, size, amount, start, review = raw
    problems: list[str] = []
    unit = _collect(problems, lambda: lookups.unit(unit_code))
    village = _collect(problems, lambda: lookups.village(unit, village_name)) if unit else None
    kind_area = _collect(problems, lambda: _kind(kind))
    return HouseholdFields(
        unit=unit,
        village=village,
        kind_area=kind_area,
        care_tier=_collect(problems, lambda: _care_tier(tier, kind_area)),
        size=_collect(problems, lambda: _positive_int(size, "家庭人口")),
        amount=_collect(problems, lambda: _money(amount)),
        start_month=_collect(problems, lambda: _month(start, "起始发放年月")),
        last_review=_collect(problems, lambda: _optional_date(review, lookups.today)),
        problems=tuple(problems),
    )


def parse_row(line: int, values: dict[str, str], lookups: Lookups) -> Member:
    """Turn one row into a member of a household, or raise RowError naming every problem."""
    fields = lookups.household_fields(tuple(values[c] for c in HOUSEHOLD_COLUMNS))
    problems = list(fields.problems)
    if reason := overflow_reason(values):
        problems.insert(0, reason)
    household_no = values["户编号"]
    if not household_no:
        problems.append("缺少户编号")
    name = values["姓名"]
    if not name:
        problems.append("缺少姓名")
    id_number = _collect(problems, lambda: _id_number(values["公民身份号码"], lookups.today))
    irregular = _collect(problems, lambda: _yes_no(values["收入不固定"], "收入不固定"))
    account = _collect(problems, lambda: _account(values["发放账号"], values["开户行"]))
    if problems:
        raise RowError("；".join(problems))
    unit, village = fields.unit, fields.village
    kind, area = fields.kind_area
    if area is None:
        area = Area.URBAN if village.is_urban else Area.RURAL
    return Member(
        line=line,
        key=(unit.pk, household_no),
        unit_id=unit.pk,
        village_id=village.pk,
        household_no=household_no,
        kind=kind,
        area=area,
        care_tier=fields.care_tier,
        name=name,
        id_number=id_number,
        id_hash=keyed_hash(id_number),
        relation=RELATION_NAMES.get(values["与户主关系"], Relation.OTHER),
        size=fields.size,
        amount=fields.amount,
        start_month=fields.start_month,
        account=account,
        bank=values["开户行"],
        irregular=irregular,
        last_review=fields.last_review,
    )


def _kind(value: str) -> tuple[str, str | None]:
    if value not in KIND_NAMES:
        raise RowError(
            f"救助类别“{value}”无效（应为城市低保、农村牧区低保、特困、低保边缘）"
            if value
            else "缺少救助类别"
        )
    return KIND_NAMES[value]


def _care_tier(value: str, kind_area: tuple[str, str | None] | None) -> str:
    if kind_area is None or kind_area[0] != Kind.TEKUN:
        return ""
    if value not in CARE_NAMES:
        raise RowError(
            f"特困供养护理等级“{value}”无效（应为全自理、半护理、全护理）"
            if value
            else "特困供养人员须填写护理等级"
        )
    return CARE_NAMES[value]


def _id_number(value: str, today: date) -> str:
    try:
        return validate_id_number(value, today=today)
    except InvalidIdNumber as error:
        raise RowError(f"公民身份号码无效：{error}") from error


def _positive_int(value: str, label: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise RowError(f"{label}“{value}”不是正整数" if value else f"缺少{label}")
    return int(value)


def _money(value: str) -> Decimal:
    cleaned = value.replace(",", "").replace("，", "").removesuffix("元").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise RowError(f"月救助金额“{value}”不是数字" if value else "缺少月救助金额") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise RowError(f"月救助金额“{value}”无效")
    return amount.quantize(Decimal("0.01"))


def _parse_date(value: str) -> tuple[int, int, int | None] | None:
    match = _MONTH.fullmatch(value)
    if match is None:
        return None
    year, month, day = match.groups()
    return int(year), int(month), int(day) if day else None


def _month(value: str, label: str) -> date:
    parts = _parse_date(value)
    try:
        return date(parts[0], parts[1], 1) if parts else _fail()
    except (ValueError, RowError):
        raise RowError(f"{label}“{value}”无效（如2023-05）" if value else f"缺少{label}") from None


def _optional_date(value: str, today: date) -> date | None:
    if not value:
        return None
    parts = _parse_date(value)
    try:
        day = date(parts[0], parts[1], parts[2] or 1) if parts else _fail()
    except (ValueError, RowError):
        raise RowError(f"最近复核日期“{value}”无效（如2025-06-30）") from None
    if day > today:
        raise RowError(f"最近复核日期“{value}”晚于今天")
    return day


def _account(value: str, bank: str) -> str:
    if not value:
        return ""
    if not bank:
        raise RowError("填写了发放账号但缺少开户行")
    try:
        return clean_account_number(_account_kind(bank), value)
    except DomainError as error:
        raise RowError(f"发放账号无效：{error.message}") from None


def _yes_no(value: str, label: str) -> bool:
    if value in YES:
        return True
    if value in NO:
        return False
    raise RowError(f"{label}应填“是”或“否”")


def _fail() -> Any:
    raise RowError("")


# --- Households: the tally kept per household ---------------------------------------------


@dataclass(slots=True)
class Tally:
    """What the check keeps per household: enough to compare its rows, none of their text."""

    index: int
    first_line: int
    unit_id: int
    household_no: str
    village_id: int
    kind: str
    area: str
    care_tier: str
    size: int
    amount: Decimal
    start_month: date
    last_review: date | None
    existing_id: int | None
    bad: bool
    last_line: int = 0
    account_sig: int = 0
    rows: int = 0
    heads: int = 0
    irregular: bool = False
    known_members: int = 0
    new_members: int = 0


@dataclass(slots=True)
class Existing:
    """A household imported before: its live case and entitlement, and active member count."""

    household_id: int
    case_id: int | None = None
    case_live: bool = False
    kind: str = ""
    care_tier: str = ""
    amount: Decimal | None = None
    entitlement_id: int | None = None
    members: int = 0

    def unchanged_by(self, tally: Tally) -> bool:
        return (
            tally.new_members == 0
            and tally.known_members == self.members
            and tally.amount == self.amount
        )


@dataclass
class Check:
    """The outcome of a check: tallies of households, errors by line, counts for the preview."""

    tallies: dict[tuple[int, str], Tally] = field(default_factory=dict)
    known: dict[tuple[int, str], int] = field(default_factory=dict)
    existing: dict[int, Existing] = field(default_factory=dict)
    held_back: set[tuple[int, str]] = field(default_factory=set)
    # Units with imported households already: the only ones worth looking households up in.
    units_with_imports: set[int] = field(default_factory=set)
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_total: int = 0
    rows: int = 0
    bad_rows: int = 0

    def error(self, line: int, reason: str) -> None:
        self.error_total += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append({"line": line, "reason": reason})

    def good(self) -> Iterator[Tally]:
        return (t for t in self.tallies.values() if not t.bad)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(
            (
                "households_create",
                "households_update",
                "households_unchanged",
                "members_create",
                "members_unchanged",
                "members_leave",
            ),
            0,
        )
        for tally in self.good():
            existing = self.existing.get(tally.existing_id) if tally.existing_id else None
            if existing is None:
                counts["households_create"] += 1
                counts["members_create"] += tally.rows
                continue
            counts["members_create"] += tally.new_members
            counts["members_unchanged"] += tally.known_members
            counts["members_leave"] += existing.members - tally.known_members
            unchanged = existing.unchanged_by(tally)
            counts["households_unchanged" if unchanged else "households_update"] += 1
        bad = sum(1 for t in self.tallies.values() if t.bad)
        counts["households_held_back"] = bad + len(self.held_back - self.tallies.keys())
        counts["households"] = len(self.tallies) + len(self.held_back - self.tallies.keys())
        counts.update(rows=self.rows, good_rows=self.rows - self.bad_rows, bad_rows=self.bad_rows)
        return counts


def open_table(source: str | BinaryIO) -> Iterator[tuple[int, dict[str, str]]]:
    """Open the table; a wrong type, header, size or an empty file raises TableError now."""
    return read_table(source, HEADER)


def check_caseload(
    source: str | BinaryIO,
    *,
    scope: Unit | None,
    today: date | None = None,
    progress: Progress | None = None,
    size: int | None = None,
    stage: Stage | None = None,
) -> Check:
    """Validate every row and every household without writing anything.

    With a stage (the import), every member of a new household that passes its
    row checks is also kept there for the write; a household found bad later is left out then.
    """
    today = today or timezone.localdate()
    lookups = Lookups(scope=scope, today=today)
    check = Check(units_with_imports=_units_with_imports())
    seen_ids: dict[int, int] = {}  # hash(id number) -> tally index: a person in two households
    chunk: list[Member] = []
    rows = open_table(source)
    for line, values in rows:
        check.rows += 1
        try:
            chunk.append(parse_row(line, values, lookups))
        except RowError as error:
            check.bad_rows += 1
            check.error(line, str(error))
            _hold_back(check, values, lookups)
        if len(chunk) >= LOOKUP_CHUNK:
            _check_chunk(check, chunk, seen_ids, stage)
            chunk = []
            if progress and size and hasattr(source, "tell"):
                progress(min(source.tell() / size, 1.0))
    _check_chunk(check, chunk, seen_ids, stage)
    if stage is not None:
        stage.flush()
    _check_households(check, lookups)
    check.errors.sort(key=lambda e: e["line"])
    return check


def _units_with_imports() -> set[int]:
    rows = Household.objects.exclude(import_key="").values_list("unit_id", flat=True)
    return set(rows.order_by().distinct())


def _hold_back(check: Check, values: dict[str, str], lookups: Lookups) -> None:
    """A bad row holds back its whole household: importing it short a member would be wrong."""
    unit = lookups.units.get(values["单位代码"])
    if unit is None or not values["户编号"]:
        return
    key = (unit.pk, values["户编号"])
    if key in check.tallies:
        check.tallies[key].bad = True
    else:
        check.held_back.add(key)


def _check_chunk(
    check: Check, chunk: list[Member], seen_ids: dict[int, int], stage: Stage | None = None
) -> None:
    """Check a chunk of members against each other, their households and the database."""
    if not chunk:
        return
    known = _known_people({m.id_hash for m in chunk})
    _load_existing(check, {m.key for m in chunk if m.key not in check.tallies})
    for member in chunk:
        reason = _member_problem(check, member, known, seen_ids)
        tally = check.tallies.get(member.key) or _new_tally(check, member)
        if reason:
            check.bad_rows += 1
            check.error(member.line, reason)
            tally.bad = True
            continue
        if stage is not None and tally.existing_id is None and not tally.bad:
            stage.add(tally.index, member, payer=bool(member.account) and not tally.account_sig)
        _add_to_tally(tally, member, known)


def _known_people(hashes: set[str]) -> dict[str, dict[str, Any]]:
    rows = Person.objects.filter(id_hash__in=hashes).values(
        "id_hash", "name", "household_id", "household__unit_id", "household__import_key"
    )
    return {row["id_hash"]: row for row in rows}


def _load_existing(check: Check, keys: set[tuple[int, str]]) -> None:
    """Households imported before under the same unit and 户编号, with their latest imported case."""
    by_unit: dict[int, list[str]] = {}
    for unit_id, number in keys:
        if unit_id in check.units_with_imports:
            by_unit.setdefault(unit_id, []).append(number)
    if not by_unit:
        return
    condition = Q(pk__in=[])
    for unit_id, numbers in by_unit.items():
        condition |= Q(unit_id=unit_id, import_key__in=numbers)
    households = Household.objects.filter(condition).annotate(
        active=Count("members", filter=Q(members__left_on__isnull=True))
    )
    found = {h.pk: h for h in households}
    for household in found.values():
        check.known[(household.unit_id, household.import_key)] = household.pk
        check.existing[household.pk] = Existing(household_id=household.pk, members=household.active)
    cases = (
        Case.objects.filter(household_id__in=found, imported=True)
        .order_by("id")
        .values("household_id", "id", "state", "kind", "care_tier", "monthly_amount")
        .annotate(entitlement_id=F("entitlement__id"), paid=F("entitlement__monthly_amount"))
    )
    for case in cases:  # ordered by id: the latest case of a household wins
        existing = check.existing[case["household_id"]]
        existing.case_id = case["id"]
        existing.case_live = case["state"] in (State.IN_PAYMENT, State.STANDING_PUBLICITY)
        existing.kind = case["kind"]
        existing.care_tier = case["care_tier"]
        existing.entitlement_id = case["entitlement_id"]
        existing.amount = case["paid"] if case["paid"] is not None else case["monthly_amount"]


def _new_tally(check: Check, member: Member) -> Tally:
    tally = Tally(
        index=len(check.tallies),
        first_line=member.line,
        unit_id=member.unit_id,
        household_no=member.household_no,
        village_id=member.village_id,
        kind=member.kind,
        area=member.area,
        care_tier=member.care_tier,
        size=member.size,
        amount=member.amount,
        start_month=member.start_month,
        last_review=member.last_review,
        existing_id=check.known.get(member.key),
        bad=member.key in check.held_back,
    )
    check.tallies[member.key] = tally
    return tally


def _member_problem(
    check: Check, member: Member, known: dict[str, dict[str, Any]], seen_ids: dict[int, int]
) -> str:
    """Why this member cannot be imported with its household, or '' when it can."""
    tally = check.tallies.get(member.key)
    index = tally.index if tally is not None else len(check.tallies)
    if seen_ids.setdefault(hash(member.id_number), index) != index:
        return "公民身份号码在本文件的另一户中重复出现"
    person = known.get(member.id_hash)
    reason = _known_person_problem(member, person) if person is not None else ""
    if reason:
        return reason
    if tally is None:
        return _existing_problem(check, member)
    return _disagreement(tally, member)


def _known_person_problem(member: Member, person: dict[str, Any]) -> str:
    if person["household__unit_id"] != member.unit_id:
        unit = Unit.objects.filter(pk=person["household__unit_id"]).first()
        return f"公民身份号码已在其他单位（{unit}）的家庭中"
    if person["household__import_key"] != member.household_no:
        other = person["household__import_key"] or f"系统编号{person['household_id']}"
        return f"公民身份号码已在本单位另一户（户编号{other}）中"
    if person["name"] != member.name:
        return f"姓名与系统中该身份号码的记录（{person['name']}）不一致"
    return ""


def _existing_problem(check: Check, member: Member) -> str:
    """The first row of a household: compare it with what was imported before, if anything."""
    household_id = check.known.get(member.key)
    if household_id is None:
        return ""
    existing = check.existing[household_id]
    if existing.case_id is None:
        return "该户已在系统中但不是存量导入的家庭，不能通过导入更新"
    if not existing.case_live:
        return "该户在系统中已停止保障，不能通过导入恢复；请重新申请"
    if existing.kind != member.kind:
        return "救助类别与系统中该户的记录不一致；变更类别须重新审核确认"
    if existing.care_tier != member.care_tier:
        return "特困供养护理等级与系统中的记录不一致；变更等级须经复核"
    return ""


def _disagreement(tally: Tally, member: Member) -> str:
    """Members of one household must agree on everything that belongs to the household."""
    first = f"与本户第{tally.first_line}行"
    if tally.size != member.size:
        return f"家庭人口{first}不一致（{member.size}≠{tally.size}）"
    if tally.amount != member.amount:
        return f"月救助金额{first}不一致（{member.amount}≠{tally.amount}）"
    if (tally.kind, tally.care_tier) != (member.kind, member.care_tier):
        return f"救助类别或护理等级{first}不一致"
    if tally.village_id != member.village_id:
        return f"嘎查村/社区{first}不一致"
    if tally.start_month != member.start_month:
        return f"起始发放年月{first}不一致"
    if tally.last_review != member.last_review:
        return f"最近复核日期{first}不一致"
    if member.account and tally.account_sig and hash(member.account) != tally.account_sig:
        return f"发放账号{first}不一致"
    return ""


def _add_to_tally(tally: Tally, member: Member, known: dict[str, dict[str, Any]]) -> None:
    tally.rows += 1
    tally.last_line = member.line
    tally.heads += member.relation == Relation.HEAD
    tally.irregular |= member.irregular
    if member.account:
        tally.account_sig = hash(member.account)
    if tally.existing_id is not None:
        if member.id_hash in known:
            tally.known_members += 1
        else:
            tally.new_members += 1


def _check_households(check: Check, lookups: Lookups) -> None:
    """Once every row is read: size, head, account and the amount against the standard."""
    for tally in check.tallies.values():
        if tally.bad:
            continue
        reason = _household_problem(tally, lookups, check.existing.get(tally.existing_id or 0))
        if reason:
            tally.bad = True
            check.error(tally.first_line, f"户编号{tally.household_no}：{reason}")


def _household_problem(tally: Tally, lookups: Lookups, existing: Existing | None) -> str:
    if tally.size != tally.rows:
        return f"家庭人口为{tally.size}人，但文件中该户有{tally.rows}名成员"
    if tally.heads != 1:
        return "该户没有户主" if tally.heads == 0 else "该户有多名户主"
    if tally.amount > 0 and not tally.account_sig and existing is None:
        return "缺少发放账号"
    return amount_problem(
        kind=tally.kind,
        area=tally.area,
        care_tier=tally.care_tier,
        size=tally.size,
        amount=tally.amount,
        lookups=lookups,
    )


def amount_problem(
    *, kind: str, area: str, care_tier: str, size: int, amount: Decimal, lookups: Lookups
) -> str:
    """Why an amount lies outside the standard's range for its kind, or ''."""
    area_label = Area(area).label
    if kind == Kind.TEKUN:
        basic = lookups.standard(StandardKind.TEKUN_BASIC, area)
        care = lookups.standard(CARE_STANDARDS[care_tier], area)
        if basic is None or care is None:
            return f"未设置{area_label}特困供养标准，无法核对金额"
        ceiling = basic + care
        if not 0 < amount <= ceiling:
            return f"月救助金额{amount}元超出特困供养范围（大于0且不超过基本生活标准加护理标准{ceiling}元）"
        return ""
    standard = lookups.standard(StandardKind.DIBAO, area)
    if standard is None:
        return f"未设置{area_label}低保标准，无法核对金额"
    ceiling = standard * size
    if kind == Kind.DIBAO and not 0 < amount <= ceiling:
        return f"月救助金额{amount}元超出低保范围（大于0且不超过{area_label}低保标准×家庭人口={ceiling}元）"
    if kind == Kind.MARGINAL and amount > ceiling:
        return f"月救助金额{amount}元超出低保边缘家庭范围（不超过{ceiling}元）"
    return ""


# --- Review dates ---------------------------------------------------------------------------


def review_rule(tally: Tally) -> str:
    """reviews.schedule.review_rule_for, in memory: imported members count as able to work."""
    volatile = tally.irregular and tally.kind != Kind.TEKUN
    return ReviewRule.VOLATILE if volatile else ReviewRule.STABLE


# --- Import --------------------------------------------------------------------------------


@dataclass
class ImportResult:
    counts: dict[str, int]
    errors: list[dict[str, Any]]
    error_total: int


def import_caseload(
    *,
    open_source: Callable[[], BinaryIO],
    file_name: str,
    sha256: str,
    batch_id: int | None,
    scope: Unit | None,
    actor: User,
    progress: Progress | None = None,
) -> ImportResult:
    """Import every household whose rows are all good, in one transaction; re-check first."""
    today = timezone.localdate()
    with transaction.atomic():
        stage = Stage()
        with open_source() as source:
            check = check_caseload(source, scope=scope, today=today, stage=stage)
        if progress:
            progress(0.3)
        writer = Writer(
            check=check,
            actor=actor,
            today=today,
            provenance={"file": file_name, "sha256": sha256, "batch": batch_id},
        )
        writer.create_staged(stage)
        start = 0.8
        if progress:
            progress(start)
        total = sum(1 for t in check.good() if writer.changed_by_file(t))
        if total:  # only when the file changes households imported before
            with open_source() as source:
                for done in writer.run(open_table(source), scope=scope):
                    if progress:
                        progress(start + (1 - start) * min(done / total, 1.0))
        writer.save_counters()
    counts = check.counts()
    counts.update(writer.counts)
    return ImportResult(counts=counts, errors=check.errors, error_total=check.error_total)


class Writer:
    """Writes the new good households from the stage, then updates, household by household,
    those imported before that the file changes."""

    def __init__(
        self, *, check: Check, actor: User, today: date, provenance: dict[str, Any]
    ) -> None:
        self.check = check
        self.actor = actor
        self.today = today
        self.provenance = provenance
        self.rules = CountyRules.in_force(today)
        self.units = {u.pk: u for u in Unit.objects.all()}
        self.counters: dict[int, CaseNumberCounter] = {}
        self.counts = dict.fromkeys(
            ("created", "updated", "unchanged", "adjusted", "joined", "left"), 0
        )

    def run(
        self, rows: Iterator[tuple[int, dict[str, str]]], *, scope: Unit | None
    ) -> Iterator[int]:
        """Update the known households the file changes as their rows come; yield the count."""
        lookups = Lookups(scope=scope, today=self.today)
        open_households: dict[tuple[int, str], list[Member]] = {}
        done = 0
        for line, values in rows:
            tally = self._tally_for(values, lookups)
            if tally is None or not self.changed_by_file(tally):
                continue
            member = parse_row(line, values, lookups)
            members = open_households.setdefault(member.key, [])
            members.append(member)
            if len(members) == tally.rows:
                self._update(tally, open_households.pop(member.key))
                done += 1
                if done % WRITE_BATCH == 0:
                    yield done
        yield done

    def _tally_for(self, values: dict[str, str], lookups: Lookups) -> Tally | None:
        unit = lookups.units.get(values["单位代码"])
        tally = self.check.tallies.get((unit.pk, values["户编号"])) if unit else None
        return tally if tally is not None and not tally.bad else None

    def _next_number(self, unit_id: int) -> str:
        # The counter row stays locked until the import commits, so nobody else takes a
        # number from it meanwhile; it is written back once, in save_counters().
        counter = self.counters.get(unit_id)
        if counter is None:
            counter = self.counters[unit_id] = locked_case_counter(
                self.units[unit_id], self.today.year
            )
        counter.last += 1
        return case_number(self.units[unit_id], self.today.year, counter.last)

    def save_counters(self) -> None:
        """Write back the last case number taken in each unit."""
        for counter in self.counters.values():
            counter.save(update_fields=["last"])

    def _review_dates(self, tally: Tally) -> tuple[date, date]:
        last = tally.last_review or tally.start_month
        return last, add_months_to_day(last, months_for(review_rule(tally), self.rules))

    # New households: from the stage, one INSERT … SELECT per table.

    def create_staged(self, stage: Stage) -> None:
        """Write every new good household from the stage; count the known ones left unchanged.

        Households are numbered, and their rows given ids, in the order their last row comes
        in the file.
        """
        new = sorted(
            (t for t in self.check.good() if t.existing_id is None), key=lambda t: t.last_line
        )
        self.counts["unchanged"] += sum(
            1
            for t in self.check.good()
            if t.existing_id is not None and not self.changed_by_file(t)
        )
        if new:
            stage.add_households(self._staged_households(new))
            stage.write(self._staged_values())
        stage.drop()
        if len(new) >= ANALYZE_AFTER:
            stage.analyze_written()
        self.counts["created"] += len(new)

    def changed_by_file(self, tally: Tally) -> bool:
        """A household imported before whose members or amount the file changes."""
        existing = self.check.existing.get(tally.existing_id) if tally.existing_id else None
        return existing is not None and not existing.unchanged_by(tally)

    def _staged_households(self, new: list[Tally]) -> Iterator[tuple[Any, ...]]:
        for order, tally in enumerate(new):
            last, upcoming = self._review_dates(tally)
            yield (
                tally.index,
                order,
                tally.unit_id,
                tally.village_id,
                tally.household_no,
                tally.area,
                tally.kind,
                tally.care_tier,
                category_for(tally.kind, tally.area, tally.care_tier),
                tally.amount,
                tally.start_month,
                last,
                upcoming,
                review_rule(tally),
                self._next_number(tally.unit_id),
            )

    def _staged_values(self) -> dict[str, Any]:
        """The parameters the staged INSERTs share: who imports, from which file, and when."""
        now = timezone.now()
        return {
            "actor": self.actor.pk,
            "actor_role": _role_of(self.actor),
            "actor_unit": self.actor.unit_id,
            "handler": self.actor.pk if self.actor.has_role(Role.HANDLER) else None,
            "now": now,
            "imported_at": now.isoformat(),
            "provenance": json.dumps(self.provenance),
            "note": f"由{self.actor.full_name or self.actor.username}从“{self.provenance['file']}”导入",
            "reason": f"存量数据导入（{self.provenance['file']}）",
        }

    # Known households: per household, through the recorded services.

    def _update(self, tally: Tally, members: list[Member]) -> None:
        existing = self.check.existing[tally.existing_id]
        if existing.unchanged_by(tally):
            self.counts["unchanged"] += 1  # the same file again: nothing to lock, nothing to write
            return
        in_file = {m.id_hash for m in members}
        with locked_case(existing.case_id) as case:
            joined = self._join(case, members)
            left = self._leave(case, in_file)
            adjusted = self._adjust(case, existing, tally, members)
        if joined or left or adjusted:
            self.counts["updated"] += 1
        else:
            self.counts["unchanged"] += 1

    def _join(self, case: Case, members: list[Member]) -> int:
        known = set(
            Person.objects.filter(id_hash__in=[m.id_hash for m in members]).values_list(
                "id_hash", flat=True
            )
        )
        joining = [m for m in members if m.id_hash not in known]
        for member in joining:
            _person(member, case.household).save()
        if joining:
            self._record(
                case,
                action="import_members_joined",
                label="存量导入：新增家庭成员",
                members=joining,
                note="、".join(m.name for m in joining),
            )
            self.counts["joined"] += len(joining)
        return len(joining)

    def _leave(self, case: Case, in_file: set[str]) -> int:
        leaving = list(case.household.members.active().exclude(id_hash__in=in_file))
        for person in leaving:
            person.left_on = self.today
            person.left_reason = f"存量导入文件“{self.provenance['file']}”中已无此成员"
            person.save(update_fields=["left_on", "left_reason"])
        if leaving:
            self._record(
                case,
                action="import_members_left",
                label="存量导入：减少家庭成员",
                members=[],
                note="、".join(p.name for p in leaving),
            )
            self.counts["left"] += len(leaving)
        return len(leaving)

    def _adjust(self, case: Case, existing: Existing, tally: Tally, members: list[Member]) -> bool:
        if existing.amount == tally.amount:
            return False
        if existing.entitlement_id is None:
            raise DomainError(
                f"户编号{tally.household_no}在系统中没有发放待遇，不能通过导入调整金额。"
            )
        month = max(first_payable_month(self.today), case.entitlement.start_month)
        lines = "、".join(str(m.line) for m in members)
        adjust_entitlement(
            entitlement=case.entitlement,
            effective_month=month,
            new_amount=tally.amount,
            reason=f"存量导入文件“{self.provenance['file']}”第{lines}行：月救助金额由{existing.amount}元调整为{tally.amount}元",
            source=ChangeSource.IMPORT,
            actor=self.actor,
        )
        # The case keeps the amount it was decided with; the entitlement's change records the new one.
        self._record(
            case,
            action="import_adjusted",
            label="存量导入：调整月救助金额",
            members=members,
            note=f"{existing.amount}元→{tally.amount}元，自{month:%Y年%m月}起",
        )
        self.counts["adjusted"] += 1
        return True

    def _record(
        self, case: Case, *, action: str, label: str, members: list[Member], note: str
    ) -> None:
        record_event(
            case,
            action=action,
            label=label,
            actor=self.actor,
            role=_role_of(self.actor),
            from_state=case.state,
            note=note,
            data={**self.provenance, "lines": [m.line for m in members]},
        )


def _person(member: Member, household: Household) -> Person:
    return Person(
        household=household,
        name=member.name,
        id_number=member.id_number,
        id_hash=member.id_hash,
        sex=_sex(member.id_number),
        birth_date=_birth_date(member.id_number),
        relation=member.relation,
        work_ability=WorkAbility.ABLE,
        income_irregular=member.irregular,
    )


# The ID number was validated by parse_row: read its birth date and sex directly.


def _sex(number: str) -> str:
    return Sex.MALE if int(number[16]) % 2 else Sex.FEMALE


def _birth_date(number: str) -> date:
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def _account_kind(bank: str) -> str:
    return (
        AccountKind.SOCIAL_SECURITY
        if "社保" in bank or "社会保障" in bank
        else AccountKind.BANK_CARD
    )


def _role_of(user: User) -> str:
    for role in (Role.HANDLER, Role.ADMINISTRATOR, Role.COUNTY_SUPERVISOR):
        if user.has_role(role):
            return Role(role).label
    return ""


# --- The stage of new households ----------------------------------------------------------------

STAGED_MEMBERS = "caseload_import_member"
STAGED_HOUSEHOLDS = "caseload_import_household"
MEMBER_COLUMNS = (
    "idx",
    "line",
    "name",
    "id_number",
    "id_hash",
    "sex",
    "birth_date",
    "relation",
    "irregular",
    "account",
    "account_hash",
    "account_masked",
    "account_kind",
    "bank",
)
HOUSEHOLD_COLUMNS_STAGED = (
    "idx",
    "ord",
    "unit_id",
    "village_id",
    "household_no",
    "area",
    "kind",
    "care_tier",
    "category",
    "amount",
    "start_month",
    "last_review",
    "next_review",
    "rule",
    "number",
)


class Stage:
    """Temporary tables of the new households and their members, dropped at commit.

    Only what the tables need is kept, computed as the model fields would: the ID number and
    the account are encrypted here (never staged in clear), with their keyed hashes.
    """

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGED_MEMBERS}, {STAGED_HOUSEHOLDS}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {STAGED_MEMBERS} (idx integer NOT NULL,"
                " line integer NOT NULL, name text NOT NULL, id_number text NOT NULL,"
                " id_hash text NOT NULL, sex text NOT NULL, birth_date date NOT NULL,"
                " relation text NOT NULL, irregular boolean NOT NULL, account text,"
                " account_hash text, account_masked text, account_kind text, bank text"
                ") ON COMMIT DROP"
            )

    def add(self, index: int, member: Member, *, payer: bool) -> None:
        """Keep a member of a new household; `payer`: the first with an account, paid into."""
        number, account = member.id_number, member.account
        self.rows.append(
            (
                index,
                member.line,
                member.name,
                encrypt(number),
                member.id_hash,
                _sex(number),
                _birth_date(number),
                member.relation,
                member.irregular,
                *(
                    (
                        encrypt(account),
                        keyed_hash(account),
                        mask_account(account),
                        _account_kind(member.bank),
                        member.bank or "未填写",
                    )
                    if payer
                    else (None,) * 5
                ),
            )
        )
        if len(self.rows) >= STAGE_BATCH:
            self.flush()

    def flush(self) -> None:
        with connection.cursor() as cursor:
            copy_rows(cursor, STAGED_MEMBERS, MEMBER_COLUMNS, self.rows)
        self.rows = []

    def add_households(self, rows: Iterator[tuple[Any, ...]]) -> None:
        """Stage the good new households, with ids drawn from the tables' sequences."""
        sequences = [sequence_of(m) for m in (Household, Case, Entitlement)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {STAGED_HOUSEHOLDS} (idx integer PRIMARY KEY,"
                " ord integer NOT NULL, unit_id bigint NOT NULL, village_id bigint NOT NULL,"
                " household_no text NOT NULL, area text NOT NULL, kind text NOT NULL,"
                " care_tier text NOT NULL, category text NOT NULL, amount numeric NOT NULL,"
                " start_month date NOT NULL, last_review date NOT NULL,"
                " next_review date NOT NULL, rule text NOT NULL, number text NOT NULL,"
                " household_id bigint, case_id bigint, entitlement_id bigint) ON COMMIT DROP"
            )
            while batch := list(islice(rows, STAGE_BATCH)):
                copy_rows(cursor, STAGED_HOUSEHOLDS, HOUSEHOLD_COLUMNS_STAGED, batch)
            # Ids in the order households are written (ord), as bulk_create would draw them.
            cursor.execute(
                f"UPDATE {STAGED_HOUSEHOLDS} s SET household_id = n.h, case_id = n.c,"
                " entitlement_id = CASE WHEN s.amount > 0 THEN n.e END"
                " FROM (SELECT idx, nextval(%s) AS h, nextval(%s) AS c,"
                " CASE WHEN amount > 0 THEN nextval(%s) END AS e"
                f" FROM (SELECT idx, amount FROM {STAGED_HOUSEHOLDS} ORDER BY ord) o) n"
                " WHERE n.idx = s.idx",
                sequences,
            )
            cursor.execute(f"ANALYZE {STAGED_MEMBERS}")
            cursor.execute(f"ANALYZE {STAGED_HOUSEHOLDS}")

    def write(self, values: dict[str, Any]) -> None:
        """Households, members, cases, their first events, entitlements, changes, schedules."""
        h, m = STAGED_HOUSEHOLDS, STAGED_MEMBERS
        params = {
            **values,
            "head": Relation.HEAD,
            "in_payment": State.IN_PAYMENT,
            "approve": Outcome.APPROVE,
            "action": IMPORT_ACTION,
            "label": IMPORT_LABEL,
            "start": ChangeKind.START,
            "source": ChangeSource.IMPORT,
            "able": WorkAbility.ABLE,
        }
        with_head = f"{h} h JOIN {m} hm ON hm.idx = h.idx AND hm.relation = %(head)s"
        with connection.cursor() as cursor:
            insert_select(
                cursor,
                Household,
                {
                    "id": "h.household_id",
                    "unit_id": "h.unit_id",
                    "village_id": "h.village_id",
                    "area": "h.area",
                    "import_key": "h.household_no",
                },
                f"{h} h ORDER BY h.ord",
            )
            insert_select(
                cursor,
                Person,
                {
                    "household_id": "h.household_id",
                    "name": "m.name",
                    "id_number": "m.id_number",
                    "id_hash": "m.id_hash",
                    "sex": "m.sex",
                    "birth_date": "m.birth_date",
                    "relation": "m.relation",
                    "work_ability": "%(able)s",
                    "income_irregular": "m.irregular",
                },
                f"{m} m JOIN {h} h ON h.idx = m.idx ORDER BY h.ord, m.line",
                params,
            )
            insert_select(
                cursor,
                Case,
                {
                    "id": "h.case_id",
                    "number": "h.number",
                    "unit_id": "h.unit_id",
                    "village_id": "h.village_id",
                    "household_id": "h.household_id",
                    "applicant_id": "p.id",
                    "kind": "h.kind",
                    "area": "h.area",
                    "state": "%(in_payment)s",
                    "handler_id": "%(handler)s",
                    "filed_by_id": "%(actor)s",
                    "imported": "true",
                    "outcome": "%(approve)s",
                    "care_tier": "h.care_tier",
                    "monthly_amount": "h.amount",
                },
                f"{with_head} JOIN {Person._meta.db_table} p ON p.id_hash = hm.id_hash"
                " ORDER BY h.ord",
                params,
            )
            insert_select(
                cursor,
                CaseEvent,
                {
                    "case_id": "h.case_id",
                    "seq": "1",
                    "at": "%(now)s",
                    "action": "%(action)s",
                    "label": "%(label)s",
                    "from_state": "''",
                    "to_state": "%(in_payment)s",
                    "actor_id": "%(actor)s",
                    "actor_role": "%(actor_role)s",
                    "actor_unit_id": "%(actor_unit)s",
                    "note": "%(note)s",
                    # The same keys as Writer._event's data; jsonb keeps no key order.
                    "data": "%(provenance)s::jsonb || jsonb_build_object('lines', l.lines,"
                    " 'household_no', h.household_no, 'amount', h.amount::text,"
                    " 'start_month', h.start_month::text, 'last_review', h.last_review::text,"
                    " 'next_review', h.next_review::text, 'imported_at', %(imported_at)s::text)",
                },
                f"{h} h JOIN (SELECT idx, jsonb_agg(line ORDER BY line) AS lines FROM {m}"
                " GROUP BY idx) l ON l.idx = h.idx ORDER BY h.ord",
                params,
            )
            insert_select(
                cursor,
                Entitlement,
                {
                    "id": "h.entitlement_id",
                    "case_id": "h.case_id",
                    "household_id": "h.household_id",
                    "unit_id": "h.unit_id",
                    "village_id": "h.village_id",
                    "kind": "h.kind",
                    "area": "h.area",
                    "care_tier": "h.care_tier",
                    "category": "h.category",
                    "monthly_amount": "h.amount",
                    "start_month": "h.start_month",
                    "amount_since": "h.start_month",
                    "account_kind": "pm.account_kind",
                    "account_number": "pm.account",
                    "account_hash": "pm.account_hash",
                    "account_masked": "pm.account_masked",
                    "bank_name": "pm.bank",
                    "holder_name": "hm.name",
                    "created_by_id": "%(actor)s",
                },
                f"{with_head} JOIN {m} pm ON pm.idx = h.idx AND pm.account IS NOT NULL"
                " WHERE h.entitlement_id IS NOT NULL ORDER BY h.ord",
                params,
            )
            insert_select(
                cursor,
                EntitlementChange,
                {
                    "entitlement_id": "h.entitlement_id",
                    "effective_month": "h.start_month",
                    "kind": "%(start)s",
                    "old_amount": "0",
                    "new_amount": "h.amount",
                    "reason": "%(reason)s",
                    "source": "%(source)s",
                    "actor_id": "%(actor)s",
                },
                f"{h} h WHERE h.entitlement_id IS NOT NULL ORDER BY h.ord",
                params,
            )
            insert_select(
                cursor,
                ReviewSchedule,
                {
                    "entitlement_id": "h.entitlement_id",
                    "household_id": "h.household_id",
                    "rule": "h.rule",
                    "last_review_on": "h.last_review",
                    "next_review_on": "h.next_review",
                },
                f"{h} h WHERE h.entitlement_id IS NOT NULL ORDER BY h.ord",
                params,
            )

    def analyze_written(self) -> None:
        """Refresh the statistics of the tables written (kept only if the import commits).

        A first import can multiply their rows, and the queries that follow it, a re-import's
        check or the first roster, would otherwise be planned for the tables as they were.
        """
        written = (Household, Person, Case, CaseEvent, Entitlement, EntitlementChange)
        tables = [m._meta.db_table for m in (*written, ReviewSchedule)]
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(tables)}")

    def drop(self) -> None:
        # Also dropped at commit; dropped now for an import inside a longer transaction.
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGED_MEMBERS}, {STAGED_HOUSEHOLDS}")


# --- Template ---------------------------------------------------------------------------------


def write_template_xlsx(target: BinaryIO) -> None:
    write_xlsx(target, [Sheet(title="在保家庭导入模板", header=HEADER, rows=EXAMPLE_ROWS)])


def template_csv() -> bytes:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(EXAMPLE_ROWS)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- Batches: upload, preview, confirm (the page, the API and the task call these) -----------

DEFAULT_IMPORT_MAX_BYTES = 50 * 1024 * 1024
PROGRESS_TTL = 6 * 3600


def import_max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", DEFAULT_IMPORT_MAX_BYTES))


def too_big(declared: int | None) -> str:
    """The refusal for a declared size over the limit, or '' (checked before reading anything)."""
    limit = import_max_bytes()
    if declared is not None and declared > limit:
        return f"文件过大：超过{format_size(limit)}，请按单位拆分后分批导入"
    return ""


def store_upload(
    *, file: Any, kind: str, header: tuple[str, ...], actor: User, scope: Unit | None
) -> ImportBatch:
    """Refuse a file that is too big, not a spreadsheet, empty or with the wrong header; else keep it."""
    refusal = too_big(getattr(file, "size", None))
    if refusal:
        raise DomainError(refusal, field="file")
    try:
        read_table(file, header, max_bytes=import_max_bytes())
    except TableError as error:
        raise DomainError(str(error), field="file") from None
    file.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := file.read(1024 * 1024):
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    name = os.path.basename(getattr(file, "name", "") or "upload")[:200]
    batch = ImportBatch(
        kind=kind,
        file_name=name,
        sha256=digest.hexdigest(),
        size=size,
        unit=scope,
        uploaded_by=actor,
    )
    # A server-chosen, unguessable name; the extension follows the content (an .xlsx is a zip).
    file.seek(0)
    extension = "xlsx" if file.read(4) == b"PK\x03\x04" else "csv"
    file.seek(0)
    batch.file.save(random_name(extension), File(file), save=False)
    batch.save()
    return batch


def upload_caseload(*, file: Any, actor: User) -> ImportBatch:
    """Keep an uploaded caseload file and queue its check; nothing of the caseload is written."""
    scope = import_scope(actor)
    batch = store_upload(
        file=file, kind=ImportBatch.Kind.CASELOAD, header=HEADER, actor=actor, scope=scope
    )
    transaction.on_commit(lambda: preview_import_batch.delay(batch.pk))
    return batch


def set_progress(batch_id: int, fraction: float) -> None:
    # The cache, not the row: the import's transaction hides row updates until it commits.
    cache.set(f"imports:progress:{batch_id}", int(fraction * 100), PROGRESS_TTL)


def progress_of(batch: ImportBatch) -> int:
    if batch.state in (ImportBatch.State.CHECKING, ImportBatch.State.IMPORTING):
        return int(cache.get(f"imports:progress:{batch.pk}", 0))
    return 100


@shared_task(name="disbursement.tasks.preview_import_batch")
def preview_import_batch(batch_id: int) -> None:
    """Check an uploaded caseload file and store its preview; writes nothing else."""
    preview_batch(batch_id)


def preview_batch(batch_id: int) -> ImportBatch:
    """Check a kept caseload file and store the preview: counts and every bad row."""
    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.state != ImportBatch.State.CHECKING:
        return batch
    try:
        with batch.file.open("rb") as source:
            check = check_caseload(
                source,
                scope=batch.unit,
                size=batch.size,
                progress=lambda f: set_progress(batch.pk, f),
            )
    except TableError as error:
        return _fail(batch, str(error))
    batch.preview = check.counts()
    batch.preview["already_imported"] = _already_imported(batch)
    batch.errors = check.errors
    batch.error_total = check.error_total
    batch.state = ImportBatch.State.PREVIEWED
    batch.progress = 100
    batch.save(update_fields=["preview", "errors", "error_total", "state", "progress"])
    return batch


def _already_imported(batch: ImportBatch) -> str:
    earlier = (
        ImportBatch.objects.filter(sha256=batch.sha256, state=ImportBatch.State.IMPORTED)
        .exclude(pk=batch.pk)
        .order_by("-imported_at")
        .first()
    )
    return timezone.localtime(earlier.imported_at).strftime("%Y-%m-%d %H:%M") if earlier else ""


def confirm_caseload(*, batch: ImportBatch, actor: User) -> ImportBatch:
    """The clerk confirms a previewed file: the import is queued (run at once when eager)."""
    scope = import_scope(actor)
    if scope is not None and batch.unit_id != scope.pk:
        raise NotAllowed("只能导入本单位上传的文件。")
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.state != ImportBatch.State.PREVIEWED:
            raise Conflict(f"该文件当前状态为“{locked.get_state_display()}”，不能确认导入。")
        locked.state = ImportBatch.State.IMPORTING
        locked.imported_by = actor
        locked.save(update_fields=["state", "imported_by"])
        set_progress(locked.pk, 0)
        transaction.on_commit(lambda: run_import_batch.delay(locked.pk))
    return locked


@shared_task(name="disbursement.tasks.run_import_batch")
def run_import_batch(batch_id: int) -> None:
    """Import a confirmed caseload file in one transaction; returns early if already done."""
    run_import(batch_id)


def run_import(batch_id: int) -> ImportBatch:
    """Import a confirmed batch; any failure leaves nothing written and says why."""
    batch = ImportBatch.objects.select_related("imported_by", "unit").get(pk=batch_id)
    if batch.state != ImportBatch.State.IMPORTING:
        return batch
    try:
        result = import_caseload(
            open_source=lambda: batch.file.open("rb"),
            file_name=batch.file_name,
            sha256=batch.sha256,
            batch_id=batch.pk,
            scope=batch.unit,
            actor=batch.imported_by,
            progress=lambda f: set_progress(batch.pk, f),
        )
    except (TableError, DomainError) as error:
        return _fail(batch, getattr(error, "message", None) or str(error))
    except Exception:
        logger.exception("caseload import %s failed", batch.pk)
        return _fail(batch, "导入时发生系统错误，未写入任何数据；请联系系统管理员。")
    batch.counts = result.counts
    batch.errors = result.errors
    batch.error_total = result.error_total
    batch.state = ImportBatch.State.IMPORTED
    batch.imported_at = timezone.now()
    batch.progress = 100
    batch.save(
        update_fields=["counts", "errors", "error_total", "state", "imported_at", "progress"]
    )
    return batch


def _fail(batch: ImportBatch, message: str) -> ImportBatch:
    batch.state = ImportBatch.State.FAILED
    batch.message = message[:500]
    batch.save(update_fields=["state", "message"])
    return batch


def batches_visible_to(user: User):
    """Batches a user may see: all for county importers, else those of their unit."""
    try:
        scope = import_scope(user)
    except NotAllowed:
        if user.has_role(Role.ADMINISTRATOR):
            return ImportBatch.objects.all()
        return ImportBatch.objects.none()
    if scope is None:
        return ImportBatch.objects.all()
    return ImportBatch.objects.filter(unit=scope)
