"""The unit ledgers (台账) this app adds: adjustments, stops, reviews and payments.

Registered into `cases.documents.ledgers` (the cases layer does not read payments). A stop is
listed by the day it was decided, whatever month it takes effect: a stop decided this month
is in this month's 停发 register at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from accounts.models import Unit
from cases.documents.ledgers import Ledger, Period, register_ledger

from .models import (
    SUBMITTED_STATES,
    ChangeKind,
    EntitlementChange,
    PaymentRoster,
    Review,
    ReviewState,
)


def _changes(unit: Unit, period: Period):
    start, end = period.bounds()
    return EntitlementChange.objects.filter(
        entitlement__unit=unit, created_at__range=(start, end)
    ).select_related("entitlement__case", "entitlement__village", "actor")


def _change_row(c: EntitlementChange) -> Sequence[Any]:
    entitlement = c.entitlement
    return (
        entitlement.case.number,
        timezone.localtime(c.created_at).date(),
        entitlement.holder_name,
        entitlement.village.name,
        entitlement.get_kind_display(),
        c.get_kind_display(),
        c.old_amount,
        c.new_amount,
        f"{c.effective_month:%Y年%m月}",
        c.get_source_display(),
        c.reason,
        c.actor.full_name if c.actor_id else "",
    )


CHANGE_HEADER = (
    "案件编号",
    "决定日期",
    "户主",
    "嘎查村/社区",
    "救助类别",
    "变更类型",
    "原金额（元）",
    "新金额（元）",
    "生效月份",
    "依据",
    "原因",
    "经办人",
)


@register_ledger
def adjustments(unit: Unit, period: Period) -> Ledger:
    records = (
        _changes(unit, period)
        .filter(kind__in=(ChangeKind.INCREASE, ChangeKind.DECREASE))
        .order_by("created_at", "id")
    )
    return Ledger("adjustments", "待遇调整（增发、减发）登记", CHANGE_HEADER, records, _change_row)


@register_ledger
def stops(unit: Unit, period: Period) -> Ledger:
    records = _changes(unit, period).filter(kind=ChangeKind.STOP).order_by("created_at", "id")
    return Ledger("stops", "停发登记（按决定日期）", CHANGE_HEADER, records, _change_row)


@register_ledger
def reviews(unit: Unit, period: Period) -> Ledger:
    records = (
        Review.objects.filter(
            unit=unit,
            state=ReviewState.DECIDED,
            decided_on__range=(period.start, period.end),
        )
        .select_related("case", "village", "entitlement")
        .order_by("decided_on", "id")
    )

    def row(r: Review) -> Sequence[Any]:
        return (
            r.case.number,
            r.decided_on,
            r.entitlement.holder_name,
            r.village.name,
            r.get_trigger_display(),
            r.get_outcome_display(),
            r.old_amount,
            r.new_amount,
            f"{r.effective_month:%Y年%m月}" if r.effective_month else "",
            r.reason,
        )

    header = (
        "案件编号",
        "审核确认日期",
        "户主",
        "嘎查村/社区",
        "复核起因",
        "复核结果",
        "原金额（元）",
        "新金额（元）",
        "生效月份",
        "理由",
    )
    return Ledger("reviews", "复核登记", header, records, row)


@register_ledger
def payments(unit: Unit, period: Period) -> Ledger:
    records = PaymentRoster.objects.filter(
        unit=unit,
        state__in=SUBMITTED_STATES,
        month__range=(period.start.replace(day=1), period.end),
    ).order_by("month", "id")

    def row(r: PaymentRoster) -> Sequence[Any]:
        return (
            f"{r.month:%Y年%m月}",
            r.get_kind_display(),
            r.reason,
            r.line_count,
            r.total_amount,
            timezone.localtime(r.submitted_at).date() if r.submitted_at else "",
            r.get_state_display(),
        )

    header = ("发放月份", "清册类型", "补发/更正原因", "户数", "金额（元）", "报送日期", "状态")
    return Ledger("payments", "资金发放登记", header, records, row)
