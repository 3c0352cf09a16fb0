"""County comparison runs (核查比对): other agencies' data matched against members in payment.

The county verification officer imports a CSV (UTF-8 or GBK) or .xlsx file with one row
per finding. ID numbers are matched by keyed hash, in batches, to members of households in
payment; each match becomes a finding, with a review (or, for a death, a change report for
the handler to confirm) where warranted. Rows that match nobody and rows that cannot be read
are kept with their line numbers. The file's SHA-256 makes a second import of the same file
return the first run; the whole import is one transaction, so nothing is half-written.
Memory stays flat: rows are streamed and parsed in Python, copied 5,000 at a time into a
temporary table, and matched and written with a few set-based statements.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import BinaryIO

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.notify import notify, staff_with_role
from cases.models import Household, Person
from dengkou_aid.errors import DomainError, NotAllowed
from dengkou_aid.lib.crypto import keyed_hash
from dengkou_aid.lib.idnumber import InvalidIdNumber, mask_id_number, validate_id_number
from dengkou_aid.lib.spreadsheets import TableError, overflow_reason, read_table
from disbursement import services
from disbursement.models import (
    OPEN_REVIEW_STATES,
    ChangeReport,
    ChangeReportKind,
    ChangeReportState,
    ComparisonFinding,
    ComparisonIssue,
    ComparisonRun,
    Entitlement,
    FindingKind,
    Review,
    ReviewState,
    ReviewTrigger,
)

from . import services as reviews

BATCH = 5000
HEADER = ("身份证号", "数据来源部门", "比对类型", "内容/金额", "日期")
KIND_WORDS = {
    **{value: value for value in FindingKind.values},
    **{label: value for value, label in FindingKind.choices},
    "房产": FindingKind.REAL_ESTATE,
    "不动产登记": FindingKind.REAL_ESTATE,
    "工商": FindingKind.BUSINESS,
    "经营": FindingKind.BUSINESS,
    "工资": FindingKind.SALARY,
    "社保": FindingKind.SALARY,
    "社保缴费": FindingKind.SALARY,
    "机动车": FindingKind.VEHICLE,
}
# Findings that call the household's entitlement into question; "other" is kept as a record.
REVIEW_KINDS = (
    FindingKind.VEHICLE,
    FindingKind.REAL_ESTATE,
    FindingKind.BUSINESS,
    FindingKind.SALARY,
)
_DATE = re.compile(r"(\d{4})[-/.年]?(\d{1,2})[-/.月]?(\d{1,2})日?")


@dataclass
class Row:
    line: int
    id_hash: str
    id_masked: str
    agency: str
    kind: str
    value: str
    found_on: date | None
    key: str


def can_import(user: User) -> bool:
    return user.is_county_staff and user.has_role(Role.VERIFICATION_OFFICER)


def file_sha256(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    stream.seek(0)
    while chunk := stream.read(1 << 16):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def import_comparison(
    *, stream: BinaryIO, file_name: str, actor: User
) -> tuple[ComparisonRun, bool]:
    """Import a comparison file once; returns (run, created). The same file returns its first run."""
    if not can_import(actor):
        raise NotAllowed("核查比对结果须由县核对中心核对员导入。")
    sha = file_sha256(stream)
    existing = ComparisonRun.objects.filter(sha256=sha).first()
    if existing is not None:
        return existing, False
    try:
        rows = read_table(stream, HEADER)
    except TableError as error:
        raise DomainError(str(error), field="file") from None
    try:
        with transaction.atomic():
            run = ComparisonRun.objects.create(
                file_name=(file_name or "比对文件")[:200], sha256=sha, imported_by=actor
            )
            _import_rows(run, rows)
    except IntegrityError:
        # Someone imported the same file at the same moment: theirs stands.
        return ComparisonRun.objects.get(sha256=sha), False
    except TableError as error:
        raise DomainError(f"{error}；整个文件未导入，请修改后重新上传。", field="file") from None
    transaction.on_commit(lambda: _tell_units(run.pk))
    return run, True


def _import_rows(run: ComparisonRun, rows: Iterator[tuple[int, dict[str, str]]]) -> None:
    _import_rows_in_sql(run, rows)
    run.review_count = (
        Review.objects.filter(findings__run=run).values("household_id").distinct().count()
    )
    run.save(
        update_fields=[
            "row_count",
            "matched_count",
            "unmatched_count",
            "malformed_count",
            "review_count",
        ]
    )


# --- The rows are copied into a temporary table and matched set-based ---------------------


def _import_rows_in_sql(run: ComparisonRun, rows: Iterator[tuple[int, dict[str, str]]]) -> None:
    """Parse in Python (streaming, BATCH rows at a time), COPY into a temporary table, then
    find repeats, match members and write issues, reviews, death reports and findings with
    a few statements. The caller's transaction holds it all: nothing is half-written."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(
            """CREATE TEMPORARY TABLE comparison_row (
                   line integer PRIMARY KEY, reason text, id_hash text, id_masked text,
                   agency text, kind text, value text, found_on date, row_key text
               ) ON COMMIT DROP"""
        )
        today = timezone.localdate()
        batch = io.StringIO()
        count = 0
        for line, values in rows:
            batch.write(_copy_line(line, values, today))
            count += 1
            if count % BATCH == 0:
                _copy_rows(cursor, batch)
                batch = io.StringIO()
        _copy_rows(cursor, batch)
        run.row_count = count
        cursor.execute("ANALYZE comparison_row")
        _match_in_sql(cursor, run, today)
        # Dropped now, not only at commit: the import may run inside a larger transaction.
        cursor.execute("DROP TABLE comparison_row, comparison_match")


