"""The revocation decision (撤销决定书): the county's numbered, signed document of a revocation."""

from __future__ import annotations

from django.utils import timezone

from accounts.models import User
from cases.models import Case

from .models import CountySignature, Revocation, RevocationDecision
from .numbering import cn_date, next_number, render_into, sign_county, signature_lines


def issue_revocation_decision(*, revocation: Revocation, actor: User) -> RevocationDecision:
    """Number, sign and render the decision; called inside the revocation's transaction."""
    today = timezone.localdate()
    case: Case = revocation.case
    number = next_number("revocation", on=today)
    content = {
        "number": number,
        "case": case.number,
        "reason": revocation.reason,
        "stop_from": revocation.stop_from.isoformat(),
    }
    signature = sign_county(actor=actor, act=CountySignature.Act.REVOCATION_DECISION, over=content)
    decision = RevocationDecision(
        revocation=revocation, number=number, issued_on=today, signature=signature
    )
    decided = case.decided_on
    decision.sha256 = render_into(
        decision.file,
        "supervision/pdf/revocation_decision.html",
        {
            "title": "撤销审核确认决定书",
            "header": "磴口县民政局",
            "number": number,
            "date": cn_date(today),
            "signed": signature_lines(signature),
            "applicant": case.applicant.name,
            "village": case.village.name,
            "unit": case.unit.name,
            "case_number": case.number,
            "kind": case.get_kind_display(),
            "decided_on": cn_date(decided) if decided else "",
            "reason": revocation.reason,
            "stop_from": f"{revocation.stop_from.year}年{revocation.stop_from.month}月",
        },
    )
    decision.save()
    return decision
