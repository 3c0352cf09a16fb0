"""Excel and PDF of rosters, the county summary and the yearly plan; background export jobs.

Excel is streamed (openpyxl write-only, lines read with a server-side iterator), so memory
stays flat whatever the size. Account numbers are masked unless the job was asked for by the
county finance role, and every export with whole numbers is written to the audit log.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from celery import shared_task
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from accounts.audit import record
from accounts.models import AuditLog, User
from dengkou_aid.errors import DomainError
from dengkou_aid.lib.pdf import render_pdf
from dengkou_aid.lib.spreadsheets import Sheet, write_xlsx
from dengkou_aid.lib.stored_names import stored_name

from .models import (
    AccountKind,
    CareTier,
    Category,
    ExportJob,
    FundDemandPlan,
    PaymentRoster,
    RosterLine,
    RosterState,
)
from .services import ZERO, valid_signatures

LINE_HEADER = ("序号", "嘎查村/社区", "户名", "类别", "账户类型", "开户银行", "账号", "金额（元）")
SUMMARY_HEADER = ("单位", "清册", "状态", "类别", "户数", "金额（元）")
CATEGORY_LABELS = dict(Category.choices)
ACCOUNT_LABELS = dict(AccountKind.choices)
PROGRESS_EVERY = 5000

Progress = Callable[[int], None]


def county_rosters(month: date) -> list[PaymentRoster]:
    """The month's rosters the units have submitted, by unit code: never a draft or a discarded one."""
    return list(
        PaymentRoster.objects.filter(month=month)
        .submitted()
        .select_related("unit")
        .order_by("unit__code", "id")
    )


def _line_rows(
    roster: PaymentRoster, *, full_accounts: bool, progress: Progress | None
) -> Iterator[list[Any]]:
    account = "account_number" if full_accounts else "account_masked"
    lines = (
        RosterLine.objects.filter(roster=roster)
        .order_by("village_id", "id")
        .values_list(
            "village__name",
            "holder_name",
            "category",
            "account_kind",
            "bank_name",
            account,
            "amount",
        )
        .iterator(chunk_size=2000)
    )
    # One transaction per sheet: the server-side cursor then streams rather than being
    # materialized WITH HOLD, and the progress shows after each sheet.
    with transaction.atomic():
        yield from _numbered(lines, progress)


def _numbered(lines: Iterator[tuple], progress: Progress | None) -> Iterator[list[Any]]:
    for index, (village, holder, category, kind, bank, number, amount) in enumerate(lines, 1):
        if progress is not None and index % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
        yield [
            index,
            village,
            holder,
            CATEGORY_LABELS.get(category, category),
            ACCOUNT_LABELS.get(kind, kind),
            bank,
            number,
            amount,
        ]


def _subtotal_rows(roster: PaymentRoster) -> list[list[Any]]:
    rows = (
        roster.lines.values("category")
        .annotate(n=Count("id"), s=Sum("amount"))
        .order_by("category")
    )
    return [
        [],
        *(
            [None, "小计", CATEGORY_LABELS[r["category"]], f"{r['n']}户", None, None, None, r["s"]]
            for r in rows
        ),
    ]


def _roster_title(roster: PaymentRoster) -> str:
    suffix = "" if roster.kind == "regular" else f"-补发{roster.pk}"
    return f"{roster.unit.name}{suffix}"


def _summary_rows(rosters: list[PaymentRoster]) -> tuple[list[list[Any]], Decimal, int]:
    totals = (
        RosterLine.objects.filter(roster__in=rosters)
        .values("roster_id", "category")
        .annotate(n=Count("id"), s=Sum("amount"))
        .order_by("roster_id", "category")
    )
    by_roster: dict[int, list[dict]] = {}
    for row in totals:
        by_roster.setdefault(row["roster_id"], []).append(row)
    rows, amount, count = [], ZERO, 0
    for roster in rosters:
        for row in by_roster.get(roster.pk, []):
            rows.append(
                [
                    roster.unit.name,
                    roster.get_kind_display(),
                    roster.get_state_display(),
                    CATEGORY_LABELS[row["category"]],
                    row["n"],
                    row["s"],
                ]
            )
            amount += row["s"]
            count += row["n"]
    return rows, amount, count


