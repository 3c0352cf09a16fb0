"""Writes of the disbursement app: entitlements and their changes, rosters, the county's side.

Every service is keyword-only and atomic. Roster generation is set-based: one
INSERT ... SELECT per roster with ON CONFLICT DO NOTHING, so generating twice never
duplicates a line and the number of queries does not grow with the number of people.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_fsm import can_proceed

from accounts.models import Role, Unit, User
from accounts.services import (
    SigningCodeRefused,
    check_signing_code,
    record_signing_code_failure,
)
from cases.deadlines import cutoffs
from cases.deadlines.calendar import ROSTER_WINDOW, first_payable_month
from cases.events import locked_case, record_event, require_transition, save_transition
from cases.models import Case, State
from dengkou_aid.errors import Conflict, DomainError, Immutable, NotAllowed
from dengkou_aid.lib.crypto import keyed_hash
from dengkou_aid.lib.masking import mask_account

from .in_force import amount_in_force, in_force_queryset
from .models import (
    DRAFT_STATES,
    SUBMITTED_STATES,
    AccountKind,
    ChangeKind,
    ChangeSource,
    CountyFundRequest,
    Entitlement,
    EntitlementChange,
    PaymentRoster,
    RosterEvent,
    RosterKind,
    RosterLine,
    RosterSignature,
    RosterState,
    SignatureStep,
    category_for,
)
from .roster_review import notify_next_signer

ENTITLED_CASE_STATES = (State.APPROVED, State.IN_PAYMENT, State.STANDING_PUBLICITY)
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Rosters whose lines pay nothing: returned by the county, or a draft the unit discarded.
UNPAID_STATES = (RosterState.RETURNED, RosterState.DISCARDED)


# --- Months ------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return date(day.year, day.month, 1)


def add_months(month: date, n: int) -> date:
    year, index = divmod(month.month - 1 + n, 12)
    return date(month.year + year, index + 1, 1)


def next_month(day: date | None = None) -> date:
    return add_months(month_start(day or timezone.localdate()), 1)


def _require_first_of_month(month: date, field: str) -> date:
    if month.day != 1:
        raise DomainError("月份须为该月1日（如2026-12-01）。", field=field)
    return month


# --- Accounts ----------------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def clean_account_number(account_kind: str, account_number: str) -> str:
    """A bank card: 12-19 digits passing the Luhn check; a social-security card account: digits."""
    number = "".join(ch for ch in (account_number or "") if ch not in " -\u3000")
    if account_kind not in AccountKind.values:
        raise DomainError("请选择账户类型（银行卡或社会保障卡账户）。", field="account_kind")
    if not number.isdigit() or not number.isascii():
        raise DomainError("账号只能由数字组成。", field="account_number")
    if account_kind == AccountKind.BANK_CARD:
        if not 12 <= len(number) <= 19:
            raise DomainError("银行卡号应为12至19位数字。", field="account_number")
        if not luhn_ok(number):
            raise DomainError("银行卡号校验位不正确，请核对后重新输入。", field="account_number")
    elif not 6 <= len(number) <= 32:
        raise DomainError("社会保障卡账户应为6至32位数字。", field="account_number")
    return number


# --- Entitlements ------------------------------------------------------------------------


@transaction.atomic
def create_entitlement(
    *,
    case: Case,
    account_kind: str,
    account_number: str,
    bank_name: str,
    holder_name: str,
    actor: User | None,
    start_month: date | None = None,
) -> Entitlement:
    """An approved case becomes an entitlement paid from the month after confirmation (day-20 cut-off)."""
    number = clean_account_number(account_kind, account_number)
    if not (bank_name or "").strip():
        raise DomainError("请填写开户银行。", field="bank_name")
    if not (holder_name or "").strip():
        raise DomainError("请填写账户户名。", field="holder_name")
    with locked_case(case.pk) as locked:
        if locked.state not in ENTITLED_CASE_STATES:
            raise Conflict(
                f"案件当前状态为“{locked.get_state_display()}”，批准后方可登记发放账户。",
                field="state",
            )
        if Entitlement.objects.filter(case=locked).exists():
            raise Conflict("该案件已登记救助金待遇。", field="case")
        amount = locked.monthly_amount
        if amount is None or amount <= 0:
            raise DomainError(
                "该案件没有核定的月救助金额（如低保边缘家庭不发放救助金），无需登记发放账户。",
                field="monthly_amount",
            )
        start = start_month or _default_start(locked)
        _require_first_of_month(start, "start_month")
        entitlement = Entitlement.objects.create(
            case=locked,
            household_id=locked.household_id,
            unit_id=locked.unit_id,
            village_id=locked.village_id,
            kind=locked.kind,
            area=locked.area,
            care_tier=locked.care_tier,
            category=category_for(locked.kind, locked.area, locked.care_tier),
            monthly_amount=amount,
            amount_since=start,
            start_month=start,
            account_kind=account_kind,
            account_number=number,
            account_hash=keyed_hash(number),
            account_masked=mask_account(number),
            bank_name=bank_name.strip(),
            holder_name=holder_name.strip(),
            created_by=actor,
        )
        EntitlementChange.objects.create(
            entitlement=entitlement,
            effective_month=start,
            kind=ChangeKind.START,
            old_amount=ZERO,
            new_amount=amount,
            reason="审核确认批准，开始发放" if not locked.imported else "存量数据导入",
            source=ChangeSource.IMPORT if locked.imported else ChangeSource.DECISION,
            actor=actor,
        )
        record_event(
            locked,
            action="entitlement_created",
            label="登记发放账户",
            actor=actor,
            data={"start_month": start, "amount": amount, "account": mask_account(number)},
        )
        # Its first periodic review counts from the decision (the monthly task only fills gaps).
        from .reviews.schedule import schedule_review

        schedule_review(entitlement=entitlement, last_review=locked.decided_on or start)
    return entitlement


def _default_start(case: Case) -> date:
    if case.decided_on is None:
        raise DomainError("案件没有审核确认日期，无法确定起始发放月份。", field="start_month")
    return first_payable_month(case.decided_on)


@transaction.atomic
def adjust_entitlement(
    *,
    entitlement: Entitlement,
    effective_month: date,
    new_amount: Decimal,
    reason: str,
    source: str,
    actor: User | None,
) -> EntitlementChange:
    """Change the amount from a month on; rosters already made keep what they froze."""
    new_amount = Decimal(new_amount)
    if new_amount <= 0:
        raise DomainError("调整后金额须大于0；停发请使用停发。", field="new_amount")
    return _change(
        entitlement=entitlement,
        effective_month=effective_month,
        new_amount=new_amount,
        reason=reason,
        source=source,
        actor=actor,
    )


@transaction.atomic
def stop_entitlement(
    *, entitlement: Entitlement, effective_month: date, reason: str, source: str, actor: User | None
) -> EntitlementChange:
    """Stop payment from a month on: the last month paid is the month before."""
    return _change(
        entitlement=entitlement,
        effective_month=effective_month,
        new_amount=ZERO,
        reason=reason,
        source=source,
        actor=actor,
    )


def _change(
    *,
    entitlement: Entitlement,
    effective_month: date,
    new_amount: Decimal,
    reason: str,
    source: str,
    actor: User | None,
) -> EntitlementChange:
    _require_first_of_month(effective_month, "effective_month")
    if not (reason or "").strip():
        raise DomainError("请填写调整原因。", field="reason")
    if source not in ChangeSource.values:
        raise DomainError("变更依据无效。", field="source")
    locked = Entitlement.objects.select_for_update().get(pk=entitlement.pk)
    last = locked.changes.order_by("-effective_month", "-id").first()
    if last is not None and last.kind == ChangeKind.STOP:
        # A stop already scheduled (the end of a phase-out period) may be brought forward by
        # an earlier stop, e.g. a revocation or a death; anything else needs a new application.
        if not (new_amount == 0 and effective_month < last.effective_month):
            raise Conflict(
                "该待遇已停发，不能再调整；恢复保障须重新申请。", field="effective_month"
            )
        last = (
            locked.changes.exclude(kind=ChangeKind.STOP).order_by("-effective_month", "-id").first()
        )
    if effective_month < locked.start_month:
        raise DomainError("生效月份不能早于起始发放月份。", field="effective_month")
    if last is not None and effective_month < last.effective_month:
        raise DomainError(
            f"生效月份不能早于最近一次变更的生效月份（{last.effective_month:%Y年%m月}）。",
            field="effective_month",
        )
    old_amount = amount_in_force(locked, effective_month)
    if new_amount == old_amount:
        raise DomainError("调整后金额与现行金额相同。", field="new_amount")
    kind = (
        ChangeKind.STOP
        if new_amount == 0
        else (ChangeKind.INCREASE if new_amount > old_amount else ChangeKind.DECREASE)
    )
    change = EntitlementChange.objects.create(
        entitlement=locked,
        effective_month=effective_month,
        kind=kind,
        old_amount=old_amount,
        new_amount=new_amount,
        reason=reason.strip(),
        source=source,
        actor=actor,
    )
    locked.monthly_amount = new_amount
    locked.amount_since = effective_month
    update = ["monthly_amount", "amount_since"]
    if kind == ChangeKind.STOP:
        locked.end_month = add_months(effective_month, -1)
        update.append("end_month")
    locked.save(update_fields=update)
    entitlement.refresh_from_db()
    return change


# --- Picking up approved cases -----------------------------------------------------------


def start_payment_for_approved_cases(*, unit_id: int, month: date, actor: User | None) -> int:
    """Approved cases whose entitlement starts by `month` move to in payment and standing publicity.

    The cases layer does not know about payment: the roster, when made, goes and gets them.
    Touches only the unit's newly approved cases (a handful a month), one lock each.
    """
    case_ids = list(
        Case.objects.filter(
            unit_id=unit_id, state=State.APPROVED, entitlement__start_month__lte=month
        ).values_list("pk", flat=True)
    )
    for case_id in case_ids:
        with locked_case(case_id) as case:
            if case.state != State.APPROVED:
                continue
            require_transition(case, "start_payment")
            case.start_payment()
            save_transition(case)
            record_event(
                case,
                action="payment_started",
                label="纳入资金发放",
                actor=actor,
                from_state=State.APPROVED,
                data={"month": month},
            )
            case.publish_standing()
            save_transition(case)
            record_event(
                case,
                action="standing_publicity",
                label="纳入长期公示",
                actor=actor,
                from_state=State.IN_PAYMENT,
            )
    return len(case_ids)


# --- Roster generation -------------------------------------------------------------------

LINE_COLUMNS = (
    "roster_id",
    "entitlement_id",
    "unit_id",
    "village_id",
    "household_id",
    "kind",
    "area",
    "care_tier",
    "category",
    "amount",
    "holder_name",
    "account_kind",
    "account_number",
    "account_masked",
    "bank_name",
)


def _regular_source(roster: PaymentRoster) -> QuerySet:
    """The SELECT that produces a regular roster's lines: every entitlement in force that month."""
    return in_force_queryset(roster.month, unit_id=roster.unit_id).values(
        **{
            "c_roster": Value(roster.pk),
            "c_entitlement": F("id"),
            "c_unit": F("unit_id"),
            "c_village": F("village_id"),
            "c_household": F("household_id"),
            "c_kind": F("kind"),
            "c_area": F("area"),
            "c_care_tier": F("care_tier"),
            "c_category": F("category"),
            "c_amount": F("amount_due"),
            "c_holder": F("holder_name"),
            "c_account_kind": F("account_kind"),
            "c_account": F("account_number"),
            "c_masked": F("account_masked"),
            "c_bank": F("bank_name"),
        }
    )


