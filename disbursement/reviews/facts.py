"""The facts a review's home visit found, and the review's recalculation over them.

A review's visit writes down the household as the visitors found it: who lives there, what
each earns, what the household owns (`ReviewMember`, `ReviewIncome`, `ReviewAsset`). The
recalculation (`review_assessment`) reads those lines and nothing else, with the case
assessment's arithmetic (`cases.assessment.calculate`) and the county's rules and standards.
When the household's facts become versioned records in `cases`, only `review_assessment`
(and `current_facts`, which prefills the visit) need pointing at them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from cases import assessment
from cases.facts.selectors import current_facts as case_current_facts
from cases.facts.services import record_fact_change
from cases.models import (
    LIVE_PAYMENT_STATES,
    AssetKind,
    CountyRules,
    FactChannel,
    IncomeKind,
    Kind,
    Person,
    PolicyStandard,
    Relation,
    StandardKind,
    State,
    WorkAbility,
)
from dengkou_aid.errors import DomainError
from disbursement.models import (
    Review,
    ReviewAsset,
    ReviewIncome,
    ReviewMember,
    ReviewState,
)

ZERO = Decimal("0")
NO = ("", "0", "no", "false", "否")


@dataclass
class MemberLine:
    name: str
    relation: str = Relation.OTHER
    work_ability: str = WorkAbility.UNABLE
    person_id: int | None = None
    note: str = ""


@dataclass
class IncomeLine:
    member: str
    kind: str
    source: str
    monthly_amount: Decimal
    months: int | None = None
    period_start: date | None = None
    period_end: date | None = None
    exempt: bool = False
    exempt_reason: str = ""

    @property
    def kind_label(self) -> str:
        return IncomeKind(self.kind).label


@dataclass
class AssetLine:
    kind: str
    value: Decimal
    description: str = ""

    @property
    def kind_label(self) -> str:
        return AssetKind(self.kind).label


@dataclass
class Facts:
    members: list[MemberLine] = field(default_factory=list)
    incomes: list[IncomeLine] = field(default_factory=list)
    assets: list[AssetLine] = field(default_factory=list)


# --- What the visit form starts from ------------------------------------------------------------


def current_facts(review: Review, *, on: date) -> Facts:
    """The visit form's starting point: what the household's last decided review found, or
    else the case's records as they stand on `on` (after approval the case's own records
    change only through reviews)."""
    last = (
        Review.objects.filter(
            household_id=review.household_id, state=ReviewState.DECIDED, fact_members__isnull=False
        )
        .exclude(pk=review.pk)
        .order_by("-decided_on", "-id")
        .first()
    )
    if last is not None:
        found = recorded_facts(last)
        for income in found.incomes:
            income.months = None  # months received belong to that review's period
        return found
    return _case_facts(review, on=on)


def _case_facts(review: Review, *, on: date) -> Facts:
    people = [
        p
        for p in Person.objects.filter(household_id=review.household_id)
        .prefetch_related("incomes")
        .order_by("id")
        if p.left_on is None or p.left_on > on
    ]
    facts = Facts()
    for person in people:
        facts.members.append(
            MemberLine(
                name=person.name,
                relation=person.relation,
                work_ability=person.work_ability,
                person_id=person.pk,
            )
        )
        for income in person.incomes.all():
            if income.period_end is not None and income.period_end < on.replace(day=1):
                continue
            facts.incomes.append(
                IncomeLine(
                    member=person.name,
                    kind=income.kind,
                    source=income.source,
                    monthly_amount=income.monthly_amount,
                    period_start=income.period_start,
                    period_end=income.period_end,
                    exempt=income.exempt,
                    exempt_reason=income.exempt_reason,
                )
            )
    for asset in review.household.assets.order_by("id"):
        facts.assets.append(
            AssetLine(kind=asset.kind, value=asset.value, description=asset.description)
        )
    return facts


def recorded_facts(review: Review) -> Facts:
    """The facts the review's visit wrote down."""
    members = list(review.fact_members.all())
    names = {m.pk: m.name for m in members}
    return Facts(
        members=[
            MemberLine(
                name=m.name,
                relation=m.relation,
                work_ability=m.work_ability,
                person_id=m.person_id,
                note=m.note,
            )
            for m in members
        ],
        incomes=[
            IncomeLine(
                member=names[i.member_id],
                kind=i.kind,
                source=i.source,
                monthly_amount=i.monthly_amount,
                months=i.months,
                period_start=i.period_start,
                period_end=i.period_end,
                exempt=i.exempt,
                exempt_reason=i.exempt_reason,
            )
            for i in review.fact_incomes.all()
        ],
        assets=[
            AssetLine(kind=a.kind, value=a.value, description=a.description)
            for a in review.fact_assets.all()
        ],
    )


