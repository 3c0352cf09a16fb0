"""Periodic reviews (定期复核) of households in payment, and their outcomes.

Every entitlement has a `ReviewSchedule`: the next review date by the county's rule
(yearly for tekun and households whose income changes little, every six months for
households with a member able to work and irregular income). The monthly task opens the
reviews that fall due; a household has at most one review under way. A review runs a
short workflow (verification if required, home visit, new income calculation) and ends in
an outcome signed by the handler, the direct-responsible and the first-responsible leader.
The decided outcome changes the entitlement from the next payable month (day-20 cut-off)
through `disbursement.services`; rosters already made keep what they froze.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import (
    Count,
    Q,
    QuerySet,
)
from django.utils import timezone
from django_fsm import can_proceed

from accounts.models import Role, User
from accounts.notify import county_supervisors, notify, staff_with_role
from accounts.services import (
    SigningCodeRefused,
    check_signing_code,
    record_signing_code_failure,
)
from cases import rechecks
from cases.deadlines.calendar import first_payable_month
from cases.events import locked_case, record_event
from cases.models import (
    Case,
    CountyRules,
    DocType,
    Kind,
    Person,
    VerificationReport,
    WorkAbility,
)
from cases.permissions import acting_role
from dengkou_aid.errors import Conflict, DomainError, NotAllowed
from disbursement import services
from disbursement.models import (
    OPEN_REVIEW_STATES,
    ChangeSource,
    Entitlement,
    Review,
    ReviewOutcome,
    ReviewRule,
    ReviewSchedule,
    ReviewSignature,
    ReviewState,
    ReviewStep,
    ReviewTrigger,
)

from .facts import (
    Facts,
    current_facts,
    record_found_facts,
    review_assessment,
    save_facts,
    summary,
)
from .schedule import schedule_review  # review dates and rules live in schedule.py

ZERO = Decimal("0.00")


# --- Selectors ---------------------------------------------------------------------------


def entitlements_in_payment(day: date | None = None) -> QuerySet[Entitlement]:
    """Entitlements not stopped before this month (including those starting next month)."""
    month = services.month_start(day or timezone.localdate())
    return Entitlement.objects.filter(Q(end_month__isnull=True) | Q(end_month__gte=month))


def open_review_for(household_id: int) -> Review | None:
    return Review.objects.filter(household_id=household_id, state__in=OPEN_REVIEW_STATES).first()


# --- The monthly task's work ---------------------------------------------------------------


def ensure_schedules(*, today: date | None = None) -> int:
    """Give every entitlement in payment without a schedule one, from its decision date."""
    today = today or timezone.localdate()
    return _ensure_schedules_in_sql(today, CountyRules.in_force(today))


def _ensure_schedules_in_sql(today: date, rules: CountyRules) -> int:
    """In one statement: PostgreSQL's `date + interval 'N months'` keeps the day or
    falls back to the month's last day, as `add_months_to_day` does. The existing schedules
    are read once, before the insert (see `_open_due_reviews_in_sql`)."""
    own_transaction = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        _local_settings(cursor, own_transaction=own_transaction)
        cursor.execute(
            f"""
            INSERT INTO {ReviewSchedule._meta.db_table}
                (entitlement_id, household_id, rule, last_review_on, next_review_on, updated_at)
            WITH scheduled AS MATERIALIZED (
                SELECT entitlement_id FROM {ReviewSchedule._meta.db_table}
            )
            SELECT due.id, due.household_id, due.rule, due.last,
                   (due.last + make_interval(months => CASE WHEN due.rule = %(volatile)s
                        THEN %(volatile_months)s ELSE %(stable_months)s END))::date,
                   now()
            FROM (
                SELECT e.id, e.household_id, COALESCE(c.decided_on, e.start_month) AS last,
                       CASE WHEN e.kind <> %(tekun)s AND EXISTS (
                                SELECT 1 FROM {Person._meta.db_table} p
                                WHERE p.household_id = e.household_id AND p.left_on IS NULL
                                  AND p.work_ability = %(able)s AND p.income_irregular)
                            THEN %(volatile)s ELSE %(stable)s END AS rule
                FROM {Entitlement._meta.db_table} e
                JOIN {Case._meta.db_table} c ON c.id = e.case_id
                WHERE (e.end_month IS NULL OR e.end_month >= %(month)s)
                  AND NOT EXISTS (SELECT 1 FROM scheduled s WHERE s.entitlement_id = e.id)
            ) due
            ON CONFLICT (entitlement_id) DO NOTHING
            """,
            {
                "volatile": ReviewRule.VOLATILE,
                "stable": ReviewRule.STABLE,
                "volatile_months": rules.review_months_volatile,
                "stable_months": rules.review_months_stable,
                "tekun": Kind.TEKUN,
                "able": WorkAbility.ABLE,
                "month": services.month_start(today),
            },
        )
        return cursor.rowcount


def _local_settings(cursor, *, own_transaction: bool) -> None:
    """For one large set-based statement: JIT compilation costs seconds and gains nothing
    (the plan is a few joins); the commit need not wait for the disk, as a result lost in a
    crash is simply redone by the next run (every statement here is idempotent). Not when
    the statement runs inside a caller's transaction: its other writes may matter more."""
    cursor.execute("SET LOCAL jit = off")
    if own_transaction:
        cursor.execute("SET LOCAL synchronous_commit = off")


