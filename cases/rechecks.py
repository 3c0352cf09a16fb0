"""Re-checks (重新核对) of households already in payment.

A periodic review may entrust the county centre with a new economic-status check. The request
lands in the verification officer's queue beside new cases' requests; the officer's report is
stored on that request (as for a new case), written on the case's timeline, and read back by
whoever asked for it (the review keeps its request). The case's own state does not move: the
household stays in payment while it is checked.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from accounts.models import Role, User
from accounts.notify import notify, staff_with_role
from dengkou_aid.errors import Conflict, DomainError

from .events import locked_case, record_event
from .models import (
    LIVE_PAYMENT_STATES,
    Case,
    State,
    VerificationReport,
    VerificationRequest,
)
from .permissions import acting_role

RECHECK_STATES = (State.APPROVED, *LIVE_PAYMENT_STATES)


def pending_rechecks() -> QuerySet[VerificationRequest]:
    """Re-check requests of households in payment still waiting for the centre's report."""
    return (
        VerificationRequest.objects.filter(report__isnull=True, case__state__in=RECHECK_STATES)
        .select_related("case__applicant", "case__unit", "case__village")
        .order_by("requested_at", "id")
    )


def request_recheck(*, actor: User, case: Case, note: str) -> VerificationRequest:
    """Entrust the county centre with a new check of a household in payment."""
    with locked_case(case.pk) as case:
        role = acting_role(actor, case, Role.HANDLER)
        if case.state not in RECHECK_STATES:
            raise Conflict(
                f"案件当前状态为“{case.get_state_display()}”，不是在保对象，不能委托重新核对。",
                field="state",
            )
        if pending_rechecks().filter(case=case).exists():
            raise Conflict("该家庭已有待出具报告的重新核对委托。", field="state")
        request = VerificationRequest.objects.create(case=case, requested_by=actor, note=note)
        record_event(
            case,
            action="request_recheck",
            label="委托县级重新核对",
            actor=actor,
            role=role,
            from_state=case.state,
            note=note,
            data={"request": request.pk},
        )
        _notify_after_commit(
            staff_with_role(Role.VERIFICATION_OFFICER),
            key=f"case:{case.pk}:recheck:{request.pk}",
            title=f"新的重新核对委托（在保家庭复核）：{case.number}",
            url="/cases/verification/",
        )
        return request


def record_recheck_report(
    *,
    actor: User,
    request: VerificationRequest,
    findings: list[dict[str, str]],
    summary: str,
    disqualifying: bool = False,
) -> VerificationReport:
    """The county verification officer enters the centre's report on a re-check request."""
    with locked_case(request.case_id) as case:
        role = acting_role(actor, case, Role.VERIFICATION_OFFICER)
        summary = (summary or "").strip()
        if not summary:
            raise DomainError("请填写核对结论。", field="summary")
        if not findings:
            raise DomainError("请填写至少一个部门的核对结果。", field="findings")
        for item in findings:
            if not str(item.get("agency", "")).strip() or not str(item.get("result", "")).strip():
                raise DomainError("每条核对结果须填写部门和结果。", field="findings")
        if VerificationReport.objects.filter(request_id=request.pk).exists():
            raise Conflict("该委托已出具核对报告。", field="state")
        try:
            with transaction.atomic():
                report = VerificationReport.objects.create(
                    request_id=request.pk,
                    officer=actor,
                    findings=[{"agency": f["agency"], "result": f["result"]} for f in findings],
                    summary=summary,
                    disqualifying=disqualifying,
                )
        except IntegrityError:
            raise Conflict("该委托已出具核对报告。", field="state") from None
        record_event(
            case,
            action="recheck_report",
            label="录入重新核对报告",
            actor=actor,
            role=role,
            from_state=case.state,
            note=summary,
            data={"request": request.pk, "disqualifying": disqualifying},
        )
        _notify_after_commit(
            staff_with_role(Role.HANDLER, unit_id=case.unit_id),
            key=f"case:{case.pk}:rechecked:{request.pk}",
            title=f"重新核对报告已出具：{case.number}",
            url=f"/cases/{case.pk}/",
        )
        return report


def _notify_after_commit(users, *, key: str, title: str, url: str) -> None:
    users = list(users)

    def send() -> None:
        for user in users:
            notify(user, key=key, title=title, url=url)

    transaction.on_commit(send)
