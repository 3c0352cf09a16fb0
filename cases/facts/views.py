"""The case page's household facts: the current members, incomes and assets, their forms, and
the one POST that corrects them (a thin door to `record_fact_change`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role, User
from dengkou_aid.errors import DomainError

from ..assessment import DAILY_LIVING_CHOICES, PERIOD_CHOICES, calculation_sheet
from ..models import (
    DECIDED_STATES,
    AssetKind,
    Case,
    CountyRules,
    FactSubject,
    IncomeKind,
    Relation,
    WorkAbility,
)
from ..permissions import case_for_user
from .selectors import current_facts
from .services import (
    ASSET_FIELDS,
    INCOME_FIELDS,
    MEMBER_FIELDS,
    may_change_facts,
    record_fact_change,
    set_assessment_rules,
)

FIELDS = {
    FactSubject.MEMBER: MEMBER_FIELDS,
    FactSubject.INCOME: (*INCOME_FIELDS, "person"),
    FactSubject.ASSET: ASSET_FIELDS,
}
CHECKBOXES = {FactSubject.MEMBER: ("income_irregular",), FactSubject.INCOME: ("exempt",)}


def _form(form_id: str, initial: dict[str, Any], posted_form: str, posted, error) -> dict:
    """One form's values (what was typed, if this form was sent) and its error by field."""
    if form_id and form_id == posted_form and posted is not None:
        values = {key: posted.get(key, "") for key in posted}
        errors = {(error.field or "form") if error else "form": error.message} if error else {}
        return {"id": form_id, "values": values, "errors": errors, "open": True}
    return {"id": form_id, "values": initial, "errors": {}, "open": False}


def _date(value) -> str:
    return value.isoformat() if value else ""


def facts_context(
    user: User, case: Case, *, posted_form: str = "", posted=None, error: DomainError | None = None
) -> dict[str, Any]:
    """What the household-facts include needs: rows with their forms, choices, whether to edit."""
    facts = current_facts(case)

    def form(form_id: str, initial: dict[str, Any]) -> dict:
        return _form(form_id, initial, posted_form, posted, error)

    members = [
        {
            "person": p,
            "is_applicant": p.pk == case.applicant_id,
            "change": form(
                f"member-change-{p.pk}",
                {
                    "relation": p.relation,
                    "work_ability": p.work_ability,
                    "disability_grade": str(p.disability_grade),
                    "illness": p.illness,
                    "phone": p.phone,
                    "income_irregular": "on" if p.income_irregular else "",
                },
            ),
            "remove": form(f"member-remove-{p.pk}", {}),
        }
        for p in facts.members
    ]
    names = {p.pk: p.name for p in facts.members}
    incomes = [
        {
            "income": i,
            "person_name": names.get(i.person_id, ""),
            "change": form(
                f"income-change-{i.pk}",
                {
                    "person": str(i.person_id),
                    "kind": i.kind,
                    "source": i.source,
                    "monthly_amount": str(i.monthly_amount),
                    "months_received": i.months_received or "",
                    "period_start": _date(i.period_start),
                    "period_end": _date(i.period_end),
                    "exempt": "on" if i.exempt else "",
                    "exempt_reason": i.exempt_reason,
                },
            ),
            "remove": form(f"income-remove-{i.pk}", {}),
        }
        for i in facts.incomes
    ]
    assets = [
        {
            "asset": a,
            "change": form(
                f"asset-change-{a.pk}",
                {"kind": a.kind, "value": str(a.value), "description": a.description},
            ),
            "remove": form(f"asset-remove-{a.pk}", {}),
        }
        for a in facts.assets
    ]
    return {
        "today": timezone.localdate().isoformat(),
        "posted_investigators": posted.getlist("investigator") if posted is not None else [],
        "sheet": _sheet(case),
        "assess_form": _assess_form(case, posted_form, posted, error),
        "facts": {
            "decided": case.state in DECIDED_STATES,
            "members": members,
            "incomes": incomes,
            "assets": assets,
            "editable": may_change_facts(user, case),
            "add_member": form("member-add", {"relation": Relation.CHILD}),
            "add_income": form("income-add", {"kind": IncomeKind.WAGE}),
            "add_asset": form("asset-add", {"kind": AssetKind.DEPOSIT}),
            "relations": Relation.choices,
            "work_abilities": WorkAbility.choices,
            "income_kinds": IncomeKind.choices,
            "asset_kinds": AssetKind.choices,
            "grades": [("0", "无"), ("1", "一级"), ("2", "二级"), ("3", "三级"), ("4", "四级")],
        },
    }