def open_due_reviews(*, today: date | None = None) -> int:
    """Open the scheduled reviews due by `today`; running it again opens nothing new."""
    today = today or timezone.localdate()
    ensure_schedules(today=today)
    opened = _open_due_reviews_in_sql(today)
    if opened:
        _notify_units_of_due_reviews(today)
    return opened


def _open_due_reviews_in_sql(today: date) -> int:
    """One INSERT ... SELECT for every due schedule. The households with a review under way
    are read once, before the insert (a MATERIALIZED CTE): with a plan that probed the
    review table for each candidate row, each probe also walked the rows this very
    statement had just inserted, and a million openings took minutes."""
    now = timezone.now()
    columns = ", ".join(connection.ops.quote_name(c) for c in REVIEW_COLUMNS)
    own_transaction = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        hold_review_opening_lock()
        _local_settings(cursor, own_transaction=own_transaction)
        # Sorting a million rows by household in memory: the household indexes then fill in order.
        cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute(
            f"""
            INSERT INTO {Review._meta.db_table} ({columns})
            WITH under_way AS MATERIALIZED (
                SELECT household_id FROM {Review._meta.db_table} WHERE state = ANY(%(open)s)
            )
            SELECT s.entitlement_id, e.case_id, s.household_id, e.unit_id, e.village_id,
                   %(trigger)s, %(today)s, s.next_review_on, %(state)s, 0,
                   s.rule = %(volatile)s, '[]', '', '{{}}', '', '', false, '', %(now)s, %(now)s
            FROM {ReviewSchedule._meta.db_table} s
            JOIN {Entitlement._meta.db_table} e ON e.id = s.entitlement_id
            WHERE s.next_review_on <= %(today)s
              AND (e.end_month IS NULL OR e.end_month >= %(month)s)
              AND NOT EXISTS (SELECT 1 FROM under_way u WHERE u.household_id = s.household_id)
            ORDER BY s.household_id
            ON CONFLICT DO NOTHING
            """,
            {
                "open": list(OPEN_REVIEW_STATES),
                "trigger": ReviewTrigger.SCHEDULE,
                "today": today,
                "state": ReviewState.OPEN,
                "volatile": ReviewRule.VOLATILE,
                "now": now,
                "month": services.month_start(today),
            },
        )
        return cursor.rowcount


REVIEW_COLUMNS = (
    "entitlement_id",
    "case_id",
    "household_id",
    "unit_id",
    "village_id",
    "trigger",
    "opened_on",
    "due_on",
    "state",
    "version",
    "verification_required",
    "investigators",
    "visit_findings",
    "working",
    "outcome",
    "reason",
    "income_above_standard",
    "closed_reason",
    "created_at",
    "updated_at",
)


