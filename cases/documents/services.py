"""Issuing numbered documents of a case (五(一)1) as stored PDFs.

A document is rendered once from a JSON snapshot of what it says, stored with its SHA-256 and
never regenerated: a reissue takes a new number and points at the document it replaces.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, Unit, User, Village
from cases.deadlines.calendar import first_payable_month
from cases.events import locked_case, record_event, valid_signatures
from cases.models import (
    DECIDED_STATES,
    LIVE_PAYMENT_STATES,
    Case,
    DocType,
    Document,
    DocumentSequence,
    Kind,
    Outcome,
    Person,
    SignatureStep,
    State,
    VerificationReport,
)
from cases.permissions import acting_role
from cases.tablet.selectors import glass_signatures_for
from dengkou_aid.errors import Conflict, DomainError, NotAllowed
from dengkou_aid.lib.idnumber import mask_id_number
from dengkou_aid.lib.masking import mask_name
from dengkou_aid.lib.pdf import render_pdf
from dengkou_aid.lib.stored_names import stored_name

# The word in a document's number: 巴彦高勒镇〔2026〕救助决字第0003号.
NUMBER_WORDS = {
    DocType.CONSENT_FORM: "救助授权",
    DocType.VERIFICATION_LETTER: "核对委",
    DocType.HOME_VISIT: "入户调查",
    DocType.INCOME_SHEET: "收入核算",
    DocType.PUBLICITY_NOTICE: "公示",
    DocType.APPROVAL_DECISION: "救助决",
    DocType.REJECTION_NOTICE: "不予保障",
    DocType.ADJUSTMENT_NOTICE: "救助调",
    DocType.REFUSAL_NOTICE: "不予受理",
    DocType.VILLAGE_PUBLICITY: "村公示",
}

# Whose recorded signatures each document shows.
SIGNATURE_STEPS = {
    DocType.INCOME_SHEET: (SignatureStep.PROPOSAL,),
    DocType.APPROVAL_DECISION: (
        SignatureStep.PROPOSAL,
        SignatureStep.OPINION,
        SignatureStep.DECISION,
    ),
    DocType.REJECTION_NOTICE: (
        SignatureStep.PROPOSAL,
        SignatureStep.OPINION,
        SignatureStep.DECISION,
    ),
    DocType.ADJUSTMENT_NOTICE: (
        SignatureStep.PROPOSAL,
        SignatureStep.OPINION,
        SignatureStep.DECISION,
        SignatureStep.REVOCATION,
    ),
}

# A case has one of these at a time; a correction is a reissue that replaces it.
ONE_PER_CASE = (
    DocType.CONSENT_FORM,
    DocType.VERIFICATION_LETTER,
    DocType.APPROVAL_DECISION,
    DocType.REJECTION_NOTICE,
    DocType.REFUSAL_NOTICE,
)

ISSUER_ROLES = (Role.HANDLER, Role.DIRECT_RESPONSIBLE, Role.FIRST_RESPONSIBLE)
ADULT_AGE = 18


# --- When a document makes sense -------------------------------------------------------


def _consent_refusal(case: Case) -> str | None:
    if case.state not in (State.ACCEPTED, State.AUTHORIZED):
        return "诚信声明及核对授权书须在受理后、委托核对前打印签署。"
    return None


def _verification_refusal(case: Case) -> str | None:
    if not case.verification_requests.exists():
        return "尚未委托县民政局开展家庭经济状况核对，不能出具核对委托函。"
    return None


def _visit_refusal(case: Case) -> str | None:
    if not case.home_visits.exists():
        return "尚未录入入户调查，不能出具入户调查记录表。"
    return None


def _income_refusal(case: Case) -> str | None:
    if not case.assessments.exists():
        return "尚未完成收入核算，不能出具收入核算表。"
    return None


def _publicity_refusal(case: Case) -> str | None:
    if case.state != State.IN_PUBLICITY or not case.publicities.exists():
        return "案件不在公示阶段，不能出具审核确认公示。"
    return None


def _approval_refusal(case: Case) -> str | None:
    if case.outcome != Outcome.APPROVE or case.state not in DECIDED_STATES:
        return "案件尚未审核确认批准，不能出具批准决定书。"
    if case.state in (State.REJECTED, State.TERMINATED):
        return "案件已不予保障或终止，不能出具批准决定书。"
    if not valid_signatures(case, SignatureStep.DECISION).exists():
        return "第一责任人尚未签署审核确认，不能出具批准决定书。"
    return None


def _rejection_refusal(case: Case) -> str | None:
    if case.outcome != Outcome.REJECT or case.state not in (State.CONFIRMED, State.REJECTED):
        return "案件未经审核确认为不予保障，不能出具不予保障告知书。"
    if not valid_signatures(case, SignatureStep.DECISION).exists():
        return "第一责任人尚未签署审核确认，不能出具不予保障告知书。"
    return None


def _adjustment_refusal(case: Case) -> str | None:
    if case.state not in (State.APPROVED, *LIVE_PAYMENT_STATES, State.TERMINATED):
        return "案件不是在保对象，不能出具调整(停发)告知书。"
    return None


def _village_publicity_refusal(case: Case) -> str | None:
    return "本村公示名单按嘎查村/社区出具，请在“本村公示”页面办理。"


def _refusal_notice_refusal(case: Case) -> str | None:
    if case.state != State.REFUSED:
        return "案件未被不予受理，不能出具不予受理通知书。"
    return None


REFUSALS: dict[str, Callable[[Case], str | None]] = {
    DocType.CONSENT_FORM: _consent_refusal,
    DocType.VERIFICATION_LETTER: _verification_refusal,
    DocType.HOME_VISIT: _visit_refusal,
    DocType.INCOME_SHEET: _income_refusal,
    DocType.PUBLICITY_NOTICE: _publicity_refusal,
    DocType.APPROVAL_DECISION: _approval_refusal,
    DocType.REJECTION_NOTICE: _rejection_refusal,
    DocType.ADJUSTMENT_NOTICE: _adjustment_refusal,
    DocType.REFUSAL_NOTICE: _refusal_notice_refusal,
    DocType.VILLAGE_PUBLICITY: _village_publicity_refusal,
}


def refusal_reason(case: Case, doc_type: str) -> str | None:
    """Why `doc_type` cannot be issued for the case now, or None when it can."""
    if doc_type not in REFUSALS:
        return "未知的文书类别。"
    return REFUSALS[doc_type](case)


# --- Issuing ----------------------------------------------------------------------------


def issue_document(
    *,
    case: Case,
    doc_type: str,
    actor: User,
    replaces: Document | None = None,
    reason: str = "",
    extra: Mapping[str, Any] | None = None,
) -> Document:
    """Number, render and store one document of a case; refused when its state does not fit."""
    role = acting_role(actor, case, *ISSUER_ROLES)
    with locked_case(case.pk) as locked:
        refusal = refusal_reason(locked, doc_type)
        if refusal:
            raise Conflict(refusal, field="doc_type")
        _check_replacement(locked, doc_type, replaces, reason)
        today = timezone.localdate()
        seq = _next_seq(locked.unit, doc_type, today.year)
        number = f"{locked.unit.name}〔{today.year}〕{NUMBER_WORDS[doc_type]}字第{seq:04d}号"
        context = build_context(locked, doc_type, number=number, on=today, extra=extra or {})
        if replaces is not None:
            context["replaces"] = {"number": replaces.number, "reason": reason}
        document = _store(locked, doc_type, today, seq, number, context, actor, replaces, reason)
        record_event(
            locked,
            action="document_issued",
            label=f"出具{document.get_doc_type_display()}",
            actor=actor,
            role=role,
            from_state=locked.state,
            note=reason,
            data={"document": document.pk, "number": number, "replaces": replaces and replaces.pk},
        )
    return document


def _check_replacement(case: Case, doc_type: str, replaces: Document | None, reason: str) -> None:
    if replaces is None:
        current = case.documents.filter(doc_type=doc_type, replaced_by__isnull=True).first()
        if doc_type in ONE_PER_CASE and current is not None:
            raise Conflict(
                f"本案件已出具{current.number}；如需更正，请选择替代该文书并说明理由。",
                field="replaces",
            )
        return
    if replaces.case_id != case.pk or replaces.doc_type != doc_type:
        raise DomainError("被替代的文书不属于本案件或类别不同。", field="replaces")
    if replaces.replaced_by.exists():
        raise Conflict("该文书已被重新出具，请替代最新的文书。", field="replaces")
    if not reason.strip():
        raise DomainError("重新出具文书须填写理由。", field="reason")


def _next_seq(unit: Unit, doc_type: str, year: int) -> int:
    # Lock the sequence row: two clerks issuing at once must not share a number.
    DocumentSequence.objects.get_or_create(unit=unit, doc_type=doc_type, year=year)
    sequence = DocumentSequence.objects.select_for_update().get(
        unit=unit, doc_type=doc_type, year=year
    )
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return sequence.last


def _store(case, doc_type, today, seq, number, context, actor, replaces, reason) -> Document:
    pdf = render_document(doc_type, context)
    document = Document(
        case=case,
        unit=case.unit,
        doc_type=doc_type,
        year=today.year,
        seq=seq,
        number=number,
        sha256=hashlib.sha256(pdf).hexdigest(),
        generated_by=actor,
        replaces=replaces,
        reason=reason,
        context=context,
    )
    # Server-chosen and unguessable; the download is named after the document number.
    document.file.save(stored_name("pdf"), ContentFile(pdf), save=False)
    document.save()
    return document


def render_document(doc_type: str, context: Mapping[str, Any]) -> bytes:
    """Render a document's PDF from its stored snapshot."""
    return render_pdf(f"documents/{doc_type}.html", {"doc": context})