# --- Reading the visit form ----------------------------------------------------------------------


class FactsError(DomainError):
    """Bad lines in the visit's facts: every message, keyed by the field it belongs to."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        first = next(iter(errors.items()))
        super().__init__(first[1], field=first[0])


def facts_from_rows(
    *,
    members: list[dict[str, Any]],
    incomes: list[dict[str, Any]],
    assets: list[dict[str, Any]],
    period_months: int,
    applicant: Person | None = None,
) -> Facts:
    """Check the typed rows (blank rows are skipped); raises FactsError with every message.

    The applicant stays in the household: a death or a move is a change report's, which stops
    the payment, not a line left out of a visit."""
    errors: dict[str, str] = {}
    facts = Facts()
    for i, row in enumerate(members, start=1):
        name = str(row.get("name") or "").strip()
        if not name:
            continue
        relation = row.get("relation") or ""
        ability = row.get("work_ability") or ""
        if relation not in Relation.values:
            errors[f"member_relation_{i}"] = f"第{i}位成员：请选择与户主关系。"
        if ability not in WorkAbility.values:
            errors[f"member_work_ability_{i}"] = f"第{i}位成员：请选择劳动能力。"
        if any(m.name == name for m in facts.members):
            errors[f"member_name_{i}"] = f"第{i}位成员：姓名“{name}”重复，请区分填写。"
        facts.members.append(
            MemberLine(
                name=name,
                relation=relation,
                work_ability=ability,
                person_id=_int(row.get("person")),
                note=str(row.get("note") or "").strip()[:200],
            )
        )
    if not facts.members:
        errors["member_name_1"] = "请至少填写一位仍在户的家庭成员。"
    elif applicant is not None and not any(m.person_id == applicant.pk for m in facts.members):
        errors.setdefault(
            "member_name_1",
            f"申请人{applicant.name}不能从在户成员中移除；申请人死亡或迁出的，请通过家庭情况变化报告办理。",
        )
    names = {m.name for m in facts.members}
    for i, row in enumerate(incomes, start=1):
        if not _filled(row, ("member", "source", "monthly_amount", "months")):
            continue
        line = _income_line(i, row, names, period_months, errors)
        if line is not None:
            facts.incomes.append(line)
    for i, row in enumerate(assets, start=1):
        if not _filled(row, ("value", "description")):
            continue
        kind = row.get("kind") or ""
        if kind not in AssetKind.values:
            errors[f"asset_kind_{i}"] = f"第{i}项财产：请选择财产类型。"
        value = _money(row.get("value"))
        if value is None:
            errors[f"asset_value_{i}"] = f"第{i}项财产：估值须为不小于0的数字（元）。"
            continue
        facts.assets.append(
            AssetLine(kind=kind, value=value, description=str(row.get("description") or "").strip())
        )
    if errors:
        raise FactsError(errors)
    return facts


def _income_line(
    i: int, row: dict[str, Any], names: set[str], period: int, errors: dict[str, str]
) -> IncomeLine | None:
    member = str(row.get("member") or "").strip()
    if member not in names:
        errors[f"income_member_{i}"] = f"第{i}项收入：收入人须是上面填写的在户成员。"
    kind = row.get("kind") or IncomeKind.WAGE
    if kind not in IncomeKind.values:
        errors[f"income_kind_{i}"] = f"第{i}项收入：请选择收入类型。"
    amount = _money(row.get("monthly_amount"))
    if amount is None:
        errors[f"income_amount_{i}"] = f"第{i}项收入：月均金额须为不小于0的数字（元）。"
    months = None
    if str(row.get("months") or "").strip():
        months = _int(row.get("months"))
        if months is None or not 1 <= months <= period:
            errors[f"income_months_{i}"] = (
                f"第{i}项收入：核算期内领取月数须为1到{period}之间的整数。"
            )
    start, start_ok = _date(row.get("period_start"))
    end, end_ok = _date(row.get("period_end"))
    if not start_ok:
        errors[f"income_start_{i}"] = f"第{i}项收入：起始日期格式应为“2027-01-01”。"
    if not end_ok:
        errors[f"income_end_{i}"] = f"第{i}项收入：截止日期格式应为“2027-01-01”。"
    if start and end and end < start:
        errors[f"income_end_{i}"] = f"第{i}项收入：截止日期不能早于起始日期。"
    exempt = str(row.get("exempt") or "").strip().lower() not in NO
    if any(key.endswith(f"_{i}") and key.startswith("income_") for key in errors):
        return None
    return IncomeLine(
        member=member,
        kind=kind,
        source=str(row.get("source") or "").strip() or IncomeKind(kind).label,
        monthly_amount=amount,
        months=months,
        period_start=start or None,
        period_end=end or None,
        exempt=exempt,
        exempt_reason=str(row.get("exempt_reason") or "").strip()[:100],
    )


def _filled(row: dict[str, Any], keys: tuple[str, ...]) -> bool:
    return any(str(row.get(key) or "").strip() for key in keys)


def _money(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount < 0:
        return None
    return amount.quantize(Decimal("0.01"))


def _date(value: Any) -> tuple[date | None, bool]:
    """(the date or None, whether what was typed was a date or blank)."""
    if isinstance(value, date):
        return value, True
    text = str(value or "").strip()
    if not text:
        return None, True
    try:
        return date.fromisoformat(text), True
    except ValueError:
        return None, False


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


# --- Writing them with the visit -------------------------------------------------------------------


def save_facts(review: Review, facts: Facts) -> None:
    """Write the visit's facts (once, inside the visit's transaction)."""
    people = set(
        Person.objects.filter(household_id=review.household_id).values_list("pk", flat=True)
    )
    members = {}
    for position, line in enumerate(facts.members, start=1):
        members[line.name] = ReviewMember.objects.create(
            review=review,
            person_id=line.person_id if line.person_id in people else None,
            position=position,
            name=line.name,
            relation=line.relation,
            work_ability=line.work_ability,
            note=line.note,
        )
    for position, line in enumerate(facts.incomes, start=1):
        ReviewIncome.objects.create(
            review=review,
            member=members[line.member],
            position=position,
            kind=line.kind,
            source=line.source[:100],
            monthly_amount=line.monthly_amount,
            months=line.months,
            period_start=line.period_start,
            period_end=line.period_end,
            exempt=line.exempt,
            exempt_reason=line.exempt_reason,
        )
    for position, line in enumerate(facts.assets, start=1):
        ReviewAsset.objects.create(
            review=review,
            position=position,
            kind=line.kind,
            value=line.value,
            description=line.description[:200],
        )


def summary(facts: Facts) -> str:
    """One line for the case's timeline: who lives there, what each earns, what they own."""
    parts = [f"在户{len(facts.members)}人（{'、'.join(m.name for m in facts.members)}）"]
    if facts.incomes:
        parts.append(
            "收入："
            + "；".join(
                f"{i.member}{i.kind_label}{i.monthly_amount}元/月"
                + (f"（{i.months}个月）" if i.months else "")
                + ("（不计入）" if i.exempt else "")
                for i in facts.incomes
            )
        )
    else:
        parts.append("未发现收入")
    if facts.assets:
        parts.append("财产：" + "；".join(f"{a.kind_label}{a.value}元" for a in facts.assets))
    return "，".join(parts)[:1000]