REVIEW_OPENING_LOCK = 7_007_001


def hold_review_opening_lock() -> None:
    """Serialize bulk review opening (monthly task, comparison import) until the transaction
    ends: two bulk inserts of reviews for overlapping households in different orders would
    otherwise deadlock on the one-open-review-per-household index."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REVIEW_OPENING_LOCK])


def _notify_units_of_due_reviews(today: date) -> None:
    """One notice per unit handler per month: how many reviews are waiting."""
    counts = (
        Review.objects.filter(state__in=OPEN_REVIEW_STATES)
        .values("unit_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in counts:
        for user in staff_with_role(Role.HANDLER, unit_id=row["unit_id"]):
            notify(
                user,
                key=f"reviews-due:{row['unit_id']}:{today:%Y-%m}",
                title=f"本单位有{row['n']}户在保家庭待复核",
                url="/reviews/",
            )


def flag_overdue_reviews(*, today: date | None = None) -> int:
    """Tell the county's supervisors, once per unit and month, which units have overdue reviews."""
    today = today or timezone.localdate()
    counts = (
        Review.objects.filter(state__in=OPEN_REVIEW_STATES, due_on__lt=today)
        .values("unit_id", "unit__name")
        .annotate(n=Count("id"))
        .order_by("unit_id")
    )
    flagged = 0
    supervisors = list(county_supervisors())
    for row in counts:
        flagged += row["n"]
        for user in supervisors:
            notify(
                user,
                key=f"reviews-overdue:{row['unit_id']}:{today:%Y-%m}",
                title=f"{row['unit__name']}有{row['n']}户复核已逾期",
                url=f"/reviews/?overdue=1&unit={row['unit_id']}",
            )
    return flagged


# --- Opening one review ----------------------------------------------------------------------


def open_review(
    *,
    entitlement: Entitlement,
    trigger: str,
    actor: User | None,
    verification_required: bool = False,
    today: date | None = None,
) -> Review:
    """Open a review of a household in payment; refused while the household has one under way."""
    today = today or timezone.localdate()
    if actor is not None:
        acting_role(actor, entitlement.case, Role.HANDLER)
    if entitlement.end_month is not None and entitlement.end_month < services.month_start(today):
        raise Conflict("该待遇已停发，无需复核。", field="entitlement")
    existing = open_review_for(entitlement.household_id)
    if existing is not None:
        raise Conflict(_already_open(existing), field="household")
    try:
        with transaction.atomic():
            review = Review.objects.create(
                entitlement=entitlement,
                case_id=entitlement.case_id,
                household_id=entitlement.household_id,
                unit_id=entitlement.unit_id,
                village_id=entitlement.village_id,
                trigger=trigger,
                opened_on=today,
                due_on=today,
                verification_required=verification_required,
            )
    except IntegrityError:
        raise Conflict(
            _already_open(open_review_for(entitlement.household_id)), field="household"
        ) from None
    return review


def _already_open(review: Review | None) -> str:
    if review is None:
        return "该家庭已有正在进行的复核，不能重复启动。"
    return (
        f"该家庭已有正在进行的复核（复核#{review.pk}，{review.get_state_display()}，"
        f"{review.opened_on:%Y-%m-%d}启动），不能重复启动。"
    )


# --- The review's workflow ---------------------------------------------------------------------


def _locked_review(review_id: int, expected_version: int | None) -> Review:
    review = (
        Review.objects.select_for_update().select_related("entitlement", "case").get(pk=review_id)
    )
    if expected_version is not None and review.version != expected_version:
        raise Conflict("该复核已被他人修改，请刷新后重试。", field="version")
    return review


def _require(review: Review, method_name: str) -> None:
    if not can_proceed(getattr(review, method_name), check_conditions=False):
        raise Conflict(
            f"复核当前状态为“{review.get_state_display()}”，不能办理此操作。", field="state"
        )


