"""Reading household facts: the current version, and the history of every change.

`current_facts(case)` is what the assessment (and a review's recalculation) reads;
`fact_history(case)` is the list the case timeline and the archive show, in Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Max
from django.utils import timezone

from ..models import (
    Asset,
    AssetKind,
    Case,
    FactChange,
    FactChannel,
    FactSubject,
    Household,
    Income,
    IncomeKind,
    Person,
    Relation,
    WorkAbility,
)

# The words each stored field is shown with; choice codes are shown by their labels.
FIELD_LABELS = {
    "name": "姓名",
    "id_number": "公民身份号码",
    "relation": "与户主关系",
    "work_ability": "劳动能力",
    "disability_grade": "残疾等级",
    "illness": "患病情况",
    "phone": "联系电话",
    "income_irregular": "收入不固定",
    "person": "家庭成员",
    "kind": "类型",
    "source": "收入来源",
    "monthly_amount": "月均金额（元）",
    "months_received": "实际领取月数",
    "period_start": "起始日期",
    "period_end": "截止日期",
    "exempt": "不计入家庭收入",
    "exempt_reason": "不计入理由",
    "value": "估值（元）",
    "description": "备注",
}
CHOICE_LABELS = {
    "relation": dict(Relation.choices),
    "work_ability": dict(WorkAbility.choices),
}
KIND_LABELS = {
    FactSubject.INCOME: dict(IncomeKind.choices),
    FactSubject.ASSET: dict(AssetKind.choices),
}


@dataclass
class HouseholdFacts:
    """The household's facts as they stand: members on the day, their incomes, the assets."""

    household: Household
    members: list[Person]
    incomes: list[Income]
    assets: list[Asset]
    _by_person: dict[int, list[Income]] = field(default_factory=dict, repr=False)

    def incomes_of(self, person: Person) -> list[Income]:
        if not self._by_person:
            for income in self.incomes:
                self._by_person.setdefault(income.person_id, []).append(income)
        return self._by_person.get(person.pk, [])


def current_facts(case: Case, *, on: date | None = None) -> HouseholdFacts:
    """The current version of the case household's members, incomes and assets.

    Members who left before `on` (default today) and rows removed as corrections are left out.
    """
    on = on or timezone.localdate()
    members = [
        person
        for person in Person.objects.filter(
            household_id=case.household_id, removed_at__isnull=True
        ).order_by("id")
        if person.left_on is None or person.left_on > on
    ]
    incomes = list(
        Income.objects.filter(person__in=members, removed_at__isnull=True).order_by(
            "person_id", "id"
        )
    )
    assets = list(
        Asset.objects.filter(household_id=case.household_id, removed_at__isnull=True).order_by("id")
    )
    household = Household.objects.get(pk=case.household_id)
    return HouseholdFacts(household=household, members=members, incomes=incomes, assets=assets)


def display_value(key: str, value: Any, *, subject: str = "") -> str:
    """One stored value as the page shows it: labels for codes, 是/否, blank as —."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if key == "kind":
        return KIND_LABELS.get(subject, {}).get(value, str(value))
    if key in CHOICE_LABELS:
        return CHOICE_LABELS[key].get(value, str(value))
    if key == "disability_grade":
        return f"{value}级" if str(value) != "0" else "无"
    return str(value)


def describe_change(change: FactChange) -> dict[str, Any]:
    """A change in words: what, whose, and each field that differs, before → after."""
    keys = [k for k in FIELD_LABELS if k in change.before or k in change.after]
    rows = []
    for key in keys:
        if key in ("person", "id_number"):
            continue
        before = display_value(key, change.before.get(key), subject=change.subject)
        after = display_value(key, change.after.get(key), subject=change.subject)
        if before == after:
            continue  # unchanged, or blank on both sides of an addition or removal
        rows.append({"field": FIELD_LABELS[key], "before": before, "after": after})
    values = change.after or change.before
    return {
        "id": change.pk,
        "at": change.at,
        "actor": str(change.actor),
        "role": change.actor_role,
        "channel": change.get_channel_display(),
        "title": f"{change.get_operation_display()}{change.get_subject_display()}：{_whose(change, values)}",
        "reason": change.reason,
        "operation": change.operation,
        "rows": rows,
    }


def _whose(change: FactChange, values: dict[str, Any]) -> str:
    if change.subject == FactSubject.MEMBER:
        return str(values.get("name", ""))
    kind = display_value("kind", values.get("kind"), subject=change.subject)
    if change.subject == FactSubject.INCOME:
        return f"{values.get('person_name', '')} {kind}".strip()
    return kind


def fact_history(case: Case) -> list[dict[str, Any]]:
    """Every change of the case household's facts, oldest first, in words (timeline, archive)."""
    changes = FactChange.objects.filter(case=case).select_related("actor").order_by("at", "id")
    return [describe_change(change) for change in changes]


def changes_since(case: Case, version: int) -> list[FactChange]:
    """Fact changes someone made after the given case version (for a 409's explanation)."""
    return list(
        FactChange.objects.filter(case=case, case_version__gte=version)
        .select_related("actor")
        .order_by("at", "id")
    )


def facts_changed_after_assessment(case: Case) -> bool:
    """True when a fact changed on the case page after the latest income assessment.

    Compared by timeline order, not by clock: both may fall within the same second.
    """
    assessed = case.events.filter(action="assess").aggregate(seq=Max("seq"))["seq"]
    if assessed is None:
        return False
    return case.events.filter(
        action="fact_change", seq__gt=assessed, data__channel=FactChannel.CASE
    ).exists()