def write_rosters_xlsx(
    target: Any,
    rosters: list[PaymentRoster],
    *,
    full_accounts: bool,
    progress: Progress | None = None,
) -> tuple[int, Decimal]:
    """A summary sheet, then one sheet per roster with its lines, subtotals and total."""
    summary, amount, count = _summary_rows(rosters)
    sheets = [
        Sheet(
            title="汇总",
            header=SUMMARY_HEADER,
            rows=summary,
            totals_row=["合计", None, None, None, count, amount],
            column_widths=[36, 12, 12, 28, 10, 16],
        )
    ]
    for roster in rosters:
        sheets.append(
            Sheet(
                title=_roster_title(roster),
                header=LINE_HEADER,
                rows=_chain(
                    _line_rows(roster, full_accounts=full_accounts, progress=progress),
                    _subtotal_rows(roster),
                ),
                totals_row=[
                    "合计",
                    None,
                    None,
                    f"{roster.line_count}户",
                    None,
                    None,
                    None,
                    roster.total_amount,
                ],
                column_widths=[8, 20, 12, 28, 14, 24, 24, 14],
            )
        )
    write_xlsx(target, sheets)
    return count, amount


def _chain(*parts):
    for part in parts:
        yield from part


def roster_pdf(roster: PaymentRoster, *, full_accounts: bool = False) -> bytes:
    """The roster as printed for signature: header, lines, subtotals, the three signatures."""
    from .selectors import subtotals

    account = "account_number" if full_accounts else "account_masked"
    lines = (
        roster.lines.order_by("village_id", "id")
        .values_list("village__name", "holder_name", "category", "bank_name", account, "amount")
        .iterator(chunk_size=2000)
    )
    rows = [
        (i, v, h, CATEGORY_LABELS.get(c, c), b, a, amt)
        for i, (v, h, c, b, a, amt) in enumerate(lines, 1)
    ]
    return render_pdf(
        "disbursement/pdf/roster.html",
        {
            "title": f"{roster.unit.name}{roster.month:%Y年%m月}资金发放清册",
            "header": f"{roster.unit.name} · {roster.month:%Y年%m月} · {roster.get_kind_display()}",
            "roster": roster,
            "rows": rows,
            "subtotals": subtotals(roster),
            "signatures": list(valid_signatures(roster).order_by("signed_at")),
            "printed_at": timezone.localtime(),
        },
    )


def county_pdf(month: date) -> bytes:
    """The county's month summary (请款汇总) per unit and category, with a signature block."""
    rosters = county_rosters(month)
    summary, amount, count = _summary_rows(rosters)
    return render_pdf(
        "disbursement/pdf/county.html",
        {
            "title": f"磴口县{month:%Y年%m月}社会救助资金请款汇总表",
            "header": f"磴口县民政局 · {month:%Y年%m月}资金请款汇总",
            "rows": summary,
            "amount": amount,
            "count": count,
            "printed_at": timezone.localtime(),
        },
    )


def write_plan_xlsx(target: Any, year: int) -> None:
    lines = (
        FundDemandPlan.objects.filter(year=year)
        .select_related("unit")
        .order_by("unit__code", "category")
    )
    rows = [
        [
            line.unit.name,
            CATEGORY_LABELS[line.category],
            line.current_count,
            line.current_monthly,
            line.new_per_month,
            line.stopped_per_month,
            line.standard_factor,
            line.projected_amount,
            line.adjusted_amount,
            line.final_amount,
            line.adjustment_note,
        ]
        for line in lines
    ]
    total = sum((line.final_amount for line in lines), ZERO)
    write_xlsx(
        target,
        [
            Sheet(
                title=f"{year}年资金需求计划",
                header=(
                    "单位",
                    "类别",
                    "现保障户数",
                    "现月发放额",
                    "月均新增",
                    "月均停发",
                    "标准调整系数",
                    "测算需求（元）",
                    "县局调整（元）",
                    "计划需求（元）",
                    "调整说明",
                ),
                rows=rows,
                totals_row=["合计", None, None, None, None, None, None, None, None, total, None],
            )
        ],
    )


# --- Background jobs ---------------------------------------------------------------------


