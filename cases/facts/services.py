"""Household facts as versioned records (members, incomes, assets), and the one way to change them.

The rows of `Person`, `Income` and `Asset` hold the current version; every change writes a
`FactChange` (who, in what role, when, why, through which channel, the values before and
after) and an entry in the case timeline. Nothing is deleted: a removed row keeps its history
and is marked `removed_at` (a removed member also counts as left that day).

API for other features (periodic reviews, change reports)::

    from cases.facts.services import record_fact_change
    from cases.facts.selectors import current_facts, fact_history

    record_fact_change(
        case=case, actor=user, reason="复核入户调查：配偶务工工资上涨",
        subject="income", operation="change", target_id=income.pk,
        values={"monthly_amount": "3000"},
        channel=FactChannel.REVIEW, channel_ref=review.pk,
    )
    facts = current_facts(case, on=basis)   # .members, .incomes, .assets, .incomes_of(person)

`subject` is member / income / asset; `operation` is add / change / remove (`target_id` names
the row for change and remove); `values` are the form's fields as strings or typed values
(member: name, id_number (add only), relation, work_ability, disability_grade, illness, phone,
income_irregular; income: person, kind, source, monthly_amount, months_received, period_start,
period_end, exempt, exempt_reason; asset: kind, value, description). A change only gives the
fields it changes. Bad input raises DomainError naming the field as the form names it.

Who may change what, through which channel:
- `case` (the case page): before the proposal, the unit's handler; before acceptance, also the
  village assistant of the household's village. After the case is decided: refused, facts then
  change only through a change report or a review. A change voids the chain signatures still
  valid (the rule of `cases.events.void_signatures`), and the assessment must be redone.
- `review` / `change_report`: an approved case (in payment), by the handler (a review's
  home visit also by the assigned third-party investigator); `channel_ref` is the review's or
  report's id. The case's decision and its signatures stay as they are.

Two clerks at once: pass the case `version` the page showed; the second gets 409 saying what
the first changed.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date

from accounts.models import Role, User
from dengkou_aid.errors import Conflict, DomainError, NotAllowed
from dengkou_aid.lib.crypto import keyed_hash
from dengkou_aid.lib.idnumber import (
    InvalidIdNumber,
    birth_date_from_id,
    sex_from_id,
    validate_id_number,
)

from ..events import record_event, void_signatures
from ..models import (
    DECIDED_STATES,
    LIVE_PAYMENT_STATES,
    Asset,
    AssetKind,
    Case,
    CountyRules,
    FactChange,
    FactChannel,
    FactOperation,
    FactSubject,
    Income,
    IncomeKind,
    Person,
    Relation,
    SignatureStep,
    State,
    WorkAbility,
)
from ..permissions import acting_role
from .selectors import changes_since, describe_change

# The case page may change facts up to the assessment; publicity and the sign-off chain need a
# substantiated objection (back to the home visit) or a leader's sending back first.
CASE_EDIT_STATES = (
    State.SUBMITTED,
    State.ACCEPTED,
    State.AUTHORIZED,
    State.VERIFICATION_REQUESTED,
    State.VERIFIED,
    State.VISITED,
    State.ASSESSED,
)
CHAIN_STEPS = (SignatureStep.PROPOSAL, SignatureStep.OPINION, SignatureStep.DECISION)
MEMBER_FIELDS = (
    "name",
    "id_number",
    "relation",
    "work_ability",
    "disability_grade",
    "illness",
    "phone",
    "income_irregular",
)
INCOME_FIELDS = (
    "kind",
    "source",
    "monthly_amount",
    "months_received",
    "period_start",
    "period_end",
    "exempt",
    "exempt_reason",
)
ASSET_FIELDS = ("kind", "value", "description")
PHONE = re.compile(r"^[0-9+\-\s]{7,20}$")
MAX_PERIOD_MONTHS = 12


def record_fact_change(
    *,
    case: Case,
    actor: User,
    reason: str,
    subject: str,
    operation: str,
    values: dict[str, Any] | None = None,
    target_id: int | None = None,
    channel: str = FactChannel.CASE,
    channel_ref: int | None = None,
    version: int | None = None,
) -> FactChange:
    """Add, change or remove one member, income or asset of the case's household, as a new version."""
    values = dict(values or {})
    if subject not in FactSubject.values or operation not in FactOperation.values:
        raise DomainError("请选择要更正的信息及操作。", field="subject")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        role = _check_may_change(case, actor, channel)
        _check_version(case, version)
        reason = (reason or "").strip()
        if not reason:
            raise DomainError("请填写更正理由。", field="reason")
        apply = {
            FactSubject.MEMBER: _member,
            FactSubject.INCOME: _income,
            FactSubject.ASSET: _asset,
        }
        target, before, after = apply[subject](case, operation, target_id, values)
        change = FactChange.objects.create(
            case=case,
            household_id=case.household_id,
            subject=subject,
            operation=operation,
            person=target if subject == FactSubject.MEMBER else getattr(target, "person", None),
            income=target if subject == FactSubject.INCOME else None,
            asset=target if subject == FactSubject.ASSET else None,
            channel=channel,
            channel_ref=channel_ref,
            reason=reason,
            before=before,
            after=after,
            case_version=case.version,
            actor=actor,
            actor_role=role,
        )
        voided = 0
        if channel == FactChannel.CASE:
            voided = void_signatures(case, steps=CHAIN_STEPS, reason="家庭信息已更正")
        case.version += 1
        case.save(update_fields=["version", "updated_at"])
        described = describe_change(change)
        record_event(
            case,
            action="fact_change",
            label=described["title"][:100],
            actor=actor,
            role=role,
            note=reason,
            data={
                "fact_change": change.pk,
                "channel": channel,
                "rows": described["rows"],
                "voided_signatures": voided,
            },
        )
        return change


