"""Reading a caseload file: its header and template, and each row parsed and validated.

Part of the caseload import (see caseload.py); imports no other part of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO

from accounts.models import Unit, Village
from cases.models import (
    Area,
    CareTier,
    Kind,
    PolicyStandard,
    Relation,
    Sex,
    StandardKind,
)
from dengkou_aid.errors import DomainError
from dengkou_aid.lib.crypto import keyed_hash
from dengkou_aid.lib.idnumber import InvalidIdNumber, validate_id_number
from dengkou_aid.lib.spreadsheets import Sheet, overflow_reason, read_table, write_xlsx
from disbursement.models import (
    AccountKind,
)
from disbursement.services import clean_account_number

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

Progress = Callable[[float], None]


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


def open_table(source: str | BinaryIO) -> Iterator[tuple[int, dict[str, str]]]:
    """Open the table; a wrong type, header, size or an empty file raises TableError now."""
    return read_table(source, HEADER)


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