# --- The recalculation -------------------------------------------------------------------------


class MissingStandard(DomainError):
    pass


def review_assessment(
    review: Review, *, basis: date, rules: CountyRules | None = None, care_unmet: int | None = None
) -> assessment.Result:
    """The household's income anew, from the facts the review's visit recorded.

    The period is the county's assessment period before `basis`; an income with a number of
    months received counts for those months, otherwise for the period's months its dates cover.
    """
    rules = rules or CountyRules.in_force(basis)
    facts = recorded_facts(review)
    case = review.case
    members = facts.members
    if case.kind == Kind.TEKUN:
        # Tekun supports one person: the applicant, on their own income.
        own = [m for m in members if m.person_id == case.applicant_id]
        members = own or members[:1]
    counted = {m.name for m in members}
    period = assessment.period_months(basis, rules.assessment_months)
    lines = []
    for income in facts.incomes:
        if income.member not in counted:
            continue
        months = _months(income, period, rules.assessment_months)
        if months:
            lines.append(
                assessment.IncomeLine(
                    person=income.member,
                    kind=income.kind,
                    source=income.source,
                    monthly_amount=income.monthly_amount,
                    months=months,
                    exempt=income.exempt,
                    exempt_reason=income.exempt_reason,
                )
            )
    standard, care_tier, care_amount = _standards(case, basis, care_unmet)
    return assessment.calculate(
        kind=case.kind,
        incomes=lines,
        household_size=max(len(members), 1),
        period_months=rules.assessment_months,
        standard_amount=standard,
        rounding=rules.rounding,
        marginal_multiplier=rules.marginal_multiplier,
        care_tier=care_tier,
        care_amount=care_amount,
    )


def _months(income: IncomeLine, period: list[tuple[int, int]], length: int) -> int:
    if income.months is not None:
        return min(income.months, length)
    return assessment.months_covered(income.period_start or date.min, income.period_end, period)