def may_change_facts(actor: User, case: Case) -> bool:
    """Whether the case page offers this user the forms that correct the household's facts."""
    try:
        _check_may_change(case, actor, FactChannel.CASE)
    except DomainError:
        return False
    return True


# --- who, when --------------------------------------------------------------------------


def _check_version(case: Case, version: int | str | None) -> None:
    if version is None or _int(version) == case.version:
        return
    changed = changes_since(case, _int(version))
    if not changed:
        raise Conflict("该案件已被他人修改，请刷新后重试。", field="version")
    words = "；".join(
        f"{describe_change(c)['title']}（{c.actor}，{timezone.localtime(c.at):%H:%M}）"
        for c in changed
    )
    raise Conflict(
        f"您打开页面后，他人已更正了该家庭的信息：{words}。请刷新页面核对后再提交。",
        field="version",
        missing=[describe_change(c)["title"] for c in changed],
    )


def _check_may_change(case: Case, actor: User, channel: str) -> str:
    if channel == FactChannel.CASE:
        if case.state in DECIDED_STATES:
            raise Conflict(
                "案件已审核确认，家庭信息不能直接修改，只能通过变更报告或定期复核更正。",
                field="state",
            )
        if case.state not in CASE_EDIT_STATES:
            raise Conflict(_state_refusal(case), field="state")
        role = acting_role(actor, case, Role.HANDLER, Role.VILLAGE_ASSISTANT)
        if role == Role.VILLAGE_ASSISTANT and case.state != State.SUBMITTED:
            raise NotAllowed("案件已受理，家庭信息须由苏木镇经办人更正。")
        return role
    if channel not in FactChannel.values:
        raise DomainError("更正途径无效。", field="channel")
    if case.state not in (State.APPROVED, *LIVE_PAYMENT_STATES):
        raise Conflict(
            f"案件当前状态为“{case.get_state_display()}”，只有保障中的案件才能经复核或变更报告更正家庭信息。",
            field="state",
        )
    if channel == FactChannel.REVIEW:
        return acting_role(actor, case, Role.HANDLER, Role.INVESTIGATOR)
    return acting_role(actor, case, Role.HANDLER)


def _state_refusal(case: Case) -> str:
    if case.state == State.IN_PUBLICITY:
        return (
            "公示期间不能直接修改家庭信息；如有异议，请登记并核实，异议成立退回入户调查后再更正。"
        )
    if case.state in (State.PROPOSED, State.OPINION_SIGNED):
        return "经办人已提出审核意见，不能再修改家庭信息；如需更正，请由分管领导退回后办理。"
    return f"案件当前状态为“{case.get_state_display()}”，不能修改家庭信息。"


# --- members ----------------------------------------------------------------------------