def read_document(document: Document) -> bytes:
    """The stored PDF, checked against its recorded SHA-256."""
    with document.file.open("rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != document.sha256:
        raise Conflict("文书文件与出具时的摘要不一致，请联系系统管理员核查。")
    return data


def current_documents(case: Case):
    """The case's documents that no reissue has replaced."""
    return case.documents.filter(replaced_by__isnull=True).select_related("generated_by")


# --- What each document says ------------------------------------------------------------


def build_context(
    case: Case, doc_type: str, *, number: str, on: date, extra: Mapping[str, Any]
) -> dict[str, Any]:
    """The JSON snapshot a document is rendered from (stored with it)."""
    unit = case.unit
    base = {
        "doc_type": doc_type,
        "title": DocType(doc_type).label,
        "number": number,
        "date": _cn_date(on),
        "unit": unit.name,
        "unit_address": unit.address,
        "complaint_phone": unit.complaint_phone,
        "case_number": case.number,
        "kind": case.get_kind_display(),
        "area": case.get_area_display(),
        "applicant": case.applicant.name,
        "village": case.village.name,
        "household_size": _household_size(case),
        "signatures": _signatures(case, SIGNATURE_STEPS.get(doc_type, ())),
    }
    base.update(BUILDERS[doc_type](case, on, extra))
    return json.loads(json.dumps(base, cls=DjangoJSONEncoder))


def _household_size(case: Case) -> int:
    return case.household.members.active().count()


def _signatures(case: Case, steps: tuple[str, ...]) -> list[dict[str, str]]:
    if not steps:
        return []
    rows = []
    for signature in (
        valid_signatures(case, *steps).select_related("unit").order_by("signed_at", "id")
    ):
        rows.append(
            {
                "step": signature.get_step_display(),
                "name": signature.signer_name,
                "role": _role_label(signature.role),
                "unit": signature.unit.name,
                "at": timezone.localtime(signature.signed_at).strftime("%Y年%m月%d日 %H:%M"),
                "opinion": signature.verdict,
                "text": signature.text,
            }
        )
    return rows


def _role_label(code: str) -> str:
    try:
        return Role(code).label
    except ValueError:
        return code


def _cn_date(day: date | datetime | None) -> str:
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = timezone.localtime(day).date()
    return f"{day.year}年{day.month}月{day.day}日"


def _members(case: Case) -> list[Person]:
    return list(case.household.members.active().order_by("id"))


def _consent_context(case: Case, on: date, extra: Mapping[str, Any]) -> dict[str, Any]:
    members = _members(case)
    glass = glass_signatures_for(case)
    signed = {g["name"]: g for g in glass}
    return {
        # Signed on the village tablet: the drawings, the text shown to the signers and its hash.
        "glass": glass,
        "glass_text": glass[0]["text"] if glass else "",
        "members": [
            {
                "name": m.name,
                "relation": m.get_relation_display(),
                # Printed masked: the signer writes the full number by hand if required.
                "id_masked": mask_id_number(m.id_number) if m.id_number else "",
                "adult": m.age_on(on) >= ADULT_AGE,
                "signature": signed.get(m.name, {}).get("image", ""),
            }
            for m in members
        ],
    }


def _verification_context(case: Case, on: date, extra: Mapping[str, Any]) -> dict[str, Any]:
    request = case.verification_requests.order_by("-requested_at", "-id").first()
    consent = case.consents.order_by("-id").first()
    return {
        "addressee": "磴口县民政局居民家庭经济状况核对中心",
        "requested_on": _cn_date(request.requested_at),
        "note": request.note,
        "consent_on": _cn_date(consent.signed_on) if consent else "",
        "members": [
            {"name": m.name, "relation": m.get_relation_display(), "id_masked": m.masked_id}
            for m in _members(case)
        ],
    }


def _visit_context(case: Case, on: date, extra: Mapping[str, Any]) -> dict[str, Any]:
    visit = case.home_visits.order_by("-recorded_at", "-id").first()
    return {
        "visited_on": _cn_date(visit.visited_on),
        "investigators": [
            {"name": str(i.get("name", "")), "kind": str(i.get("kind", ""))}
            for i in visit.investigators
        ],
        "findings": visit.findings,
        "living_conditions": visit.living_conditions,
        "agency": visit.agency.name if visit.agency_id else "",
    }


def _income_context(case: Case, on: date, extra: Mapping[str, Any]) -> dict[str, Any]:
    a = case.assessments.order_by("-assessed_at", "-id").first()
    working = a.working or {}
    return {
        "basis_date": _cn_date(a.basis_date),
        "period_months": a.period_months,
        "assessed_household_size": a.household_size,
        "total_monthly_income": a.total_monthly_income,
        "exempt_monthly_income": a.exempt_monthly_income,
        "counted_monthly_income": a.counted_monthly_income,
        "per_capita_income": a.per_capita_income.quantize(a.per_capita_income.__class__("0.01")),
        "standard_amount": a.standard_amount,
        "care_tier": a.get_care_tier_display() if a.care_tier else "",
        "care_amount": a.care_amount,
        "eligible": "符合" if a.eligible else "不符合",
        "amount": a.amount,
        "verification": _verification_rows(case),
        "incomes": [
            {
                "person": str(line.get("person", "")),
                "kind": str(line.get("kind", "")),
                "source": str(line.get("source", "")),
                "monthly_amount": str(line.get("monthly_amount", "")),
                "exempt": bool(line.get("exempt")),
                "exempt_reason": str(line.get("exempt_reason", "")),
            }
            for line in working.get("incomes", [])
            if isinstance(line, dict)
        ],
    }


def _verification_rows(case: Case) -> list[dict[str, str]]:
    """The county centre's findings, agency by agency, as the calculation sheet prints them."""
    report = VerificationReport.objects.filter(request__case=case).order_by("-id").first()
    return report.finding_rows if report is not None else []


def publishable(case: Case, on: date | None = None) -> bool:
    """Minors supported as tekun are never named in publicity."""
    on = on or timezone.localdate()
    return not (case.kind == Kind.TEKUN and case.applicant.age_on(on) < ADULT_AGE)


def public_row(case: Case, on: date | None = None) -> dict[str, Any]:
    """The only facts publicity may show about a household (DOMAIN.md "Documents")."""
    return {
        "name": mask_name(case.applicant.name),
        "village": case.village.name,
        "household_size": _household_size(case),
        "kind": case.get_kind_display(),
        "amount": case.monthly_amount,
    }


def _publicity_context(case: Case, on: date, extra: Mapping[str, Any]) -> dict[str, Any]:
    publicity = case.publicities.order_by("-posted_at", "-id").first()
    row = public_row(case, on)
    if not publishable(case, on):
        row["name"] = "（未成年人，依规不公示姓名）"
    # The notice must not carry the applicant's full name anywhere.
    return {
        "applicant": row["name"],
        "rows": [row],
        "starts_on": _cn_date(publicity.starts_on),
        "ends_on": _cn_date(publicity.ends_on),
        "location": publicity.location,
    }


def _approval_context(case: Case, on: date, extra: Mapping[str, Any]) -> dict[str, Any]:
    decided = case.decided_on or on
    start = first_payable_month(decided)
    marginal = {"title": "低保边缘家庭认定决定书"} if case.kind == Kind.MARGINAL else {}
    return {
        **marginal,
        "decided_on": _cn_date(decided),
        "amount": case.monthly_amount,
        "care_tier": case.get_care_tier_display() if case.care_tier else "",
        "start_month": f"{start.year}年{start.month}月",
        # A marginal family is confirmed (行政确认), not paid: its decision names no amount.
        "marginal": case.kind == Kind.MARGINAL,
    }


def _rejection_context(case: Case, on: date, extra: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "decided_on": _cn_date(case.decided_on or on),
        "reason": case.rejection_reason or "经审核确认，不符合保障条件。",
    }


def _refusal_notice_context(case: Case, on: date, extra: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "submitted_on": _cn_date(timezone.localtime(case.submitted_at).date()),
        "reason": case.refusal_reason,
    }


def _adjustment_context(case: Case, on: date, extra: Mapping[str, Any]) -> dict[str, Any]:
    stopped = case.state == State.TERMINATED or extra.get("change") == "stop"
    return {
        "change": "停发" if stopped else "调整",
        "old_amount": str(extra.get("old_amount", case.monthly_amount or "")),
        "new_amount": "0" if stopped else str(extra.get("new_amount", case.monthly_amount or "")),
        "reason": str(extra.get("reason") or case.termination_reason or ""),
        "effective_month": str(extra.get("effective_month", "")),
    }


BUILDERS: dict[str, Callable[[Case, date, Mapping[str, Any]], dict[str, Any]]] = {
    DocType.CONSENT_FORM: _consent_context,
    DocType.VERIFICATION_LETTER: _verification_context,
    DocType.HOME_VISIT: _visit_context,
    DocType.INCOME_SHEET: _income_context,
    DocType.PUBLICITY_NOTICE: _publicity_context,
    DocType.APPROVAL_DECISION: _approval_context,
    DocType.REJECTION_NOTICE: _rejection_context,
    DocType.ADJUSTMENT_NOTICE: _adjustment_context,
    DocType.REFUSAL_NOTICE: _refusal_notice_context,
}


# --- One publicity list per village ------------------------------------------------------


def week_of(day: date) -> tuple[date, date]:
    """Monday to Sunday of the week holding `day`."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def village_publicity_cases(village: Village, on: date) -> list[Case]:
    """Every case of the village whose publicity runs during the week of `on`."""
    monday, sunday = week_of(on)
    cases = (
        Case.objects.filter(
            village=village,
            state=State.IN_PUBLICITY,
            publicities__starts_on__lte=sunday,
            publicities__ends_on__gte=monday,
        )
        .distinct()
        .select_related("applicant", "village")
        .order_by("number")
    )
    return list(cases)


def issue_village_publicity(*, village: Village, actor: User, on: date | None = None) -> Document:
    """One notice for a village listing every household in publicity that week, each masked
    as on its own notice (minors in tekun unnamed), besides the per-case notices."""
    if not actor.has_role(Role.HANDLER) or actor.unit_id != village.unit_id:
        raise NotAllowed("本村公示名单须由该嘎查村/社区所属单位的经办人出具。")
    on = on or timezone.localdate()
    with transaction.atomic():
        cases = village_publicity_cases(village, on)
        if not cases:
            raise DomainError("本周该嘎查村/社区没有处于公示期的家庭，无需出具公示名单。")
        seq = _next_seq(village.unit, DocType.VILLAGE_PUBLICITY, on.year)
        word = NUMBER_WORDS[DocType.VILLAGE_PUBLICITY]
        number = f"{village.unit.name}〔{on.year}〕{word}字第{seq:04d}号"
        context = _village_context(village, cases, number=number, on=on)
        pdf = render_document(DocType.VILLAGE_PUBLICITY, context)
        document = Document(
            case=None,
            unit=village.unit,
            doc_type=DocType.VILLAGE_PUBLICITY,
            year=on.year,
            seq=seq,
            number=number,
            sha256=hashlib.sha256(pdf).hexdigest(),
            generated_by=actor,
            context=context,
        )
        document.file.save(stored_name("pdf"), ContentFile(pdf), save=False)
        document.save()
        for case in cases:
            with locked_case(case.pk) as locked:  # the timeline's next number, one at a time
                _record_listing(locked, village, actor, document)
    return document


def _record_listing(case: Case, village: Village, actor: User, document: Document) -> None:
    record_event(
        case,
        action="document_issued",
        label=f"列入{village.name}本周公示名单",
        actor=actor,
        role=Role.HANDLER,
        from_state=case.state,
        data={"document": document.pk, "number": document.number},
    )


def _village_context(village: Village, cases: list[Case], *, number: str, on: date) -> dict:
    monday, sunday = week_of(on)
    rows = []
    for case in cases:
        row = public_row(case, on)
        if not publishable(case, on):
            row["name"] = "（未成年人，依规不公示姓名）"
        publicity = case.publicities.order_by("-posted_at", "-id").first()
        row["period"] = f"{_cn_date(publicity.starts_on)}至{_cn_date(publicity.ends_on)}"
        rows.append(row)
    unit = village.unit
    context = {
        "doc_type": DocType.VILLAGE_PUBLICITY,
        "title": f"{village.name}社会救助审核确认公示",
        "number": number,
        "date": _cn_date(on),
        "unit": unit.name,
        "unit_address": unit.address,
        "complaint_phone": unit.complaint_phone,
        "village": village.name,
        "week": f"{_cn_date(monday)}至{_cn_date(sunday)}",
        "rows": rows,
        "signatures": [],
    }
    return json.loads(json.dumps(context, cls=DjangoJSONEncoder))
