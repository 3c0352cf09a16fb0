"""What a signer reviews before signing a roster, and who is told that a roster waits for them.

The comparison reads last month's rosters as paid (net of corrections) against this roster's
lines: households new this month, stopped since last month, and paid a different amount, each
with the entitlement change that explains it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse

from accounts.notify import notify, staff_with_role

from .in_force import ZERO, add_month
from .models import (
    Category,
    Entitlement,
    EntitlementChange,
    PaymentRoster,
    RosterKind,
    RosterLine,
    RosterState,
)

UNPAID = (RosterState.RETURNED, RosterState.DISCARDED)


@dataclass
class Difference:
    entitlement: Entitlement
    before: Decimal
    after: Decimal
    reason: str

    @property
    def change(self) -> Decimal:
        return self.after - self.before


@dataclass
class Comparison:
    last_month: date
    new: list[Difference]
    stopped: list[Difference]
    changed: list[Difference]
    last_total: Decimal
    last_count: int

    @property
    def empty(self) -> bool:
        return not (self.new or self.stopped or self.changed)


def _paid(unit_id: int, month: date, *, roster_ids: list[int] | None = None) -> dict[int, Decimal]:
    """Per entitlement: what the unit's live rosters of the month pay (net of corrections)."""
    lines = RosterLine.objects.filter(roster__unit_id=unit_id, roster__month=month).exclude(
        roster__state__in=UNPAID
    )
    if roster_ids is not None:
        lines = lines.filter(roster_id__in=roster_ids)
    rows = lines.order_by().values("entitlement_id").annotate(s=Sum("amount"))
    return {r["entitlement_id"]: r["s"] for r in rows if r["s"]}


def _reasons(ids: set[int], after: date, upto: date) -> dict[int, str]:
    """The latest change of each entitlement effective after `after` and by `upto`, as a reason."""
    reasons: dict[int, str] = {}
    changes = EntitlementChange.objects.filter(
        entitlement_id__in=ids, effective_month__gt=after, effective_month__lte=upto
    ).order_by("entitlement_id", "effective_month", "id")
    for change in changes:
        reasons[change.entitlement_id] = (
            f"{change.get_kind_display()}（{change.get_source_display()}）：{change.reason}"
        )
    return reasons


def compare_with_last_month(roster: PaymentRoster) -> Comparison:
    """New, stopped and changed households of a regular roster against last month's payments."""
    last_month = add_month(roster.month, -1)
    before = _paid(roster.unit_id, last_month)
    after = _paid(roster.unit_id, roster.month, roster_ids=[roster.pk])
    ids = set(before) | set(after)
    entitlements = Entitlement.objects.in_bulk(ids)
    reasons = _reasons(ids, last_month, roster.month)
    new, stopped, changed = [], [], []
    for pk in sorted(ids):
        old, now = before.get(pk, ZERO), after.get(pk, ZERO)
        if old == now:
            continue
        entitlement = entitlements[pk]
        reason = reasons.get(pk, "")
        if not old:
            reason = reason or f"新纳入保障，自{entitlement.start_month:%Y年%m月}起发放"
            new.append(Difference(entitlement, old, now, reason))
        elif not now:
            stopped.append(Difference(entitlement, old, now, reason or "本月不在发放范围"))
        else:
            changed.append(Difference(entitlement, old, now, reason))
    return Comparison(
        last_month=last_month,
        new=new,
        stopped=stopped,
        changed=changed,
        last_total=sum(before.values(), ZERO),
        last_count=len(before),
    )


# --- The lines, searched and filtered ---------------------------------------------------------


def roster_lines(roster: PaymentRoster, params: dict[str, str]) -> tuple[QuerySet, dict[str, Any]]:
    """The roster's lines with household size and masked ID, under the page's search and filter."""
    lines = roster.lines.select_related("village", "entitlement__case__applicant").annotate(
        size=Count("household__members", filter=Q(household__members__left_on__isnull=True))
    )
    query = (params.get("q") or "").strip()[:50]
    village = params.get("village") or ""
    category = params.get("category") or ""
    if query:
        lines = lines.filter(Q(holder_name__contains=query) | Q(village__name__contains=query))
    if village.isdigit():
        lines = lines.filter(village_id=int(village))
    if category in Category.values:
        lines = lines.filter(category=category)
    filters = {"q": query, "village": village, "category": category}
    return lines.order_by("village_id", "id"), filters


# --- Telling the signers --------------------------------------------------------------------


def notify_next_signer(roster: PaymentRoster) -> None:
    """Tell the unit's holders of the next signing step that the roster waits for them."""
    from .services import STEP_ROLES, next_step

    if roster.state != RosterState.PREPARED:
        return
    step = next_step(roster)
    if step is None:
        return
    what = "补发清册" if roster.kind == RosterKind.SUPPLEMENTARY else "发放清册"
    url = reverse("disbursement:roster_detail", args=[roster.pk])
    for user in staff_with_role(STEP_ROLES[step], unit_id=roster.unit_id):
        notify(
            user,
            key=f"roster-{roster.pk}-round-{roster.round}-{step}",
            title=f"{roster.month:%Y年%m月}{what}待您签字",
            body=f"{roster.unit.name}{roster.month:%Y年%m月}{what}：{roster.line_count}户，"
            f"{roster.total_amount}元。请核对与上月的变化后签字。",
            url=url,
        )
