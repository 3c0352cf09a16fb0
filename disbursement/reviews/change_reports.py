"""Change reports (家庭情况变化报告) from village assistants, and the unit handler's decision.

A village assistant reports a birth, death, move, marriage, new job or income, new
vehicle, house or business in a household in payment. The unit's handler decides:
no review needed, open a review, or (for a death or a member moving out) confirm it,
which stops that member's share from the next payable month as an adjustment.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.notify import notify, staff_with_role
from cases import assessment
from cases.deadlines.calendar import first_payable_month
from cases.events import locked_case, record_event
from cases.models import CountyRules, Household, Kind, Person, PolicyStandard, StandardKind
from dengkou_aid.errors import Conflict, DomainError, NotAllowed
from disbursement import services
from disbursement.models import (
    ChangeKind,
    ChangeReport,
    ChangeReportKind,
    ChangeReportState,
    ChangeSource,
    Entitlement,
    EntitlementChange,
    ReviewTrigger,
)

from . import services as reviews

MEMBER_KINDS = (ChangeReportKind.DEATH, ChangeReportKind.MOVED_OUT, ChangeReportKind.MARRIED)
LEAVING_KINDS = (ChangeReportKind.DEATH, ChangeReportKind.MOVED_OUT)
# Reports about income or property: the review asks the county centre to check again.
VERIFY_KINDS = (
    ChangeReportKind.NEW_JOB,
    ChangeReportKind.NEW_INCOME,
    ChangeReportKind.NEW_VEHICLE,
    ChangeReportKind.NEW_HOUSE,
    ChangeReportKind.NEW_BUSINESS,
)
ZERO = Decimal("0.00")


class Decision:
    DISMISS = "dismiss"
    REVIEW = "review"
    CONFIRM = "confirm"


def paid_entitlement(household_id: int, day: date | None = None) -> Entitlement | None:
    """The household's entitlement still in payment, if any."""
    return (
        reviews.entitlements_in_payment(day)
        .filter(household_id=household_id)
        .order_by("-start_month", "-id")
        .first()
    )


def can_report_for(user: User, household: Household) -> bool:
    """A village assistant for the household's village, or a handler of its unit."""
    if user.has_role(Role.VILLAGE_ASSISTANT) and user.village_id == household.village_id:
        return True
    return user.has_role(Role.HANDLER) and user.unit_id == household.unit_id


@transaction.atomic
def file_change_report(
    *,
    actor: User,
    household: Household,
    kind: str,
    details: str,
    member: Person | None = None,
    occurred_on: date | None = None,
) -> ChangeReport:
    """Record a change in a household in payment and tell the unit's handlers."""
    if not can_report_for(actor, household):
        raise NotAllowed("只能报告本嘎查村/社区在保家庭的情况变化。")
    if kind not in ChangeReportKind.values:
        raise DomainError("请选择变化类型。", field="kind")
    if not (details or "").strip():
        raise DomainError("请填写具体情况。", field="details")
    if kind in MEMBER_KINDS and member is None:
        raise DomainError("请选择发生变化的家庭成员。", field="member")
    if member is not None and member.household_id != household.pk:
        raise DomainError("所选成员不属于该家庭。", field="member")
    if occurred_on is not None and occurred_on > timezone.localdate():
        raise DomainError("发生日期不能晚于今天。", field="occurred_on")
    if paid_entitlement(household.pk) is None:
        raise DomainError("该家庭不是在保对象，无需报告情况变化。", field="household")
    report = ChangeReport.objects.create(
        household=household,
        member=member,
        unit_id=household.unit_id,
        village_id=household.village_id,
        kind=kind,
        details=details.strip(),
        occurred_on=occurred_on,
        reported_by=actor,
    )
    transaction.on_commit(lambda: _tell_handlers(report))
    return report


def _tell_handlers(report: ChangeReport) -> None:
    for user in staff_with_role(Role.HANDLER, unit_id=report.unit_id):
        notify(
            user,
            key=f"change-report:{report.pk}",
            title=f"收到家庭情况变化报告：{report.get_kind_display()}",
            url=f"/reviews/reports/{report.pk}/",
        )


def decide_change_report(
    *, report: ChangeReport, actor: User, decision: str, note: str = ""
) -> ChangeReport:
    """The unit's handler dismisses the report, opens a review, or confirms a death or move."""
    if not (actor.has_role(Role.HANDLER) and actor.unit_id == report.unit_id):
        raise NotAllowed("此操作须由该家庭所属单位的经办人办理。")
    with transaction.atomic():
        report = ChangeReport.objects.select_for_update().get(pk=report.pk)
        if report.state != ChangeReportState.NEW:
            raise Conflict(f"该报告已处理（{report.get_state_display()}）。", field="state")
        if decision == Decision.DISMISS:
            if not (note or "").strip():
                raise DomainError("无需复核时请写明理由。", field="note")
            report.state = ChangeReportState.DISMISSED
        elif decision == Decision.REVIEW:
            report.review = _review_for(report, actor)
            report.state = ChangeReportState.REVIEWED
        elif decision == Decision.CONFIRM:
            report.change = confirm_member_left(report=report, actor=actor)
            report.state = ChangeReportState.CONFIRMED
        else:
            raise DomainError("请选择处理方式。", field="decision")
        report.decision = (note or "").strip()
        report.decided_by = actor
        report.decided_at = timezone.now()
        report.save(
            update_fields=["state", "decision", "decided_by", "decided_at", "review", "change"]
        )
    return report