def _member(case: Case, operation: str, target_id, values) -> tuple[Person, dict, dict]:
    if operation == FactOperation.ADD:
        return _add_member(case, values)
    person = _current_member(case, target_id)
    before = _member_values(person)
    if operation == FactOperation.REMOVE:
        if person.pk == case.applicant_id:
            raise DomainError(
                "申请人不能从家庭成员中移除；申请人情况有变的，请撤回申请后重新提出。",
                field="target_id",
            )
        now = timezone.now()
        person.removed_at = now
        person.left_on = person.left_on or timezone.localdate(now)
        person.left_reason = person.left_reason or "更正移除"
        person.save(update_fields=["removed_at", "left_on", "left_reason"])
        return person, before, {}
    clean = _member_fields(values, partial=True)
    clean.pop("name", None)
    clean.pop("id_number", None)
    if not clean:
        raise DomainError("没有需要修改的内容。", field="relation")
    for key, value in clean.items():
        setattr(person, key, value)
    _refuse_unchanged(before, _member_values(person))
    person.save(update_fields=list(clean))
    return person, before, _member_values(person)


def _add_member(case: Case, values) -> tuple[Person, dict, dict]:
    clean = _member_fields(values, partial=False)
    number = clean.pop("id_number")
    hashed = keyed_hash(number)
    if Person.objects.filter(id_hash=hashed).exists():
        raise Conflict("该身份证号已登记为家庭成员，同一人只能属于一个家庭。", field="id_number")
    try:
        with transaction.atomic():
            person = Person.objects.create(
                household_id=case.household_id,
                id_number=number,
                id_hash=hashed,
                sex=sex_from_id(number),
                birth_date=birth_date_from_id(number),
                **clean,
            )
    except IntegrityError:
        raise Conflict("该身份证号已被登记，请刷新后重试。", field="id_number") from None
    return person, {}, _member_values(person)