def _copy_line(line: int, values: dict[str, str], today: date) -> str:
    row = parse_row(line, values, today=today)
    if isinstance(row, str):
        fields = [
            str(line),
            row[:200],
            None,
            mask_id_number(values.get("身份证号", ""))[:30],
            values.get("数据来源部门", "")[:100],
            values.get("比对类型", "")[:40],
            None,
            None,
            None,
        ]
    else:
        found_on = row.found_on.isoformat() if row.found_on else None
        fields = [
            str(line),
            None,
            row.id_hash,
            row.id_masked,
            row.agency,
            row.kind,
            row.value,
            found_on,
            row.key,
        ]
    return "\t".join(_copy_text(field) for field in fields) + "\n"


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": ""})


def _copy_text(value: str | None) -> str:
    return r"\N" if value is None else value.translate(_COPY_ESCAPES)


def _copy_rows(cursor, batch: io.StringIO) -> None:
    if batch.tell():
        batch.seek(0)
        cursor.copy_expert("COPY comparison_row FROM STDIN", batch)


def _match_in_sql(cursor, run: ComparisonRun, today: date) -> None:
    params = {
        "run": run.pk,
        "month": services.month_start(today),
        "today": today,
        "now": timezone.now(),
        "actor": run.imported_by_id,
        "file": run.file_name,
        "open": list(OPEN_REVIEW_STATES),
        "review_kinds": list(REVIEW_KINDS),
        "death": FindingKind.DEATH,
        "unmatched": ComparisonIssue.Kind.UNMATCHED,
        "malformed": ComparisonIssue.Kind.MALFORMED,
    }
    # A row repeating an earlier readable row of the file is reported, not imported twice.
    cursor.execute(
        """UPDATE comparison_row r SET reason = '与第' || d.first || '行重复'
           FROM (SELECT line, min(line) OVER (PARTITION BY row_key) AS first
                 FROM comparison_row WHERE reason IS NULL) d
           WHERE d.line = r.line AND d.first < r.line"""
    )
    # Members of households in payment (one member per ID number, the earliest recorded).
    cursor.execute(
        f"""CREATE TEMPORARY TABLE comparison_match ON COMMIT DROP AS
            SELECT DISTINCT ON (r.line) r.line, p.id AS person_id, p.household_id,
                   h.unit_id, NULL::bigint AS report_id
            FROM comparison_row r
            JOIN {Person._meta.db_table} p ON p.id_hash = r.id_hash AND p.left_on IS NULL
            JOIN {Household._meta.db_table} h ON h.id = p.household_id
            WHERE r.reason IS NULL AND EXISTS (
                SELECT 1 FROM {Entitlement._meta.db_table} e
                WHERE e.household_id = p.household_id
                  AND (e.end_month IS NULL OR e.end_month >= %(month)s))
            ORDER BY r.line, p.id""",
        params,
    )
    cursor.execute("ALTER TABLE comparison_match ADD PRIMARY KEY (line)")
    cursor.execute("ANALYZE comparison_match")
    cursor.execute(
        f"""INSERT INTO {ComparisonIssue._meta.db_table}
                (run_id, line, kind, row_key, reason, id_masked, source_agency, finding_kind)
            SELECT %(run)s, r.line, %(malformed)s, '', r.reason, r.id_masked, left(r.agency, 100),
                   r.kind
            FROM comparison_row r WHERE r.reason IS NOT NULL
            UNION ALL
            SELECT %(run)s, r.line, %(unmatched)s, r.row_key, '未匹配到在保家庭成员', r.id_masked,
                   left(r.agency, 100), r.kind
            FROM comparison_row r
            WHERE r.reason IS NULL
              AND NOT EXISTS (SELECT 1 FROM comparison_match m WHERE m.line = r.line)
            ORDER BY 2""",
        params,
    )
    _open_reviews_in_sql(cursor, params)
    _death_reports_in_sql(cursor, params)
    # Every finding on a household called into question points at its review under way.
    cursor.execute(
        f"""INSERT INTO {ComparisonFinding._meta.db_table}
                (run_id, line, row_key, person_id, household_id, unit_id, source_agency, kind,
                 value, found_on, review_id, change_report_id)
            WITH questioned AS MATERIALIZED (
                SELECT DISTINCT m.household_id FROM comparison_match m
                JOIN comparison_row r ON r.line = m.line WHERE r.kind = ANY(%(review_kinds)s)
            )
            SELECT %(run)s, r.line, r.row_key, m.person_id, m.household_id, m.unit_id,
                   left(r.agency, 100), r.kind, r.value, r.found_on, v.id, m.report_id
            FROM comparison_match m
            JOIN comparison_row r ON r.line = m.line
            LEFT JOIN questioned q ON q.household_id = m.household_id
            LEFT JOIN {Review._meta.db_table} v
                   ON v.household_id = q.household_id AND v.state = ANY(%(open)s)
            ORDER BY r.line""",
        params,
    )
    cursor.execute(
        """SELECT count(*) FILTER (WHERE r.reason IS NOT NULL),
                  count(*) FILTER (WHERE r.reason IS NULL AND m.line IS NOT NULL),
                  count(*) FILTER (WHERE r.reason IS NULL AND m.line IS NULL)
           FROM comparison_row r LEFT JOIN comparison_match m ON m.line = r.line"""
    )
    run.malformed_count, run.matched_count, run.unmatched_count = cursor.fetchone()