def _save(review: Review, *fields: str) -> None:
    review.version += 1
    review.save(update_fields=["state", "version", "updated_at", *fields])


def request_review_verification(
    *, review: Review, actor: User, note: str = "", version: int | None = None
) -> Review:
    """Ask the county centre for a new economic-status check of the household; the request
    lands in the verification officer's queue and its report comes back to the review."""
    acting_role(actor, review.case, Role.HANDLER)
    with transaction.atomic():
        review = _locked_review(review.pk, version)
        _require(review, "request_verification")
        review.verification_request = rechecks.request_recheck(
            actor=actor, case=review.case, note=note.strip() or f"复核#{review.pk}重新核对"
        )
        review.request_verification()
        _save(review, "verification_request")
        _case_event(review, action="review_verification", label="复核：委托重新核对", actor=actor)
    return review


def verification_report(review: Review):
    """The centre's report on the review's re-check, or None (not asked, or not back yet)."""
    if review.verification_request_id is None:
        return None
    return VerificationReport.objects.filter(request_id=review.verification_request_id).first()


def record_review_visit(
    *,
    review: Review,
    actor: User,
    visited_on: date,
    investigators: list[dict[str, str]],
    findings: str,
    facts: Facts | None = None,
    version: int | None = None,
) -> Review:
    """Record the home visit (two investigators at least, as for a first decision) and the
    household's facts as found; without `facts`, the case's records as they stand are taken."""
    acting_role(actor, review.case, Role.HANDLER)
    rules = CountyRules.in_force(visited_on)
    names = [i for i in investigators if (i.get("name") or "").strip()]
    if len(names) < rules.minimum_investigators:
        raise DomainError(
            f"入户调查人员不得少于{rules.minimum_investigators}人。", field="investigators"
        )
    if visited_on > timezone.localdate():
        raise DomainError("调查日期不能晚于今天。", field="visited_on")
    if not (findings or "").strip():
        raise DomainError("请填写调查情况。", field="findings")
    with transaction.atomic():
        review = _locked_review(review.pk, version)
        _require(review, "record_visit")
        if review.state == ReviewState.OPEN and review.verification_required:
            raise Conflict("本次复核须先委托县核对中心重新核对，再入户调查。", field="state")
        review.record_visit(on=visited_on, investigators=names, findings=findings.strip())
        _save(review, "visited_on", "investigators", "visit_findings")
        found = facts if facts is not None else current_facts(review, on=visited_on)
        save_facts(review, found)
        record_found_facts(review, found, actor=actor, on=visited_on)
        _case_event(
            review, action="review_visit", label="复核：入户调查", actor=actor, note=summary(found)
        )
    return review


def assess_review(
    *, review: Review, actor: User, care_unmet: int | None = None, version: int | None = None
) -> Review:
    """Calculate the household's income anew from the facts the review's visit recorded."""
    acting_role(actor, review.case, Role.HANDLER)
    today = timezone.localdate()
    if care_unmet is not None and not 0 <= care_unmet <= 6:
        raise DomainError("未达到的日常生活指标数应在0到6之间。", field="care_unmet")
    with transaction.atomic():
        review = _locked_review(review.pk, version)
        _require(review, "assess")
        report = verification_report(review)
        if review.verification_request_id is not None and report is None:
            raise Conflict(
                "县核对中心尚未出具重新核对报告，请待报告返回后再重新核算。", field="state"
            )
        result = review_assessment(
            review, basis=today, rules=CountyRules.in_force(today), care_unmet=care_unmet
        )
        working = result.working()
        eligible = result.eligible
        if report is not None and report.disqualifying:
            # The centre found income or property that disqualifies, whatever the visit found.
            eligible = False
            working["notes"] = [*working["notes"], f"重新核对报告：{report.summary}"]
        amount = result.amount if eligible else ZERO
        working.update(eligible=eligible, amount=str(amount))
        review.assess(amount=amount, eligible=eligible, working=working)
        _save(review, "assessed_amount", "assessed_eligible", "working")
        _case_event(
            review,
            action="review_assessed",
            label="复核：重新核算收入",
            actor=actor,
            data={"amount": amount, "eligible": eligible},
        )
    return review