def _sheet(case: Case) -> dict | None:
    latest = case.assessments.order_by("-assessed_at", "-id").first()
    return calculation_sheet(latest) if latest else None


def _assess_form(case: Case, posted_form: str, posted, error) -> dict[str, Any]:
    """The assessment step's values: today and the county's period unless something was typed."""
    today = timezone.localdate()
    setting = CountyRules.in_force(today).assessment_months
    choices = [
        (str(months), f"{months}个月" + ("（县定）" if months == setting else ""))
        for months in PERIOD_CHOICES
    ]
    values = {
        "basis_date": today.isoformat(),
        "period_months": str(setting),
        "period_reason": "",
        "care_indicators": [],
        "errors": {},
    }
    if posted_form == "assess" and posted is not None:
        values.update(
            basis_date=posted.get("basis_date", ""),
            period_months=posted.get("period_months", str(setting)),
            period_reason=posted.get("period_reason", ""),
            care_indicators=posted.getlist("care_indicators"),
            errors={(error.field or "form"): error.message} if error else {},
        )
    return {**values, "period_choices": choices, "indicators": DAILY_LIVING_CHOICES}


@login_required
@require_POST
def change_fact(request: HttpRequest, pk: int) -> HttpResponse:
    """Add, change or remove one household fact from the case page."""
    from ..views import refused  # the case page's refusal: the page again, typed values kept

    case = case_for_user(request.user, pk, request=request)
    post = request.POST
    subject = post.get("subject", "")
    values = {key: post.get(key) for key in FIELDS.get(subject, ()) if key in post}
    if post.get("operation") in ("add", "change"):
        for key in CHECKBOXES.get(subject, ()):
            values[key] = post.get(key, "")
    try:
        record_fact_change(
            case=case,
            actor=request.user,
            reason=post.get("reason", ""),
            subject=subject,
            operation=post.get("operation", ""),
            target_id=post.get("target_id") or None,
            values=values,
            version=post.get("version") or None,
        )
    except DomainError as error:
        return refused(request, pk, error, form=post.get("form_id", ""))
    messages.success(request, "家庭信息已更正，并已记入办理过程。")
    return redirect(f"{reverse('cases:detail', args=[pk])}#household-facts")


@login_required
def assessment_rules(request: HttpRequest) -> HttpResponse:
    """The county's rules for the income assessment: the period, disregarded kinds, asset limit."""
    user = request.user
    if not (user.has_role(Role.COUNTY_SUPERVISOR) and user.is_county_staff):
        raise PermissionDenied("收入核算规则由县民政局监管人员设置。")
    today = timezone.localdate()
    current = CountyRules.in_force(today)
    context: dict[str, Any] = {
        "current": current,
        "current_kinds": [IncomeKind(k).label for k in current.disregarded_income_kinds or []],
        "history": CountyRules.objects.select_related("set_by").order_by("-effective_from")[:50],
        "income_kinds": IncomeKind.choices,
        "values": {
            "effective_from": (today + timedelta(days=1)).isoformat(),
            "assessment_months": str(current.assessment_months),
            "disregarded_income_kinds": list(current.disregarded_income_kinds or []),
            "marginal_asset_limit": current.marginal_asset_limit or "",
            "phase_out_months": str(current.phase_out_months),
            "note": "",
        },
        "errors": {},
    }
    if request.method == "POST":
        post = request.POST
        context["values"] = {
            "effective_from": post.get("effective_from", ""),
            "assessment_months": post.get("assessment_months", ""),
            "disregarded_income_kinds": post.getlist("disregarded_income_kinds"),
            "marginal_asset_limit": post.get("marginal_asset_limit", ""),
            "phase_out_months": post.get("phase_out_months", ""),
            "note": post.get("note", ""),
        }
        try:
            rules = set_assessment_rules(actor=user, **context["values"])
        except DomainError as error:
            messages.error(request, error.message)
            context["errors"] = {error.field or "form": error.message}
            return render(request, "cases/facts/rules.html", context, status=error.status)
        messages.success(request, f"收入核算规则已设置，自{rules.effective_from:%Y-%m-%d}起执行。")
        return redirect("cases:assessment_rules")
    return render(request, "cases/facts/rules.html", context)