def _member_fields(values: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if not partial or "name" in values:
        name = str(values.get("name") or "").strip()
        if not name:
            raise DomainError("请填写姓名。", field="name")
        clean["name"] = name[:50]
    if not partial or "id_number" in values:
        try:
            clean["id_number"] = validate_id_number(str(values.get("id_number") or ""))
        except InvalidIdNumber as exc:
            raise DomainError(f"公民身份号码有误：{exc}。", field="id_number") from None
    if not partial or "relation" in values:
        relation = values.get("relation") or Relation.OTHER
        if relation not in Relation.values:
            raise DomainError("请选择与户主关系。", field="relation")
        clean["relation"] = relation
    if not partial or "work_ability" in values:
        ability = values.get("work_ability") or WorkAbility.ABLE
        if ability not in WorkAbility.values:
            raise DomainError("请选择劳动能力。", field="work_ability")
        clean["work_ability"] = ability
    if not partial or "disability_grade" in values:
        grade = str(values.get("disability_grade") or "0").strip()
        if grade not in ("0", "1", "2", "3", "4"):
            raise DomainError("残疾等级应为无或1至4级。", field="disability_grade")
        clean["disability_grade"] = int(grade)
    if not partial or "illness" in values:
        clean["illness"] = str(values.get("illness") or "").strip()[:200]
    if not partial or "phone" in values:
        phone = str(values.get("phone") or "").strip()
        if phone and not PHONE.match(phone):
            raise DomainError("联系电话格式不正确，请填写7到20位数字。", field="phone")
        clean["phone"] = phone
    if not partial or "income_irregular" in values:
        clean["income_irregular"] = _flag(values.get("income_irregular"))
    return clean


def _current_member(case: Case, target_id) -> Person:
    person = (
        Person.objects.select_for_update()
        .filter(pk=_int(target_id), household_id=case.household_id, removed_at__isnull=True)
        .first()
    )
    if person is None:
        raise DomainError("未找到该家庭成员，可能已被他人移除，请刷新页面。", field="target_id")
    return person


def _member_values(person: Person) -> dict[str, Any]:
    return {
        "name": person.name,
        "relation": person.relation,
        "work_ability": person.work_ability,
        "disability_grade": person.disability_grade,
        "illness": person.illness,
        "phone": person.phone,
        "income_irregular": person.income_irregular,
    }


# --- incomes ----------------------------------------------------------------------------


def _income(case: Case, operation: str, target_id, values) -> tuple[Income, dict, dict]:
    if operation == FactOperation.ADD:
        person = _current_member(case, values.get("person"))
        clean = _income_fields(values, partial=False)
        income = Income.objects.create(person=person, **clean)
        return income, {}, _income_values(income)
    income = (
        Income.objects.select_for_update()
        .select_related("person")
        .filter(
            pk=_int(target_id),
            person__household_id=case.household_id,
            removed_at__isnull=True,
        )
        .first()
    )
    if income is None:
        raise DomainError("未找到该收入，可能已被他人移除，请刷新页面。", field="target_id")
    before = _income_values(income)
    if operation == FactOperation.REMOVE:
        income.removed_at = timezone.now()
        income.save(update_fields=["removed_at"])
        return income, before, {}
    clean = _income_fields(values, partial=True, current=income)
    if "person" in values and values.get("person") not in (None, ""):
        clean["person"] = _current_member(case, values.get("person"))
    for key, value in clean.items():
        setattr(income, key, value)
    _refuse_unchanged(before, _income_values(income))
    income.save(update_fields=list(clean))
    return income, before, _income_values(income)


def _income_fields(values, *, partial: bool, current: Income | None = None) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if not partial or "kind" in values:
        if values.get("kind") not in IncomeKind.values:
            raise DomainError("请选择收入类型。", field="kind")
        clean["kind"] = values["kind"]
    if not partial or "source" in values:
        source = str(values.get("source") or "").strip()
        kind = clean.get("kind") or (current.kind if current else IncomeKind.OTHER)
        clean["source"] = (source or IncomeKind(kind).label)[:100]
    if not partial or "monthly_amount" in values:
        clean["monthly_amount"] = _money(
            values.get("monthly_amount"), field="monthly_amount", label="月均金额"
        )
    if not partial or "months_received" in values:
        clean["months_received"] = _months(values.get("months_received"))
    if not partial or "period_start" in values:
        clean["period_start"] = _date(values.get("period_start"), "period_start", "起始日期")
    if not partial or "period_end" in values:
        clean["period_end"] = _date(values.get("period_end"), "period_end", "截止日期")
    start = clean.get("period_start", current.period_start if current else None)
    end = clean.get("period_end", current.period_end if current else None)
    if start and start > timezone.localdate():
        raise DomainError(
            f"起始日期不能晚于今天（{timezone.localdate():%Y-%m-%d}）。", field="period_start"
        )
    if start and end and end < start:
        raise DomainError("截止日期不能早于起始日期。", field="period_end")
    if not partial or "exempt" in values:
        clean["exempt"] = _flag(values.get("exempt"))
    if not partial or "exempt_reason" in values:
        clean["exempt_reason"] = str(values.get("exempt_reason") or "").strip()[:100]
    exempt = clean.get("exempt", current.exempt if current else False)
    exempt_reason = clean.get("exempt_reason", current.exempt_reason if current else "")
    if exempt and not exempt_reason:
        raise DomainError("不计入家庭收入的，请填写不计入理由。", field="exempt_reason")
    return clean


def _income_values(income: Income) -> dict[str, Any]:
    return {
        "person_name": income.person.name,
        "kind": income.kind,
        "source": income.source,
        "monthly_amount": str(income.monthly_amount),
        "months_received": income.months_received,
        "period_start": income.period_start.isoformat() if income.period_start else None,
        "period_end": income.period_end.isoformat() if income.period_end else None,
        "exempt": income.exempt,
        "exempt_reason": income.exempt_reason,
    }


# --- assets -----------------------------------------------------------------------------


def _asset(case: Case, operation: str, target_id, values) -> tuple[Asset, dict, dict]:
    if operation == FactOperation.ADD:
        asset = Asset.objects.create(
            household_id=case.household_id, **_asset_fields(values, partial=False)
        )
        return asset, {}, _asset_values(asset)
    asset = (
        Asset.objects.select_for_update()
        .filter(pk=_int(target_id), household_id=case.household_id, removed_at__isnull=True)
        .first()
    )
    if asset is None:
        raise DomainError("未找到该财产，可能已被他人移除，请刷新页面。", field="target_id")
    before = _asset_values(asset)
    if operation == FactOperation.REMOVE:
        asset.removed_at = timezone.now()
        asset.save(update_fields=["removed_at"])
        return asset, before, {}
    clean = _asset_fields(values, partial=True)
    for key, value in clean.items():
        setattr(asset, key, value)
    _refuse_unchanged(before, _asset_values(asset))
    asset.save(update_fields=list(clean))
    return asset, before, _asset_values(asset)


def _asset_fields(values, *, partial: bool) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if not partial or "kind" in values:
        if values.get("kind") not in AssetKind.values:
            raise DomainError("请选择财产类型。", field="kind")
        clean["kind"] = values["kind"]
    if not partial or "value" in values:
        clean["value"] = _money(values.get("value"), field="value", label="估值")
    if not partial or "description" in values:
        clean["description"] = str(values.get("description") or "").strip()[:200]
    return clean


def _asset_values(asset: Asset) -> dict[str, Any]:
    return {"kind": asset.kind, "value": str(asset.value), "description": asset.description}


def _refuse_unchanged(before: dict[str, Any], after: dict[str, Any]) -> None:
    if before == after:
        raise DomainError("没有修改任何内容；如需更正，请修改后再提交。", field="form")


# --- parsing ----------------------------------------------------------------------------


def _money(raw: Any, *, field: str, label: str) -> Decimal:
    text = str(raw if raw is not None else "").strip().replace(",", "").replace("，", "")
    if not text:
        raise DomainError(f"请填写{label}（元）。", field=field)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise DomainError(
            f"{label}不是有效的数字，请填写金额，如 1500 或 1500.50。", field=field
        ) from None
    if not amount.is_finite():
        raise DomainError(f"{label}不是有效的数字。", field=field)
    if amount < 0:
        raise DomainError(f"{label}不能为负数。", field=field)
    if amount.as_tuple().exponent < -2:
        raise DomainError(f"{label}最多保留两位小数。", field=field)
    if amount >= Decimal("10000000000"):
        raise DomainError(f"{label}过大，请核对。", field=field)
    return amount.quantize(Decimal("0.01"))


def _months(raw: Any) -> int | None:
    text = str(raw if raw is not None else "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_PERIOD_MONTHS:
        raise DomainError(
            f"实际领取月数应为1到{MAX_PERIOD_MONTHS}之间的整数（不能超出核算期）。",
            field="months_received",
        )
    return int(text)


def _date(raw: Any, field: str, label: str) -> date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, date):
        return raw
    try:
        parsed = parse_date(str(raw).strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise DomainError(f"{label}格式不正确，请按“年-月-日”填写，如 2026-06-01。", field=field)
    return parsed


def _flag(raw: Any) -> bool:
    return raw in (True, "on", "1", "true", "yes", 1)


def _int(raw: Any) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return 0


# --- the county's assessment rules ------------------------------------------------------


def set_assessment_rules(
    *,
    actor: User,
    effective_from: date | str | None,
    assessment_months: int | str,
    disregarded_income_kinds: list[str],
    marginal_asset_limit: str | Decimal | None = "",
    phase_out_months: int | str | None = None,
    note: str = "",
) -> CountyRules:
    """The county supervisor sets the assessment's rules (and the phase-out months) from a date;
    earlier rules stay as history.

    The other county settings (publicity days, phase-out months …) carry over from the rules in
    force. A date already set may be changed only while it lies in the future.
    """
    if not (actor.has_role(Role.COUNTY_SUPERVISOR) and actor.is_county_staff):
        raise NotAllowed("收入核算规则由县民政局监管人员设置。")
    today = timezone.localdate()
    day = _date(effective_from, "effective_from", "执行日期") or today
    if day < today:
        raise DomainError(
            "执行日期不能早于今天；已执行的规则作为历史保留。", field="effective_from"
        )
    if str(assessment_months) not in ("6", "12"):
        raise DomainError("收入核算期只能选择6个月或12个月。", field="assessment_months")
    unknown = set(disregarded_income_kinds) - set(IncomeKind.values)
    if unknown:
        raise DomainError("不计入的收入类型无效。", field="disregarded_income_kinds")
    limit = None
    if str(marginal_asset_limit or "").strip():
        limit = _money(marginal_asset_limit, field="marginal_asset_limit", label="人均财产上限")
    phase_out = None
    if str(phase_out_months or "").strip():
        text = str(phase_out_months).strip()
        if not text.isdigit() or not 1 <= int(text) <= 12:
            raise DomainError("渐退期请填写1至12之间的整月数。", field="phase_out_months")
        phase_out = int(text)
    note = _required_text_or(note, field="note", label="调整说明")
    with transaction.atomic():
        current = CountyRules.in_force(day)
        existing = CountyRules.objects.select_for_update().filter(effective_from=day).first()
        if existing is not None and day == today:
            raise Conflict(
                "今天起执行的规则已经设置，不能再改；如需调整，请选择明天或以后的日期。",
                field="effective_from",
            )
        rules = existing or CountyRules(effective_from=day)
        if existing is None:
            for field in CountyRules._meta.concrete_fields:
                if field.name not in ("id", "effective_from"):
                    setattr(rules, field.attname, getattr(current, field.attname))
        rules.assessment_months = int(assessment_months)
        rules.disregarded_income_kinds = [
            k for k in IncomeKind.values if k in disregarded_income_kinds
        ]
        rules.marginal_asset_limit = limit
        if phase_out is not None:
            rules.phase_out_months = phase_out
        rules.note = note
        rules.set_by = actor
        rules.save()
    return rules


def _required_text_or(value: str, *, field: str, label: str) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(f"请填写{label}。", field=field)
    return value[:300]
