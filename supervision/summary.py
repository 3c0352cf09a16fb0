"""The dashboard's summary figures: counted once into a few thousand rows, summed on each view.

The caseload, the decisions, applications and stops per month, the on-time rate and the
month's payments are aggregates over every case and entitlement: at a million cases each is
a scan of a million rows, a second or more, however it is indexed. So `refresh` counts them
in one transaction into `DashboardTally` rows (one per unit, kind and state, or per unit, kind,
day, outcome and on-time flag, ...), and the dashboard sums those rows, which is exact for the
records as they stood at `DashboardSnapshot.computed_at`; the page shows that time.

A snapshot is refreshed by the nightly system checks, by a county supervisor on the page, and
whenever the dashboard finds none, one for another month, or one older than `MAX_AGE`. The
figures a supervisor acts on the same day (running cases overdue or soon due, open findings
and rectifications) are not taken from it: they are read live from small indexed sets.

Counters kept current by database triggers on every case change were the alternative; they
would add a write and a lock on a shared counter row to every transition of the case workflow,
in two SQL dialects, for figures that a supervisory dashboard reads by the month.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, DateField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from accounts.access import Scope
from cases.models import Case, CaseEvent, State
from dengkou_aid.lib.queries import no_jit

from .models import DashboardSnapshot, DashboardTally

Figure = DashboardTally.Figure
MAX_AGE = timedelta(hours=26)


def _insert(
    snapshot: DashboardSnapshot, figure: str, columns: dict[str, str], rows: QuerySet
) -> None:
    """INSERT the grouped rows of `rows` (a values().annotate(), whose SELECT names each
    column) as tallies: each selected name into the tally column `columns` maps it to."""
    sql, params = rows.query.sql_with_params()
    quote = connection.ops.quote_name
    table = quote(DashboardTally._meta.db_table)
    targets = ", ".join(quote(c) for c in ["snapshot_id", "figure", *columns.values()])
    sources = ", ".join(f"grouped.{quote(name)}" for name in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({targets}) SELECT %s, %s, {sources} FROM ({sql}) grouped",
            [snapshot.pk, figure, *params],
        )


@transaction.atomic
def refresh(month: date | None = None) -> DashboardSnapshot:
    """Count the dashboard's summary figures now (payments for `month`, default this month)."""
    from disbursement.in_force import in_force_queryset

    month = (month or timezone.localdate()).replace(day=1)
    started = time.perf_counter()
    snapshot = DashboardSnapshot.objects.create(month=month)
    cases = Case.objects.order_by()
    with no_jit():
        _insert(
            snapshot,
            Figure.CASELOAD,
            {"unit_id": "unit_id", "kind": "kind", "state": "state", "n": "n"},
            cases.values("unit_id", "kind", "state").annotate(n=Count("id")),
        )
        _insert(
            snapshot,
            Figure.DECIDED,
            {
                "unit_id": "unit_id",
                "kind": "kind",
                "decided_on": "day",
                "result": "outcome",
                "decided_on_time": "on_time",
                "n": "n",
            },
            cases.filter(decided_on__isnull=False)
            .annotate(result=Coalesce("outcome", Value("")))
            .values("unit_id", "kind", "decided_on", "result", "decided_on_time")
            .annotate(n=Count("id")),
        )
        _insert(
            snapshot,
            Figure.APPLIED,
            {"unit_id": "unit_id", "kind": "kind", "month": "day", "n": "n"},
            # An imported household was not an application of the month it was imported in.
            cases.filter(submitted_at__isnull=False, imported=False)
            .annotate(month=TruncMonth("submitted_at", output_field=DateField()))
            .values("unit_id", "kind", "month")
            .annotate(n=Count("id")),
        )
        _insert(
            snapshot,
            Figure.STOPPED,
            {"case__unit_id": "unit_id", "case__kind": "kind", "month": "day", "n": "n"},
            CaseEvent.objects.order_by()
            .filter(to_state=State.TERMINATED)
            .exclude(from_state=State.TERMINATED)
            .annotate(month=TruncMonth("at", output_field=DateField()))
            .values("case__unit_id", "case__kind", "month")
            .annotate(n=Count("id")),
        )
        _insert(
            snapshot,
            Figure.PAID,
            {"unit_id": "unit_id", "kind": "kind", "n": "n", "money": "money"},
            in_force_queryset(month)
            .values("unit_id", "kind")
            .annotate(n=Count("id"), money=Sum("amount_due")),
        )
    DashboardSnapshot.objects.filter(pk__lt=snapshot.pk).delete()
    snapshot.seconds = Decimal(f"{time.perf_counter() - started:.2f}")
    snapshot.save(update_fields=["seconds"])
    return snapshot


def current(month: date) -> DashboardSnapshot:
    """The latest snapshot if it is for `month` and younger than MAX_AGE; else a new one."""
    snapshot = DashboardSnapshot.objects.order_by("-pk").first()
    if (
        snapshot is None
        or snapshot.month != month.replace(day=1)
        or timezone.now() - snapshot.computed_at > MAX_AGE
    ):
        snapshot = refresh(month)
    return snapshot


def tallies(snapshot: DashboardSnapshot, figure: str, scope: Scope, filters) -> QuerySet:
    """The snapshot's rows of one figure that the scope and the unit/kind filters keep."""
    rows = DashboardTally.objects.filter(snapshot=snapshot, figure=figure).order_by()
    if not scope.everything:
        rows = rows.filter(unit_id=scope.unit_id) if scope.unit_id else rows.none()
    if filters.unit_id:
        rows = rows.filter(unit_id=filters.unit_id)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    return rows
