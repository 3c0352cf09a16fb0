"""Plainly ineligible cases: non-approval straight after the assessment, without a publicity.

The publicity announces households proposed for assistance (拟纳入), never those refused
(DOMAIN.md, workflow step 8). A case whose latest income assessment finds it ineligible, or
whose verification report found disqualifying income or property, is therefore never
published: the handler proposes non-approval from the assessment, the two leaders sign as
for any decision, and the non-approval notice with its reasons goes out within the county's
working days of the decision (national rule: 3).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from .deadlines.calendar import add_workdays
from .models import Case, CountyRules, Kind, Outcome, State, VerificationReport

CENT = Decimal("0.01")


def ineligibility(case: Case) -> str | None:
    """Why the case is plainly ineligible, in words for the notice, or None."""
    report = VerificationReport.objects.filter(request__case=case).order_by("-id").first()
    if report is not None and report.disqualifying:
        found = report.summary.strip().rstrip("。.；;，,")
        return f"经县民政局家庭经济状况核对，{found}，不符合保障条件。"
    latest = case.assessments.order_by("-id").first()
    if latest is None or latest.eligible:
        return None
    threshold = latest.working.get("threshold") or latest.standard_amount
    if case.kind == Kind.MARGINAL:
        line = f"低保边缘家庭认定标准{threshold}元"
    elif case.kind == Kind.TEKUN:
        line = f"特困人员基本生活标准{threshold}元"
    else:
        line = f"城乡低保标准{threshold}元"
    return (
        f"经入户调查和收入核算，家庭月人均收入{latest.per_capita_income.quantize(CENT)}元，"
        f"高于{line}，不符合保障条件。"
    )


def may_skip_publicity(case: Case) -> bool:
    """An assessed case proposed for non-approval needs no publicity when plainly ineligible."""
    return case.state == State.ASSESSED and ineligibility(case) is not None


def notice_due(case: Case) -> date | None:
    """The last day for the non-approval notice: N working days after the decision."""
    if case.outcome != Outcome.REJECT or case.decided_on is None:
        return None
    days = CountyRules.in_force(case.decided_on).rejection_notice_workdays
    return add_workdays(case.decided_on, days).date
