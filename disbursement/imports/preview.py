"""The caseload preview: every row read and checked, one small tally per household, and
nothing written (`check_caseload`, run by the preview task).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, BinaryIO

from celery import shared_task
from django.core.cache import cache
from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.models import Unit
from cases.models import (
    Area,
    Case,
    Household,
    Kind,
    Person,
    Relation,
    StandardKind,
    State,
)
from dengkou_aid.lib.spreadsheets import TableError
from disbursement.models import (
    ImportBatch,
    ReviewRule,
)

from .reading import CARE_STANDARDS, Lookups, Member, Progress, RowError, open_table, parse_row

if TYPE_CHECKING:
    from .write import Stage


MAX_ERRORS_KEPT = 2000
LOOKUP_CHUNK = 1000


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


PROGRESS_TTL = 6 * 3600


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


def _fail(batch: ImportBatch, message: str) -> ImportBatch:
    batch.state = ImportBatch.State.FAILED
    batch.message = message[:500]
    batch.save(update_fields=["state", "message"])
    return batch