def propose_outcome(
    *,
    review: Review,
    actor: User,
    outcome: str,
    reason: str,
    new_amount: Decimal | None = None,
    version: int | None = None,
    otp_token: str = "",
) -> Review:
    """The handler proposes continue / increase / decrease / stop and signs it."""
    role = acting_role(actor, review.case, Role.HANDLER)
    if not (reason or "").strip():
        raise DomainError("请填写复核意见及理由。", field="reason")
    with _counting_wrong_codes(), transaction.atomic():
        review = _locked_review(review.pk, version)
        _require(review, "propose")
        old = services.amount_in_force(review.entitlement, _payable_month())
        new = _checked_amount(review, outcome, old, new_amount)
        income_above = (
            outcome in (ReviewOutcome.STOP, ReviewOutcome.PHASE_OUT)
            and review.assessed_eligible is False
        )
        review.propose(
            outcome=outcome,
            old_amount=old,
            new_amount=new,
            reason=reason.strip(),
            income_above=income_above,
        )
        _save(review, "outcome", "old_amount", "new_amount", "reason", "income_above_standard")
        _sign(
            review,
            step=ReviewStep.PROPOSAL,
            signer=actor,
            role=role,
            opinion="agree",
            text=reason,
            otp_token=otp_token,
        )
        _case_event(
            review,
            action="review_proposed",
            label=f"复核：经办人提出“{review.get_outcome_display()}”",
            actor=actor,
            role=role,
            note=reason,
        )
    _notify_role(review, Role.DIRECT_RESPONSIBLE, "复核待签署审核意见")
    return review


def _payable_month() -> date:
    return first_payable_month(timezone.localdate())


def _checked_amount(review: Review, outcome: str, old: Decimal, new_amount) -> Decimal:
    if outcome not in ReviewOutcome.values:
        raise DomainError("请选择复核结果。", field="outcome")
    stopping = (ReviewOutcome.STOP, ReviewOutcome.PHASE_OUT)
    if review.assessed_eligible is False and outcome not in stopping:
        raise DomainError("重新核算后已不符合保障条件，复核结果应为停发或渐退。", field="outcome")
    if outcome == ReviewOutcome.PHASE_OUT:
        if review.assessed_eligible is not False:
            raise DomainError("渐退仅适用于重新核算后家庭收入超过保障标准的情形。", field="outcome")
        if not CountyRules.in_force().phase_out_months:
            raise DomainError("本县未设渐退期，请选择停发。", field="outcome")
        return old
    if outcome == ReviewOutcome.CONTINUE:
        return old
    if outcome == ReviewOutcome.STOP:
        return ZERO
    try:
        new = Decimal(str(new_amount)).quantize(Decimal("0.01"))
    except (ArithmeticError, ValueError, TypeError):
        raise DomainError("请填写调整后的月救助金额。", field="new_amount") from None
    if outcome == ReviewOutcome.INCREASE and not new > old:
        raise DomainError(f"增发后金额须高于现行金额{old}元。", field="new_amount")
    if outcome == ReviewOutcome.DECREASE and not ZERO < new < old:
        raise DomainError(f"减发后金额须大于0且低于现行金额{old}元。", field="new_amount")
    return new


def sign_review_opinion(
    *,
    review: Review,
    actor: User,
    agree: bool,
    text: str = "",
    version: int | None = None,
    otp_token: str = "",
) -> Review:
    """The direct-responsible leader agrees (on to the decision) or sends it back to the handler."""
    role = acting_role(actor, review.case, Role.DIRECT_RESPONSIBLE)
    if not agree and not (text or "").strip():
        raise DomainError("不同意时请写明理由。", field="text")
    with _counting_wrong_codes(), transaction.atomic():
        review = _locked_review(review.pk, version)
        _require(review, "sign_opinion")
        _refuse_second_signature(review, actor)
        _sign(
            review,
            step=ReviewStep.OPINION,
            signer=actor,
            role=role,
            opinion=_opinion(agree),
            text=text,
            otp_token=otp_token,
        )
        if agree:
            review.sign_opinion()
        else:
            review.send_back()
        _save(review, "outcome")
        _case_event(
            review,
            action="review_opinion",
            label="复核：分管领导" + ("同意" if agree else "退回"),
            actor=actor,
            role=role,
            note=text,
        )
    _notify_role(review, Role.FIRST_RESPONSIBLE if agree else Role.HANDLER, "复核待办理")
    return review