def _open_reviews_in_sql(cursor, params: dict) -> None:
    """A review (with a new check) for each household called into question that has none
    under way, from its latest entitlement in payment. The households' reviews under way
    are read before the insert (see `reviews._open_due_reviews_in_sql`)."""
    reviews.hold_review_opening_lock()
    columns = ", ".join(connection.ops.quote_name(c) for c in reviews.REVIEW_COLUMNS)
    cursor.execute(
        f"""INSERT INTO {Review._meta.db_table} ({columns})
            WITH questioned AS MATERIALIZED (
                SELECT DISTINCT m.household_id FROM comparison_match m
                JOIN comparison_row r ON r.line = m.line WHERE r.kind = ANY(%(review_kinds)s)
            ), under_way AS MATERIALIZED (
                SELECT v.household_id FROM {Review._meta.db_table} v
                JOIN questioned q ON q.household_id = v.household_id
                WHERE v.state = ANY(%(open)s)
            )
            SELECT DISTINCT ON (e.household_id)
                   e.id, e.case_id, e.household_id, e.unit_id, e.village_id, %(trigger)s,
                   %(today)s, %(today)s, %(state)s, 0, true, '[]', '', '{{}}', '', '', false, '',
                   %(now)s, %(now)s
            FROM {Entitlement._meta.db_table} e
            JOIN questioned q ON q.household_id = e.household_id
            WHERE (e.end_month IS NULL OR e.end_month >= %(month)s)
              AND NOT EXISTS (SELECT 1 FROM under_way u WHERE u.household_id = e.household_id)
            ORDER BY e.household_id, e.start_month DESC, e.id DESC
            ON CONFLICT DO NOTHING""",
        {**params, "trigger": ReviewTrigger.COMPARISON, "state": ReviewState.OPEN},
    )