def request_export(
    *,
    kind: str,
    actor: User,
    roster: PaymentRoster | None = None,
    month: date | None = None,
    year: int | None = None,
) -> ExportJob:
    """Queue an export; whole account numbers only for the county finance role."""
    from .selectors import is_county_finance, sees_full_accounts

    county_kinds = (ExportJob.Kind.COUNTY_XLSX, ExportJob.Kind.COUNTY_PDF, ExportJob.Kind.PLAN_XLSX)
    if kind in county_kinds and not is_county_finance(actor):
        raise DomainError("全县汇总和需求计划仅限县民政局导出。", field="kind")
    if kind in (ExportJob.Kind.ROSTER_XLSX, ExportJob.Kind.ROSTER_PDF) and roster is None:
        raise DomainError("请选择清册。", field="roster")
    job = ExportJob.objects.create(
        kind=kind,
        roster=roster,
        month=month,
        year=year,
        full_accounts=sees_full_accounts(actor) and kind != ExportJob.Kind.PLAN_XLSX,
        requested_by=actor,
    )
    transaction.on_commit(lambda: run_export.delay(job.pk))
    return job


@shared_task(name="disbursement.tasks.run_export")
def run_export(job_id: int) -> None:
    """The worker's side of `request_export` (registered under its old name in tasks.py)."""
    run_export_job(job_id)


def run_export_job(job_id: int) -> ExportJob:
    """Produce the job's file under MEDIA_ROOT, updating its progress; idempotent."""
    job = ExportJob.objects.select_related("roster__unit", "requested_by").get(pk=job_id)
    if job.state == ExportJob.State.DONE:
        return job
    ExportJob.objects.filter(pk=job.pk).update(state=ExportJob.State.RUNNING, progress=1)
    try:
        _name, content_count = _produce(job)
    except Exception as error:  # the page shows the failure; the worker log keeps the trace
        ExportJob.objects.filter(pk=job.pk).update(
            state=ExportJob.State.FAILED, error=str(error)[:300], finished_at=timezone.now()
        )
        raise
    if job.full_accounts and content_count:
        record(
            AuditLog.Action.SENSITIVE_READ,
            user=job.requested_by,
            obj=job.roster or job,
            detail=f"导出含完整账号的{job.get_kind_display()}，共{content_count}条",
        )
    job.refresh_from_db()
    return job


def _produce(job: ExportJob) -> tuple[str, int]:
    if job.kind == ExportJob.Kind.ROSTER_PDF:
        data = roster_pdf(job.roster, full_accounts=job.full_accounts)
        return _finish(job, _filename(job, "pdf"), ContentFile(data)), job.roster.line_count
    if job.kind == ExportJob.Kind.COUNTY_PDF:
        return _finish(job, _filename(job, "pdf"), ContentFile(county_pdf(job.month))), 0
    if job.kind == ExportJob.Kind.PLAN_XLSX:
        return _stream_to_file(job, lambda target: write_plan_xlsx(target, job.year)), 0
    rosters = [job.roster] if job.kind == ExportJob.Kind.ROSTER_XLSX else county_rosters(job.month)
    total = max(1, sum(r.line_count for r in rosters))
    done = [0]

    def progress(step: int) -> None:
        done[0] += step
        ExportJob.objects.filter(pk=job.pk).update(progress=min(99, 1 + 98 * done[0] // total))

    name = _stream_to_file(
        job,
        lambda target: write_rosters_xlsx(
            target, rosters, full_accounts=job.full_accounts, progress=progress
        ),
    )
    return name, sum(r.line_count for r in rosters) if job.full_accounts else 0


def _stream_to_file(job: ExportJob, write: Callable[[Any], Any]) -> str:
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        write(path)
        with open(path, "rb") as stream:
            return _finish(job, _filename(job, "xlsx"), File(stream))
    finally:
        os.unlink(path)


def _finish(job: ExportJob, name: str, content: File) -> str:
    job.file.save(name, content, save=False)
    ExportJob.objects.filter(pk=job.pk).update(
        file=job.file.name, state=ExportJob.State.DONE, progress=100, finished_at=timezone.now()
    )
    return job.file.name


def _filename(job: ExportJob, ext: str) -> str:
    # Server-chosen and unguessable: a county export holds whole account numbers.
    return stored_name(ext)


def download_name(job: ExportJob) -> str:
    """The readable name a finished export is saved under (the stored name is a token)."""
    ext = job.file.name.rsplit(".", 1)[-1] if job.file else "xlsx"
    if job.roster is not None:
        roster = job.roster
        return f"{roster.unit.name}-{roster.month:%Y年%m月}-{roster.get_kind_display()}清册.{ext}"
    if job.year:
        return f"{job.year}年度资金需求计划.{ext}"
    return f"全县-{job.month:%Y年%m月}-发放汇总.{ext}"


__all__ = ["CareTier", "RosterState"]