def decide_review(
    *,
    review: Review,
    actor: User,
    agree: bool,
    text: str = "",
    version: int | None = None,
    otp_token: str = "",
) -> Review:
    """The first-responsible confirms the outcome; it changes the entitlement from the next payable month."""
    role = acting_role(actor, review.case, Role.FIRST_RESPONSIBLE)
    if not agree and not (text or "").strip():
        raise DomainError("不同意时请写明理由。", field="text")
    today = timezone.localdate()
    with locked_case(review.case_id):
        review = _locked_review(review.pk, version)
        _require(review, "decide")
        _refuse_second_signature(review, actor)
        _sign(
            review,
            step=ReviewStep.DECISION,
            signer=actor,
            role=role,
            opinion=_opinion(agree),
            text=text,
            otp_token=otp_token,
        )
        if not agree:
            review.send_back()
            _save(review, "outcome")
            _case_event(
                review,
                action="review_returned",
                label="复核：第一责任人退回",
                actor=actor,
                role=role,
                note=text,
            )
            return review
        effective = first_payable_month(today)
        change, stop_month, phase_out_until = _apply_outcome(review, effective, actor)
        review.decide(on=today, effective_month=effective, phase_out_until=phase_out_until)
        review.change = change
        _save(review, "decided_on", "effective_month", "phase_out_until", "change")
        if stop_month is None:
            schedule_review(entitlement=review.entitlement, last_review=today)
        else:
            ReviewSchedule.objects.filter(entitlement=review.entitlement).update(
                last_review_on=today, next_review_on=stop_month
            )
        _case_event(
            review,
            action="review_decided",
            label=f"复核审核确认：{review.get_outcome_display()}",
            actor=actor,
            role=role,
            note=review.reason,
            data={
                "review": review.pk,
                "outcome": review.outcome,
                "old_amount": review.old_amount,
                "new_amount": review.new_amount,
                "effective_month": effective,
                "phase_out_until": phase_out_until,
            },
        )
        if review.outcome != ReviewOutcome.CONTINUE:
            review.notice = issue_adjustment_notice(
                review=review, actor=actor, effective_month=stop_month or effective
            )
            if review.notice is not None:
                review.save(update_fields=["notice", "updated_at"])
    return review


def _apply_outcome(review: Review, effective: date, actor: User):
    """Returns (change, stop month or None, last phase-out month or None)."""
    entitlement = review.entitlement
    reason = f"复核#{review.pk}：{review.reason}"[:300]
    if review.outcome == ReviewOutcome.CONTINUE:
        return None, None, None
    if review.outcome in (ReviewOutcome.INCREASE, ReviewOutcome.DECREASE):
        change = services.adjust_entitlement(
            entitlement=entitlement,
            effective_month=effective,
            new_amount=review.new_amount,
            reason=reason,
            source=ChangeSource.REVIEW,
            actor=actor,
        )
        return change, None, None
    phase_out = CountyRules.in_force().phase_out_months
    if review.outcome == ReviewOutcome.PHASE_OUT and phase_out:
        # 渐退期: income rose above the standard, so payment goes on unchanged for the
        # county's phase-out months and stops after them.
        stop_month = services.add_months(effective, phase_out)
        change = services.stop_entitlement(
            entitlement=entitlement,
            effective_month=stop_month,
            reason=f"{reason}（渐退期{phase_out}个月后停发）"[:300],
            source=ChangeSource.PHASE_OUT,
            actor=actor,
        )
        return change, stop_month, services.add_months(stop_month, -1)
    change = services.stop_entitlement(
        entitlement=entitlement,
        effective_month=effective,
        reason=reason,
        source=ChangeSource.REVIEW,
        actor=actor,
    )
    return change, effective, None


