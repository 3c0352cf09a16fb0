"""The amount in force for a month: the one reading every page, roster and figure calls.

An entitlement pays, for month M, the `new_amount` of its latest change effective on or
before M, between its start and end months. A roster freezes that into lines; the
statistics, the dashboard, the household pages and the public list read the same thing
through the functions below, so for one month they count the same households and the same
yuan. A past month is read from the entitlement history and the rosters of that month, never
from a case's state today.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.utils import timezone

from .models import (
    SUBMITTED_STATES,
    Entitlement,
    EntitlementChange,
    RosterLine,
)

ZERO = Decimal("0.00")
KEYS = ("unit_id", "kind", "area", "category")


def month_start(day: date) -> date:
    return date(day.year, day.month, 1)


def this_month() -> date:
    return month_start(timezone.localdate())


def amount_in_force(entitlement: Entitlement, month: date) -> Decimal:
    """The monthly amount in force for a month: the latest change effective on or before it."""
    change = (
        entitlement.changes.filter(effective_month__lte=month_start(month))
        .order_by("-effective_month", "-id")
        .values_list("new_amount", flat=True)
        .first()
    )
    return change if change is not None else ZERO


def in_force_queryset(month: date, **filters: Any) -> QuerySet[Entitlement]:
    """Entitlements paid in a month, annotated with `amount_due` (set-based, one query).

    Every entitlement pays a positive amount between its start and end months (a stop sets
    the end month; adjustments must stay above zero), so the window alone decides who is in.
    """
    latest = (
        EntitlementChange.objects.filter(entitlement=OuterRef("pk"), effective_month__lte=month)
        .order_by("-effective_month", "-id")
        .values("new_amount")[:1]
    )
    # Most entitlements have had no change after `month`: their current amount is the one in
    # force, and only the others need the (correlated) look-up of the changes.
    amount_due = models.Case(
        When(amount_since__lte=month, then=F("monthly_amount")),
        default=Subquery(latest),
        output_field=Entitlement._meta.get_field("monthly_amount"),
    )
    return (
        Entitlement.objects.filter(start_month__lte=month, **filters)
        .filter(Q(end_month__isnull=True) | Q(end_month__gte=month))
        .annotate(amount_due=amount_due)
        .order_by()
    )


# --- What a page shows for one household ---------------------------------------------------


@dataclass(frozen=True)
class ShownAmount:
    """The amount in force this month and the next change already decided, if any."""

    month: date
    amount: Decimal
    next_month: date | None = None
    next_amount: Decimal | None = None

    @property
    def ahead(self) -> str:
        """“自2027年1月起：420.00元”, or “自2027年1月起：停发”; empty when nothing is ahead."""
        if self.next_month is None or self.next_amount is None:
            return ""
        what = "停发" if self.next_amount == 0 else f"{self.next_amount:.2f}元"
        return f"自{self.next_month.year}年{self.next_month.month}月起：{what}"

    def __str__(self) -> str:
        return f"{self.amount:.2f}元"


def _shown(changes: list[EntitlementChange], entitlement: Entitlement, month: date) -> ShownAmount:
    amount = ZERO
    ahead: EntitlementChange | None = None
    for change in changes:  # ordered by effective month, then id
        if change.effective_month <= month:
            amount = change.new_amount
        elif ahead is None or change.effective_month == ahead.effective_month:
            ahead = change
    if month < entitlement.start_month:
        amount = ZERO
    return ShownAmount(
        month=month,
        amount=amount,
        next_month=ahead.effective_month if ahead else None,
        next_amount=ahead.new_amount if ahead else None,
    )


def shown_amounts(
    entitlements: Iterable[Entitlement], month: date | None = None
) -> dict[int, ShownAmount]:
    """Per entitlement id: the amount in force in `month` (default this month) and what is ahead."""
    month = month_start(month or timezone.localdate())
    entitlements = list(entitlements)
    by_id: dict[int, list[EntitlementChange]] = {e.pk: [] for e in entitlements}
    for change in EntitlementChange.objects.filter(entitlement_id__in=list(by_id)).order_by(
        "entitlement_id", "effective_month", "id"
    ):
        by_id[change.entitlement_id].append(change)
    return {e.pk: _shown(by_id[e.pk], e, month) for e in entitlements}


def shown_amount(entitlement: Entitlement, month: date | None = None) -> ShownAmount:
    return shown_amounts([entitlement], month)[entitlement.pk]


def shown_amounts_for_cases(case_ids: Iterable[int]) -> dict[int, ShownAmount]:
    """Per case id with an entitlement: what a page shows as its monthly amount now."""
    entitlements = list(Entitlement.objects.filter(case_id__in=list(case_ids)))
    amounts = shown_amounts(entitlements)
    return {e.case_id: amounts[e.pk] for e in entitlements}


# --- What a month counts -------------------------------------------------------------------


@dataclass
class MonthTotals:
    """Households and yuan of one month, with the same figures per unit, kind, area, category."""

    month: date
    households: int
    amount: Decimal
    rows: list[dict[str, Any]]


def month_totals(month: date, where: Q | None = None) -> MonthTotals:
    """What the entitlement history says was in force in `month` (entitlements kept by `where`)."""
    month = month_start(month)
    paid = in_force_queryset(month).filter(where or Q())
    rows = list(
        paid.values("unit_id", "kind", "area", "category")
        .annotate(households=Count("id"), amount=Sum("amount_due"))
        .order_by("unit_id", "kind", "area", "category")
    )
    return MonthTotals(
        month=month,
        households=sum(r["households"] for r in rows),
        amount=sum((r["amount"] for r in rows), ZERO),
        rows=rows,
    )


def roster_totals(month: date, *, unit_id: int | None = None) -> MonthTotals:
    """What the month's submitted rosters paid, net of corrections: households paid more than 0."""
    month = month_start(month)
    lines = RosterLine.objects.filter(
        roster__month=month, roster__state__in=SUBMITTED_STATES
    ).order_by()
    if unit_id is not None:
        lines = lines.filter(roster__unit_id=unit_id)
    net = list(
        lines.values("entitlement_id", "unit_id", "kind", "area", "category")
        .annotate(amount=Sum("amount"))
        .filter(amount__gt=0)
    )
    rows: dict[tuple, dict[str, Any]] = {}
    for line in net:
        key = tuple(line[k] for k in KEYS)
        row = rows.setdefault(
            key,
            dict(zip(KEYS, key, strict=True), households=0, amount=ZERO),
        )
        row["households"] += 1
        row["amount"] += line["amount"]
    ordered = [rows[k] for k in sorted(rows)]
    return MonthTotals(
        month=month,
        households=len(net),
        amount=sum((r["amount"] for r in ordered), ZERO),
        rows=ordered,
    )