def _death_reports_in_sql(cursor, params: dict) -> None:
    """A death found by another agency becomes a change report for the handler to confirm;
    its id is drawn first so that the finding can point at it."""
    table = ChangeReport._meta.db_table
    cursor.execute(
        f"""UPDATE comparison_match m
            SET report_id = nextval(pg_get_serial_sequence('{table}', 'id'))
            FROM comparison_row r WHERE r.line = m.line AND r.kind = %(death)s""",
        params,
    )
    cursor.execute(
        f"""INSERT INTO {table}
                (id, household_id, member_id, unit_id, village_id, kind, details, occurred_on,
                 reported_on, reported_by_id, state, decision, created_at)
            SELECT m.report_id, m.household_id, m.person_id, e.unit_id, e.village_id, %(kind)s,
                   rtrim('核查比对（' || %(file)s || '第' || r.line || '行）：' || r.agency
                         || '报告死亡 ' || r.value),
                   r.found_on, %(today)s, %(actor)s, %(new)s, '', %(now)s
            FROM comparison_match m
            JOIN comparison_row r ON r.line = m.line
            JOIN LATERAL (
                SELECT unit_id, village_id FROM {Entitlement._meta.db_table}
                WHERE household_id = m.household_id
                ORDER BY start_month DESC, id DESC LIMIT 1
            ) e ON true
            WHERE m.report_id IS NOT NULL
            ORDER BY m.report_id""",
        {**params, "kind": ChangeReportKind.DEATH, "new": ChangeReportState.NEW},
    )


def parse_row(line: int, values: dict[str, str], *, today: date | None = None) -> Row | str:
    """A readable row, or the reason it is not."""
    if reason := overflow_reason(values):
        return reason
    raw_id = values.get("身份证号", "")
    try:
        id_number = validate_id_number(raw_id, today=today)
    except InvalidIdNumber as error:
        return f"身份证号无效：{error}"
    agency = values.get("数据来源部门", "").strip()
    if not agency:
        return "缺少数据来源部门"
    kind = KIND_WORDS.get(values.get("比对类型", "").strip())
    if kind is None:
        return f"比对类型“{values.get('比对类型', '')[:20]}”无法识别（应为死亡、车辆、不动产、工商登记、工资/社保缴费或其他）"
    value = values.get("内容/金额", "").strip()
    if len(value) > 200:
        return "内容/金额超过200字"
    found_on = None
    if values.get("日期", "").strip():
        found_on = parse_date(values["日期"])
        if found_on is None:
            return f"日期“{values['日期'][:20]}”无效（应为如2026-11-01）"
    id_hash = keyed_hash(id_number)
    key = hashlib.sha1(
        "\x1f".join([id_hash, agency, kind, value, str(found_on or "")]).encode()
    ).hexdigest()
    return Row(line, id_hash, mask_id_number(id_number), agency, kind, value, found_on, key)


def parse_date(text: str) -> date | None:
    text = text.strip()
    match = _DATE.fullmatch(text[:10]) or _DATE.fullmatch(text)
    if match is None:
        try:
            return datetime.fromisoformat(text).date()
        except ValueError:
            return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _tell_units(run_id: int) -> None:
    run = ComparisonRun.objects.get(pk=run_id)
    units = run.findings.values_list("unit_id", flat=True).distinct().order_by()
    for unit_id in units:
        count = run.findings.filter(unit_id=unit_id).count()
        for user in staff_with_role(Role.HANDLER, unit_id=unit_id):
            notify(
                user,
                key=f"comparison:{run.pk}:{unit_id}",
                title=f"核查比对发现本单位{count}条在保对象信息，请核实",
                url=f"/reviews/comparisons/{run.pk}/",
            )