def issue_adjustment_notice(*, review: Review, actor: User, effective_month: date):
    """The adjustment (stop) notice (调整(停发)告知书) for a decided review, through cases.documents."""
    from cases.documents.services import issue_document

    stop = review.outcome in (ReviewOutcome.STOP, ReviewOutcome.PHASE_OUT)
    reason = review.reason
    if review.phase_out_until:
        reason += f"（收入超过保障标准，给予渐退期，发放至{review.phase_out_until:%Y年%m月}止）"
    return issue_document(
        case=review.case,
        doc_type=DocType.ADJUSTMENT_NOTICE,
        actor=actor,
        extra={
            "change": "stop" if stop else "adjust",
            "old_amount": review.old_amount,
            "new_amount": review.new_amount,
            "reason": reason,
            "effective_month": f"{effective_month.year}年{effective_month.month}月",
        },
    )


def close_review(*, review: Review, reason: str) -> Review:
    """Close a review made moot (the entitlement stopped for another reason)."""
    with transaction.atomic():
        review = _locked_review(review.pk, None)
        review.close(reason=reason[:300])
        _save(review, "closed_reason")
    return review


# --- Signatures and timeline ---------------------------------------------------------------


def _opinion(agree: bool) -> str:
    return "agree" if agree else "disagree"


@contextmanager
def _counting_wrong_codes() -> Iterator[None]:
    """Nothing was signed; a wrong code still counts against guessing, after the rollback."""
    try:
        yield
    except SigningCodeRefused as refused:
        if refused.wrong_code_of is not None:
            record_signing_code_failure(refused.wrong_code_of)
        raise


def _refuse_second_signature(review: Review, actor: User) -> None:
    if review.signatures.filter(signer=actor).exists():
        raise NotAllowed("同一人不能在同一复核中重复签署，请由下一责任人签署。")


def review_content(review: Review) -> dict[str, Any]:
    """What a signer is shown and signs."""
    return json.loads(
        json.dumps(
            {
                "review": review.pk,
                "household": review.household_id,
                "entitlement": review.entitlement_id,
                "outcome": review.outcome,
                "old_amount": review.old_amount,
                "new_amount": review.new_amount,
                "assessed_amount": review.assessed_amount,
                "assessed_eligible": review.assessed_eligible,
                "income_above_standard": review.income_above_standard,
                "reason": review.reason,
                "version": review.version,
            },
            cls=DjangoJSONEncoder,
            sort_keys=True,
        )
    )


def _sign(
    review: Review,
    *,
    step: str,
    signer: User,
    role: str,
    opinion: str,
    text: str,
    otp_token: str = "",
) -> ReviewSignature:
    """A leader re-enters a one-time code to sign, as on a case; a wrong code signs nothing."""
    check_signing_code(signer, otp_token)
    content = review_content(review)
    return ReviewSignature.create_signed(
        signer=signer,
        role=role,
        over=content,
        review=review,
        step=step,
        opinion=opinion,
        text=text or "",
        content=content,
    )


def _case_event(
    review: Review,
    *,
    action: str,
    label: str,
    actor: User | None,
    role: str = "",
    note: str = "",
    data=None,
) -> None:
    """Write the review step on the case's timeline, under the case lock."""
    with locked_case(review.case_id) as case:
        record_event(
            case,
            action=action,
            label=label,
            actor=actor,
            role=role,
            from_state=case.state,
            note=note,
            data={"review": review.pk, **(data or {})},
        )


def _notify_role(review: Review, role: str, title: str) -> None:
    def send() -> None:
        for user in staff_with_role(role, unit_id=review.unit_id):
            notify(
                user,
                key=f"review:{review.pk}:{review.version}:{role}",
                title=title,
                url=f"/reviews/{review.pk}/",
            )

    transaction.on_commit(send)