def _standards(case, basis: date, care_unmet: int | None) -> tuple[Decimal, str, Decimal]:
    base_kind = StandardKind.TEKUN_BASIC if case.kind == Kind.TEKUN else StandardKind.DIBAO
    standard = PolicyStandard.objects.in_force(base_kind, case.area, basis)
    if standard is None:
        raise MissingStandard(
            f"缺少现行{StandardKind(base_kind).label}（{case.get_area_display()}），请县民政局维护后再核算。"
        )
    if case.kind != Kind.TEKUN:
        return standard.amount, "", ZERO
    tier = assessment.care_tier_for(care_unmet or 0)
    care_kind = assessment.CARE_STANDARD_KIND[tier]
    care = PolicyStandard.objects.in_force(care_kind, case.area, basis)
    if care is None:
        raise MissingStandard(
            f"缺少现行{StandardKind(care_kind).label}（{case.get_area_display()}），请县民政局维护后再核算。"
        )
    return standard.amount, tier, care.amount


# --- Carrying the visit's findings into the household's versioned facts ---------------------------


def record_found_facts(review: Review, facts: Facts, *, actor, on: date) -> int:
    """Record each difference between what the visit found and the household's current facts
    (`cases.facts`) as a fact change through the review channel, inside the visit's transaction.

    Members are matched by person (else by name), incomes by member, kind and source, assets by
    kind and description. A member the visit found who is not on record is not added here: the
    visit does not take an ID number, and a member is added with one (a change report or the
    handler adds them). Months received belong to the review's period and are not carried.
    Returns the number of changes recorded.
    """
    case = review.case
    if case.state not in (State.APPROVED, *LIVE_PAYMENT_STATES):
        return 0
    reason = f"复核入户调查（{on:%Y年%m月%d日}）"
    count = 0

    def change(subject: str, operation: str, target_id=None, values=None) -> None:
        nonlocal count
        record_fact_change(
            case=case,
            actor=actor,
            reason=reason,
            subject=subject,
            operation=operation,
            target_id=target_id,
            values=values or {},
            channel=FactChannel.REVIEW,
            channel_ref=review.pk,
        )
        count += 1

    current = case_current_facts(case, on=on)
    by_id = {p.pk: p for p in current.members}
    by_name = {p.name: p for p in current.members}
    person_of: dict[str, Person] = {}
    for line in facts.members:
        person = by_id.get(line.person_id) or by_name.get(line.name)
        if person is None or person in person_of.values():
            continue
        person_of[line.name] = person
        values = {
            key: getattr(line, key)
            for key in ("relation", "work_ability")
            if getattr(line, key) and getattr(line, key) != getattr(person, key)
        }
        if values:
            change("member", "change", person.pk, values)

    unmatched = list(current.incomes)
    for line in facts.incomes:
        person = person_of.get(line.member)
        if person is None:
            continue
        source = (line.source.strip() or IncomeKind(line.kind).label)[:100]
        candidates = [i for i in unmatched if i.person_id == person.pk and i.kind == line.kind]
        income = next((i for i in candidates if i.source == source), None) or next(
            iter(candidates), None
        )
        wanted = {
            "source": source,
            "monthly_amount": line.monthly_amount.quantize(Decimal("0.01")),
            "period_start": line.period_start,
            "period_end": line.period_end,
            "exempt": bool(line.exempt),
            "exempt_reason": (line.exempt_reason.strip() or "复核入户调查认定不计入")[:100]
            if line.exempt
            else "",
        }
        if income is None:
            change(
                "income",
                "add",
                values={"person": person.pk, "kind": line.kind, "months_received": None, **wanted},
            )
            continue
        unmatched.remove(income)
        values = {key: value for key, value in wanted.items() if getattr(income, key) != value}
        if not wanted["exempt"] and not income.exempt:
            values.pop("exempt_reason", None)
        if values:
            change("income", "change", income.pk, values)
    for income in unmatched:
        change("income", "remove", income.pk)

    found_people = {p.pk for p in person_of.values()}
    for person in current.members:
        if person.pk not in found_people and person.pk != case.applicant_id:
            change("member", "remove", person.pk)

    remaining = list(current.assets)
    for line in facts.assets:
        candidates = [a for a in remaining if a.kind == line.kind]
        asset = next(
            (a for a in candidates if a.description == line.description.strip()[:200]), None
        ) or next(iter(candidates), None)
        wanted = {
            "value": line.value.quantize(Decimal("0.01")),
            "description": line.description.strip()[:200],
        }
        if asset is None:
            change("asset", "add", values={"kind": line.kind, **wanted})
            continue
        remaining.remove(asset)
        values = {key: value for key, value in wanted.items() if getattr(asset, key) != value}
        if values:
            change("asset", "change", asset.pk, values)
    for asset in remaining:
        change("asset", "remove", asset.pk)
    return count