def month_statistics(month: date, where: Q | None = None) -> list[dict[str, Any]]:
    """Per unit, kind and area of `month`: households and yuan in force, persons, new, stopped.

    New: in force this month and starting this month. Stopped: paid last month and not this
    month (a stop effective this month, however far back it was decided). Persons: members
    of the paid households who had not left before the month began.
    """
    month = month_start(month)
    keys = ("unit_id", "kind", "area")
    scoped = where or Q()
    paid = in_force_queryset(month).filter(scoped)
    figures: dict[tuple, dict[str, Any]] = {}

    def add(rows: QuerySet, **names: str) -> None:
        for row in rows:
            key = tuple(row[k] for k in keys)
            bucket = figures.setdefault(key, dict(zip(keys, key, strict=True)))
            for target, source in names.items():
                bucket[target] = row[source]

    add(
        paid.values(*keys).annotate(
            h=Count("id"), m=Sum("amount_due"), n=Count("id", filter=Q(start_month=month))
        ),
        households="h",
        money="m",
        new="n",
    )
    members = Q(household__members__left_on__isnull=True) | Q(
        household__members__left_on__gte=month
    )
    add(
        in_force_queryset(month)
        .filter(scoped)
        .values(*keys)
        .annotate(p=Count("household__members", filter=members)),
        persons="p",
    )
    add(
        Entitlement.objects.filter(scoped, end_month=add_month(month, -1))
        .order_by()
        .values(*keys)
        .annotate(s=Count("id")),
        stopped="s",
    )
    return [
        {"households": 0, "persons": 0, "money": ZERO, "new": 0, "stopped": 0, **bucket}
        for bucket in figures.values()
    ]


def add_month(month: date, n: int) -> date:
    year, index = divmod(month.month - 1 + n, 12)
    return date(month.year + year, index + 1, 1)