def _review_for(report: ChangeReport, actor: User):
    """Open a review for the report, or attach it to the one already under way."""
    existing = reviews.open_review_for(report.household_id)
    if existing is not None:
        return existing
    entitlement = paid_entitlement(report.household_id)
    if entitlement is None:
        raise Conflict("该家庭已不在保，无需复核。", field="household")
    return reviews.open_review(
        entitlement=entitlement,
        trigger=ReviewTrigger.CHANGE_REPORT,
        actor=actor,
        verification_required=report.kind in VERIFY_KINDS,
    )


def confirm_member_left(*, report: ChangeReport, actor: User) -> EntitlementChange | None:
    """A confirmed death or move: the member leaves the household and their share stops
    from the next payable month (recorded as an adjustment, or a stop for the last member)."""
    if report.kind not in LEAVING_KINDS or report.member is None:
        raise DomainError("只有成员死亡或迁出的报告可以核实后直接调整待遇。", field="decision")
    member = Person.objects.select_for_update().get(pk=report.member_id)
    if member.left_on is not None:
        raise Conflict(f"{member.name}已于{member.left_on}减员。", field="member")
    today = timezone.localdate()
    member.left_on = report.occurred_on or today
    member.left_reason = report.get_kind_display()
    member.save(update_fields=["left_on", "left_reason"])
    entitlement = paid_entitlement(report.household_id)
    if entitlement is None:
        return None
    effective = first_payable_month(today)
    old = services.amount_in_force(entitlement, effective)
    new = amount_without_member(
        entitlement=entitlement, member=member, old_amount=old, month=effective
    )
    reason = f"{member.name}{report.get_kind_display()}，自{effective.year}年{effective.month}月起停发其份额"
    if new == old:
        return None
    if new <= 0:
        change = services.stop_entitlement(
            entitlement=entitlement,
            effective_month=effective,
            reason=reason,
            source=_source(report),
            actor=actor,
        )
    else:
        change = services.adjust_entitlement(
            entitlement=entitlement,
            effective_month=effective,
            new_amount=new,
            reason=reason,
            source=_source(report),
            actor=actor,
        )
    _record_on_case(entitlement, report, change, actor)
    _issue_notice(entitlement, change, reason, actor)
    return change


def _source(report: ChangeReport) -> str:
    return (
        ChangeSource.DEATH if report.kind == ChangeReportKind.DEATH else ChangeSource.CHANGE_REPORT
    )


def amount_without_member(
    *, entitlement: Entitlement, member: Person, old_amount: Decimal, month: date
) -> Decimal:
    """The household's amount with one member fewer.

    dibao: amount = standard × members − household income, so one member fewer is the
    old amount − one standard + that member's counted income (then rounded as the county
    rounds). tekun supports one person: the supported person leaving stops payment.
    The last member leaving stops payment.
    """
    others = (
        Person.objects.filter(household_id=entitlement.household_id, left_on__isnull=True)
        .exclude(pk=member.pk)
        .exists()
    )
    if not others:
        return ZERO
    if entitlement.kind == Kind.TEKUN:
        return ZERO if member.pk == entitlement.case.applicant_id else old_amount
    if entitlement.kind != Kind.DIBAO:
        return old_amount
    rules = CountyRules.in_force(month)
    standard = PolicyStandard.objects.in_force(StandardKind.DIBAO, entitlement.area, month)
    if standard is None:
        raise DomainError("缺少现行低保标准，请县民政局维护后再办理。")
    exact = old_amount - standard.amount + member_counted_income(member, month, rules)
    if exact <= 0:
        return ZERO
    return assessment.round_amount(exact, rules.rounding)


def member_counted_income(member: Person, month: date, rules) -> Decimal:
    """The member's counted monthly income over the assessment period before `month`."""
    # The period is the whole months before `month` (assessment.period_months).
    months = assessment.period_months(month, rules.assessment_months)
    total = sum(
        (
            income.monthly_amount
            * assessment.months_covered(
                income.period_start,
                income.period_end,
                months,
                months_received=income.months_received,
            )
            for income in member.incomes.filter(exempt=False, removed_at__isnull=True)
        ),
        Decimal("0"),
    )
    return total / rules.assessment_months


def _record_on_case(entitlement: Entitlement, report: ChangeReport, change, actor: User) -> None:
    with locked_case(entitlement.case_id) as case:
        record_event(
            case,
            action="member_left",
            label=f"家庭成员减员（{report.get_kind_display()}），调整待遇",
            actor=actor,
            from_state=case.state,
            data={
                "change_report": report.pk,
                "member": report.member_id,
                "old_amount": change.old_amount,
                "new_amount": change.new_amount,
                "effective_month": change.effective_month,
            },
        )


def _issue_notice(entitlement: Entitlement, change: EntitlementChange, reason: str, actor: User):
    from cases.documents.services import issue_document
    from cases.models import DocType

    return issue_document(
        case=entitlement.case,
        doc_type=DocType.ADJUSTMENT_NOTICE,
        actor=actor,
        extra={
            "change": "stop" if change.kind == ChangeKind.STOP else "adjust",
            "old_amount": change.old_amount,
            "new_amount": change.new_amount,
            "reason": reason,
            "effective_month": f"{change.effective_month.year}年{change.effective_month.month}月",
        },
    )