def _supplementary_source(roster: PaymentRoster) -> QuerySet:
    """Lines of a correction: the amount in force less what the month's earlier rosters paid."""
    paid = (
        RosterLine.objects.filter(
            entitlement=OuterRef("pk"),
            roster__unit_id=roster.unit_id,
            roster__month=roster.month,
            roster__id__lt=roster.pk,
        )
        .exclude(roster__state__in=UNPAID_STATES)
        .values("entitlement")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    latest = (
        EntitlementChange.objects.filter(
            entitlement=OuterRef("pk"), effective_month__lte=roster.month
        )
        .order_by("-effective_month", "-id")
        .values("new_amount")[:1]
    )
    due = Coalesce(Subquery(latest), Value(ZERO))
    already = Coalesce(Subquery(paid), Value(ZERO))
    return (
        Entitlement.objects.filter(unit_id=roster.unit_id, start_month__lte=roster.month)
        .annotate(c_amount=due - already)
        .exclude(c_amount=0)
        .values(
            **{
                "c_roster": Value(roster.pk),
                "c_entitlement": F("id"),
                "c_unit": F("unit_id"),
                "c_village": F("village_id"),
                "c_household": F("household_id"),
                "c_kind": F("kind"),
                "c_area": F("area"),
                "c_care_tier": F("care_tier"),
                "c_category": F("category"),
                "c_amount2": F("c_amount"),
                "c_holder": F("holder_name"),
                "c_account_kind": F("account_kind"),
                "c_account": F("account_number"),
                "c_masked": F("account_masked"),
                "c_bank": F("bank_name"),
            }
        )
    )


def _insert_lines(source: QuerySet) -> int:
    """INSERT ... SELECT ... ON CONFLICT DO NOTHING: idempotent and one statement."""
    select_sql, params = source.query.sql_with_params()
    table = RosterLine._meta.db_table
    columns = ", ".join(connection.ops.quote_name(c) for c in LINE_COLUMNS)
    sql = f"INSERT INTO {table} ({columns}) {select_sql} ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        # Compiling a per-unit statement costs more than running it (seconds of JIT).
        cursor.execute("SET LOCAL jit = off")
        # A roster can always be generated again, so its commit need not wait for the disk.
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute(sql, params)
        return cursor.rowcount


def _refresh_totals(roster: PaymentRoster) -> None:
    """The roster's count, total and per-category subtotals from its lines (one GROUP BY)."""
    rows = sorted(
        roster.lines.order_by()
        .values("category")
        .annotate(n=Count("id"), s=Sum("amount"))
        .values_list("category", "n", "s"),
    )
    roster.subtotals = {category: [n, str(s.quantize(CENT))] for category, n, s in rows}
    roster.line_count = sum(n for _, n, _ in rows)
    roster.total_amount = sum((s for _, _, s in rows), ZERO)


def _delete_stale_lines(roster: PaymentRoster) -> int:
    """Lines of a regular roster no longer matching the entitlement in force (one DELETE)."""
    current = in_force_queryset(roster.month, unit_id=roster.unit_id).filter(
        pk=OuterRef("entitlement_id"), amount_due=OuterRef("amount")
    )
    deleted, _ = RosterLine.objects.filter(roster=roster).exclude(Exists(current)).delete()
    return deleted


def _unit_or_refuse(unit_id: int) -> Unit:
    unit = Unit.objects.get(pk=unit_id)
    if not unit.is_approval_unit:
        raise DomainError("只有苏木镇、农场公司编制发放清册。", field="unit")
    return unit


@transaction.atomic
def generate_roster(*, unit: Unit, month: date, actor: User | None) -> PaymentRoster:
    """Make or refresh the unit's regular roster for a month; generating again adds nothing twice."""
    _require_first_of_month(month, "month")
    _unit_or_refuse(unit.pk)
    start_payment_for_approved_cases(unit_id=unit.pk, month=month, actor=actor)
    roster = (
        PaymentRoster.objects.select_for_update()
        .filter(unit=unit, month=month, kind=RosterKind.REGULAR)
        .exclude(state=RosterState.RETURNED)
        .first()
    )
    if roster is not None and roster.is_frozen:
        raise Immutable(
            f"{unit.name}{month:%Y年%m月}的发放清册已报送，不可重新生成；如需更正请编制补发清册。",
            field="month",
        )
    created = roster is None
    if created:
        roster = PaymentRoster.objects.create(
            unit=unit, month=month, kind=RosterKind.REGULAR, generated_by=actor
        )
    before = (roster.line_count, roster.total_amount)
    removed = 0 if created else _delete_stale_lines(roster)
    added = _insert_lines(_regular_source(roster))
    _refresh_totals(roster)
    changed = created or removed or added or before != (roster.line_count, roster.total_amount)
    if not created and changed:
        roster.regenerate()  # the content moved: earlier signatures no longer count
    if changed:
        roster.generated_by = actor
        roster.save()
        _event(roster, "generated", "生成清册", actor, data={"added": added, "removed": removed})
        notify_next_signer(roster)
    return roster


@transaction.atomic
def generate_supplementary_roster(
    *, unit: Unit, month: date, reason: str, actor: User | None
) -> PaymentRoster:
    """A correction for a month already submitted: pays (or recovers) the difference, with a reason.

    The month's submitted regular roster is locked first, so two clicks or two handlers make
    one draft: the second is told one is open (409). A draft never blocks for good: once it
    is submitted or discarded the next one may be made.
    """
    _require_first_of_month(month, "month")
    _unit_or_refuse(unit.pk)
    if not (reason or "").strip():
        raise DomainError("编制补发清册须填写原因。", field="reason")
    _require_correctable_month(month)
    regular = (
        PaymentRoster.objects.select_for_update()
        .filter(unit=unit, month=month, kind=RosterKind.REGULAR)
        .live()
        .first()
    )
    if regular is None or not regular.is_frozen:
        raise DomainError(
            "本月正常清册尚未报送，请直接重新生成正常清册，无需补发清册。", field="month"
        )
    open_one = PaymentRoster.objects.filter(
        unit=unit, month=month, kind=RosterKind.SUPPLEMENTARY, state__in=DRAFT_STATES
    ).first()
    if open_one is not None:
        raise Conflict(
            f"本月已有一份未报送的补发清册（{open_one.get_state_display()}），"
            "请先报送，或重新生成、作废后再编制。",
            field="month",
        )
    start_payment_for_approved_cases(unit_id=unit.pk, month=month, actor=actor)
    try:
        with transaction.atomic():
            roster = PaymentRoster.objects.create(
                unit=unit,
                month=month,
                kind=RosterKind.SUPPLEMENTARY,
                reason=reason.strip(),
                generated_by=actor,
            )
    except IntegrityError:
        raise Conflict("本月已有一份未报送的补发清册，请刷新页面后查看。", field="month") from None
    added = _insert_lines(_supplementary_source(roster))
    _refresh_totals(roster)
    roster.save(update_fields=["line_count", "total_amount", "subtotals", "updated_at"])
    _event(roster, "generated", "生成补发清册", actor, note=reason, data={"added": added})
    notify_next_signer(roster)
    return roster


def _require_correctable_month(month: date) -> None:
    """A correction is for a payment month that has come: never one whose roster is not due yet."""
    current = cutoffs.roster_month(timezone.localdate())
    if month > current:
        raise DomainError(
            f"{month:%Y年%m月}尚未到发放月份，不能编制补发清册；"
            f"当前可更正的最近月份为{current:%Y年%m月}。",
            field="month",
        )


def _locked_draft(roster: PaymentRoster, actor: User, doing: str) -> PaymentRoster:
    """The supplementary draft, locked; refused for anyone but the unit's handler."""
    if not (actor.has_role(Role.HANDLER) and actor.unit_id == roster.unit_id):
        raise NotAllowed(f"补发清册须由本单位经办人{doing}。")
    locked = PaymentRoster.objects.select_for_update().get(pk=roster.pk)
    if locked.kind != RosterKind.SUPPLEMENTARY:
        raise DomainError(f"只有补发清册可在此{doing}；正常清册请在报送前重新生成。")
    if locked.state not in DRAFT_STATES:
        raise Conflict(
            f"清册当前状态为“{locked.get_state_display()}”，不能{doing}。", field="state"
        )
    return locked


@transaction.atomic
def regenerate_supplementary_roster(*, roster: PaymentRoster, actor: User) -> PaymentRoster:
    """Recompute a supplementary draft's lines from what is owed now; earlier signatures lapse."""
    locked = _locked_draft(roster, actor, "重新生成")
    before = (locked.line_count, locked.total_amount)
    removed, _ = RosterLine.objects.filter(roster=locked).delete()
    added = _insert_lines(_supplementary_source(locked))
    _refresh_totals(locked)
    locked.regenerate()  # a new round: signatures over the old content no longer count
    locked.generated_by = actor
    locked.save()
    _event(
        locked,
        "regenerated",
        "重新生成补发清册",
        actor,
        note=f"{before[0]}户{before[1]}元 → {locked.line_count}户{locked.total_amount}元",
        data={"added": added, "removed": removed, "round": locked.round},
    )
    notify_next_signer(locked)
    roster.refresh_from_db()
    return locked


@transaction.atomic
def discard_supplementary_roster(
    *, roster: PaymentRoster, reason: str, actor: User
) -> PaymentRoster:
    """Set a supplementary draft aside for good, with a reason: kept as 已作废, never paid.

    Nothing is deleted: its lines and any signatures stay as the record, frozen by the same
    triggers as a submitted roster, and it no longer blocks the next correction.
    """
    if not (reason or "").strip():
        raise DomainError("作废补发清册须填写原因。", field="reason")
    locked = _locked_draft(roster, actor, "作废")
    locked.discard()
    locked.save(update_fields=["state", "updated_at"])
    _event(locked, "discarded", "作废补发清册", actor, note=reason.strip())
    roster.refresh_from_db()
    return locked


def generate_all_rosters(*, month: date, actor: User | None) -> list[PaymentRoster]:
    """The 20th's run: every active approval unit's regular roster; frozen ones are left alone."""
    rosters = []
    for unit in Unit.objects.approval_units().filter(is_active=True).order_by("code"):
        try:
            rosters.append(generate_roster(unit=unit, month=month, actor=actor))
        except Immutable:
            continue
    return rosters


# --- Reconciliation ----------------------------------------------------------------------


def reconcile_roster(roster: PaymentRoster) -> list[str]:
    """Differences between the roster and the entitlements in force; empty when it reconciles.

    Checks the roster's stored total against its lines, and the month's live rosters of the
    unit (this one and the earlier ones) against the amounts in force, entitlement by entitlement.
    """
    problems: list[str] = []
    totals = roster.lines.aggregate(n=Count("id"), s=Sum("amount"))
    if (totals["n"] or 0) != roster.line_count or (totals["s"] or ZERO) != roster.total_amount:
        problems.append(
            f"清册合计（{roster.line_count}户，{roster.total_amount}元）与明细"
            f"（{totals['n'] or 0}户，{totals['s'] or ZERO}元）不一致。"
        )
    differences, count = _differences(roster)
    if count:
        names = dict(
            Entitlement.objects.filter(pk__in=[d[0] for d in differences]).values_list(
                "pk", "case__number"
            )
        )
        shown = "；".join(
            f"案件{names.get(pk, pk)}应发{d}元、清册{p}元" for pk, d, p in differences
        )
        more = f"等{count}处" if count > len(differences) else ""
        problems.append(f"清册与在保待遇不一致：{shown}{more}。请重新生成清册。")
    return problems


def _differences(roster: PaymentRoster, shown: int = 5) -> tuple[list[tuple], int]:
    """Entitlements whose amount in force differs from what the month's live rosters pay.

    One statement: the amounts due FULL OUTER JOIN the amounts paid (this roster and the
    unit's earlier live rosters of the month), keeping only the rows that differ.
    """
    due_sql, due_params = (
        in_force_queryset(roster.month, unit_id=roster.unit_id)
        .values(due_id=F("pk"), due=F("amount_due"))
        .query.sql_with_params()
    )
    paid_sql, paid_params = (
        RosterLine.objects.filter(
            roster__unit_id=roster.unit_id, roster__month=roster.month, roster__id__lte=roster.pk
        )
        .exclude(roster__state__in=UNPAID_STATES)
        .values(paid_id=F("entitlement_id"))
        .annotate(paid=Sum("amount"))
        .values("paid_id", "paid")
        .order_by()
        .query.sql_with_params()
    )
    sql = f"""
        SELECT COALESCE(d.due_id, p.paid_id), COALESCE(d.due, 0), COALESCE(p.paid, 0),
               COUNT(*) OVER ()
        FROM ({due_sql}) d FULL OUTER JOIN ({paid_sql}) p ON p.paid_id = d.due_id
        WHERE COALESCE(d.due, 0) <> COALESCE(p.paid, 0)
        ORDER BY 1
        LIMIT {int(shown)}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*due_params, *paid_params])
        rows = cursor.fetchall()
    if not rows:
        return [], 0
    money = RosterLine._meta.get_field("amount")
    return [(pk, _money(money, due), _money(money, paid)) for pk, due, paid, _ in rows], rows[0][3]


def _money(field, value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def reconcile_month(month: date) -> list[str]:
    """The month's fund request (if any) against the sum of the unit rosters, unit by unit."""
    request = CountyFundRequest.objects.filter(month=month).order_by("-id").first()
    if request is None:
        return []
    per_unit: dict[int, Decimal] = {}
    for row in request.totals:
        per_unit[row["unit_id"]] = per_unit.get(row["unit_id"], ZERO) + Decimal(row["amount"])
    actual = dict(
        request.rosters.values("unit_id")
        .annotate(s=Sum("total_amount"))
        .values_list("unit_id", "s")
    )
    names = dict(
        Unit.objects.filter(pk__in=per_unit.keys() | actual.keys()).values_list("pk", "name")
    )
    problems = [
        f"{names.get(u, u)}：汇总{per_unit.get(u, ZERO):.2f}元，清册合计{actual.get(u, ZERO):.2f}元"
        for u in sorted(per_unit.keys() | actual.keys())
        if per_unit.get(u, ZERO) != actual.get(u, ZERO)
    ]
    if sum(per_unit.values(), ZERO) != request.total_amount:
        problems.append(f"请款总额{request.total_amount:.2f}元与分单位合计不一致")
    return problems


# --- Signatures and submission -----------------------------------------------------------

STEP_ROLES = {
    SignatureStep.PREPARE: Role.HANDLER,
    SignatureStep.DIRECT: Role.DIRECT_RESPONSIBLE,
    SignatureStep.FIRST: Role.FIRST_RESPONSIBLE,
}
STEP_ORDER = (SignatureStep.PREPARE, SignatureStep.DIRECT, SignatureStep.FIRST)


def roster_content(roster: PaymentRoster) -> dict[str, Any]:
    """What a signer signs: the roster's identity, totals, subtotals and a fingerprint of its lines."""
    subtotals = list(
        roster.lines.values("category")
        .annotate(n=Count("id"), s=Sum("amount"))
        .order_by("category")
        .values_list("category", "n", "s")
    )
    fingerprint = roster.lines.aggregate(
        ids=Coalesce(Sum("entitlement_id"), 0), weighted=Sum(F("entitlement_id") * F("amount"))
    )
    return json.loads(
        json.dumps(
            {
                "roster": roster.pk,
                "unit": roster.unit_id,
                "month": roster.month,
                "kind": roster.kind,
                "round": roster.round,
                "count": roster.line_count,
                "total": roster.total_amount,
                "subtotals": subtotals,
                "fingerprint": [fingerprint["ids"], fingerprint["weighted"]],
            },
            cls=DjangoJSONEncoder,
            sort_keys=True,
        )
    )


def valid_signatures(roster: PaymentRoster) -> QuerySet[RosterSignature]:
    return roster.signatures.filter(round=roster.round)


def next_step(roster: PaymentRoster) -> str | None:
    done = set(valid_signatures(roster).values_list("step", flat=True))
    return next((step for step in STEP_ORDER if step not in done), None)


def sign_roster(*, roster: PaymentRoster, actor: User, otp_token: str = "") -> RosterSignature:
    """The handler prepares, then the direct-responsible, then the first-responsible sign;
    a leader re-enters a one-time code to sign (谁签字，谁负责)."""
    try:
        return _sign_roster(roster=roster, actor=actor, otp_token=otp_token)
    except SigningCodeRefused as refused:
        # Nothing was signed; a wrong code still counts against guessing, after the rollback.
        if refused.wrong_code_of is not None:
            record_signing_code_failure(refused.wrong_code_of)
        raise


@transaction.atomic
def _sign_roster(*, roster: PaymentRoster, actor: User, otp_token: str) -> RosterSignature:
    locked = PaymentRoster.objects.select_for_update().get(pk=roster.pk)
    if locked.state != RosterState.PREPARED:
        raise Conflict(f"清册当前状态为“{locked.get_state_display()}”，不能签字。", field="state")
    step = next_step(locked)
    role = STEP_ROLES[step]
    if not (actor.has_role(role) and actor.unit_id == locked.unit_id):
        raise NotAllowed(f"当前应由本单位{Role(role).label}签字（{SignatureStep(step).label}）。")
    problems = reconcile_roster(locked)
    if problems:
        raise DomainError("清册未通过核对，不能签字：" + " ".join(problems), field="reconcile")
    content = roster_content(locked)
    check_signing_code(actor, otp_token)
    signature = RosterSignature.create_signed(
        signer=actor,
        role=role,
        over=content,
        roster=locked,
        round=locked.round,
        step=step,
        content=content,
    )
    if step == SignatureStep.FIRST:
        locked.complete_signatures()
        locked.save(update_fields=["state", "updated_at"])
    _event(locked, f"signed_{step}", SignatureStep(step).label, actor)
    notify_next_signer(locked)
    roster.refresh_from_db()
    return signature


@transaction.atomic
def submit_roster(*, roster: PaymentRoster, actor: User) -> PaymentRoster:
    """Submit a fully signed, reconciled roster to the county between the 20th and the 25th."""
    locked = PaymentRoster.objects.select_for_update().get(pk=roster.pk)
    if not (
        actor.has_role(Role.HANDLER, Role.FIRST_RESPONSIBLE) and actor.unit_id == locked.unit_id
    ):
        raise NotAllowed("清册须由本单位经办人或第一责任人报送。")
    if not can_proceed(locked.submit):
        raise Conflict(
            f"清册当前状态为“{locked.get_state_display()}”，须经办人、分管领导、第一责任人签字后报送。",
            field="state",
        )
    today = timezone.localdate()
    if locked.kind == RosterKind.REGULAR:
        # A month's roster goes in during its own window, not the 20th–25th of any month.
        if not cutoffs.roster_submission_open(locked.unit, locked.month, today):
            opens, closes = cutoffs.roster_window(locked.month)
            due = cutoffs.roster_due_date(locked.unit, locked.month)
            late = f"（县民政局准予延至{due:%m月%d日}）" if due > closes else ""
            raise DomainError(
                f"{locked.month:%Y年%m月}发放清册须在{opens:%Y年%m月}{opens.day}日至{closes.day}日"
                f"报送{late}，今天是{today:%Y年%m月%d日}；如需延后请向县民政局申请。",
                field="submitted_at",
            )
    elif not cutoffs.roster_window_open(today, locked.unit):
        first, last = ROSTER_WINDOW
        raise DomainError(
            f"补发/更正清册须在每月{first}日至{last}日报送（今天是{today:%m月%d日}）；"
            "如需延后请向县民政局申请。",
            field="submitted_at",
        )
    problems = reconcile_roster(locked)
    if problems:
        raise DomainError("清册未通过核对，不能报送：" + " ".join(problems), field="reconcile")
    locked.submit(by=actor)
    locked.save(update_fields=["state", "submitted_at", "submitted_by", "updated_at"])
    _event(locked, "submitted", "报送县民政局", actor)
    roster.refresh_from_db()
    return locked


def _require_county(actor: User) -> None:
    if not (actor.is_county_staff and actor.has_role(Role.COUNTY_FINANCE, Role.COUNTY_SUPERVISOR)):
        raise NotAllowed("此操作须由县民政局资金管理人员办理。")


@transaction.atomic
def return_roster(*, roster: PaymentRoster, reason: str, actor: User) -> PaymentRoster:
    """The county returns a submitted roster with a reason; the unit makes a new one."""
    _require_county(actor)
    if not (reason or "").strip():
        raise DomainError("退回清册须填写原因。", field="reason")
    locked = PaymentRoster.objects.select_for_update().get(pk=roster.pk)
    if not can_proceed(locked.send_back):
        raise Conflict(f"清册当前状态为“{locked.get_state_display()}”，不能退回。", field="state")
    if locked.fund_requests.exists():
        raise Conflict("该清册已纳入县级请款汇总，不能退回。", field="state")
    locked.send_back(by=actor, reason=reason.strip())
    locked.save(
        update_fields=["state", "returned_reason", "decided_by", "decided_at", "updated_at"]
    )
    _event(locked, "returned", "县民政局退回", actor, note=reason)
    roster.refresh_from_db()
    return locked


def units_expected(month: date) -> QuerySet[Unit]:
    """Approval units with anyone to pay in the month: each must submit a roster."""
    units = in_force_queryset(month).values("unit_id")
    return Unit.objects.approval_units().filter(pk__in=units).order_by("code")


def county_totals(month: date) -> list[dict[str, Any]]:
    """Per unit and category, count and amount over the month's live submitted rosters.

    Summed from each roster's subtotals, written with its lines and frozen with them on
    submission: a hundred rows rather than a million lines. The fund request totals the lines
    themselves, and `reconcile_month` compares the two.
    """
    rosters = (
        PaymentRoster.objects.filter(month=month, state__in=SUBMITTED_STATES)
        .select_related("unit")
        .order_by()
    )
    sums: dict[tuple[str, str], dict[str, Any]] = {}
    for roster in rosters:
        for category, (count, amount) in roster.subtotals.items():
            row = sums.setdefault(
                (roster.unit.code, category),
                {
                    "unit_id": roster.unit_id,
                    "unit_code": roster.unit.code,
                    "unit": roster.unit.name,
                    "category": category,
                    "count": 0,
                    "amount": ZERO,
                },
            )
            row["count"] += count
            row["amount"] += Decimal(amount)
    return [{**row, "amount": str(row["amount"])} for _, row in sorted(sums.items())]


@transaction.atomic
def create_fund_request(*, month: date, actor: User, note: str = "") -> CountyFundRequest:
    """Once every unit's roster is in, total them per unit and category for the finance bureau."""
    _require_county(actor)
    _require_first_of_month(month, "month")
    submitted = PaymentRoster.objects.select_for_update(of=("self",)).filter(
        month=month, state__in=(RosterState.SUBMITTED, RosterState.ACCEPTED)
    )
    missing = units_expected(month).exclude(
        pk__in=submitted.filter(kind=RosterKind.REGULAR).values("unit_id")
    )
    if missing.exists():
        names = "、".join(missing.values_list("name", flat=True)[:10])
        raise DomainError(f"以下单位尚未报送本月清册：{names}。", field="month")
    pending = list(submitted.filter(fund_requests__isnull=True))
    if not pending:
        raise Conflict("本月没有新报送的清册需要汇总。", field="month")
    for roster in pending:
        problems = reconcile_roster(roster)
        if problems:
            raise DomainError(f"{roster.unit.name}清册未通过核对：" + " ".join(problems))
    totals = _totals_of(pending)
    request = CountyFundRequest.objects.create(
        month=month,
        total_amount=sum((Decimal(r["amount"]) for r in totals), ZERO),
        line_count=sum(r["count"] for r in totals),
        totals=totals,
        created_by=actor,
        note=note,
    )
    request.rosters.set(pending)
    for roster in pending:
        if roster.state == RosterState.SUBMITTED:
            roster.accept(by=actor)
            roster.save(update_fields=["state", "decided_by", "decided_at", "updated_at"])
            _event(roster, "accepted", "纳入县级请款汇总", actor, data={"request": request.pk})
    problems = reconcile_month(month)
    if problems:
        raise DomainError("县级汇总与各单位清册不一致：" + "；".join(problems))
    return request


def _totals_of(rosters: list[PaymentRoster]) -> list[dict[str, Any]]:
    rows = (
        RosterLine.objects.filter(roster__in=rosters)
        .values("unit_id", "unit__code", "unit__name", "category")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by("unit__code", "category")
    )
    return [
        {
            "unit_id": row["unit_id"],
            "unit_code": row["unit__code"],
            "unit": row["unit__name"],
            "category": row["category"],
            "count": row["count"],
            "amount": str(row["amount"]),
        }
        for row in rows
    ]


def _event(
    roster: PaymentRoster,
    action: str,
    label: str,
    actor: User | None,
    *,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> RosterEvent:
    return RosterEvent.objects.create(
        roster=roster,
        action=action,
        label=label,
        actor=actor,
        note=note,
        data=json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder)),
    )
