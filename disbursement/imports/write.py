"""The caseload write: `import_caseload` checks again inside one transaction, then writes the
households whose rows were all good: set-based on PostgreSQL (the check stages new households
in a temporary table, a few INSERT … SELECT statements write every table), else by the
model `Writer`; households seen before change only through recorded services.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any, BinaryIO

from celery import shared_task
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Role, Unit, User
from cases.deadlines.calendar import first_payable_month
from cases.events import case_number, locked_case, locked_case_counter, record_event
from cases.models import (
    Case,
    CaseEvent,
    CaseNumberCounter,
    CountyRules,
    Household,
    Outcome,
    Person,
    Relation,
    State,
    WorkAbility,
)
from dengkou_aid.errors import DomainError
from dengkou_aid.lib.bulk import copy_rows, insert_select, sequence_of
from dengkou_aid.lib.crypto import encrypt, keyed_hash
from dengkou_aid.lib.masking import mask_account
from dengkou_aid.lib.spreadsheets import TableError
from disbursement.models import (
    ChangeKind,
    ChangeSource,
    Entitlement,
    EntitlementChange,
    ImportBatch,
    ReviewSchedule,
    category_for,
)
from disbursement.reviews.schedule import add_months_to_day, months_for
from disbursement.services import adjust_entitlement

from .preview import Check, Existing, Tally, _fail, check_caseload, review_rule, set_progress
from .reading import (
    Lookups,
    Member,
    Progress,
    _account_kind,
    _birth_date,
    _sex,
    open_table,
    parse_row,
)

IMPORT_ACTION = "imported"
IMPORT_LABEL = "存量导入"
WRITE_BATCH = 1000
STAGE_BATCH = 2000
ANALYZE_AFTER = 1000  # new households: enough to change the written tables' statistics
logger = logging.getLogger(__name__)


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
