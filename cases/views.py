"""Case pages: the township list, the case page with its steps, the entrusted-application form
and the county verification queue. Input is validated by the same serializers as the API and
every write is one service call; a refusal re-renders the page with the Chinese reason.
"""

from __future__ import annotations

import re
from itertools import zip_longest

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import audit
from accounts.access import require_staff_role, scope_for
from accounts.models import AuditLog, Role, Unit, UnitKind, Village
from dengkou_aid.errors import DomainError
from dengkou_aid.lib.paging import page_of

from . import api, ineligible, rechecks, selectors, services
from .deadlines.calendar import current_calendar
from .documents.panel import documents_panel
from .facts.views import facts_context
from .materials import material_checklist
from .models import (
    ApplicantConsent,
    Area,
    CareTier,
    CountyRules,
    FileCategory,
    IncomeKind,
    Kind,
    Opinion,
    Outcome,
    Relation,
    State,
    WorkAbility,
)
from .payments import amounts_for_cases
from .permissions import case_for_user

PAGE_SIZE = 50


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    """The township's cases with filters, search by name or ID number, and working days left."""
    require_staff_role(request.user)
    query = api.CaseQuery(data={k: v for k, v in request.GET.items() if v != ""})
    filters = query.validated_data if query.is_valid() else {}
    cases = selectors.search_cases(request.user, **filters)
    page, querystring = page_of(request, cases, PAGE_SIZE)
    calendar = current_calendar()
    rows = [(case, selectors.workdays_left(case, calendar=calendar)) for case in page]
    villages = _villages(request.user)
    return render(
        request,
        "cases/list.html",
        {
            "page": page,
            "rows": rows,
            "filters": request.GET,
            "errors": query.errors,
            "kinds": Kind.choices,
            "states": State.choices,
            "villages": villages.only("id", "name"),
            "querystring": querystring,
            "order": request.GET.get("order", ""),
        },
    )


def _villages(user):
    scope = scope_for(user)
    if scope.everything:
        return Village.objects.filter(is_active=True)
    if scope.village_id is not None:
        return Village.objects.filter(pk=scope.village_id)
    return Village.objects.filter(unit_id=scope.unit_id, is_active=True)


def _case_context(request: HttpRequest, case_id: int) -> dict:
    case = selectors.case_detail(request.user).get(pk=case_id)
    files = list(case.files.all())
    checklist = material_checklist(case, prefetched=True)
    assessments = list(case.assessments.all())
    objections = [o for p in case.publicities.all() for o in p.objections.all()]
    return {
        "case": case,
        "members": case.household.members.all(),
        "assessment": assessments[-1] if assessments else None,
        "checklist": checklist,
        "files": files,
        "events": selectors.case_events(case),
        "signatures": case.signatures.all(),
        "outcome": selectors.outcome_summary(case),
        "report": selectors.latest_report(case),
        "agency_rows": selectors.finding_form_rows(),
        "publicities": case.publicities.all(),
        "open_objections": [o for o in objections if o.substantiated is None],
        "steps": selectors.available_steps(request.user, case),
        "workdays_left": selectors.workdays_left(case),
        "agencies": Unit.objects.filter(kind=UnitKind.AGENCY, is_active=True),
        "choices": {
            "consent": ApplicantConsent.Method.choices,
            "outcome": Outcome.choices,
            "opinion": Opinion.choices,
            "category": FileCategory.choices,
            "care": CareTier.choices,
        },
        "requirements": [row.requirement for row in checklist],
        "can_upload": case.state in services.OPEN_STATES,
        **facts_context(request.user, case),
        # A plainly ineligible case goes to non-approval without publicity (cases.ineligible).
        "ineligibility": ineligible.ineligibility(case) if case.state in UNDECIDED else None,
        "notice_due": ineligible.notice_due(case) if case.state == State.CONFIRMED else None,
        "notice_days": CountyRules.in_force().rejection_notice_workdays,
        "documents_panel": documents_panel(case, request.user, checklist),
        "paid": amounts_for_cases([case.pk]).get(case.pk),
    }


UNDECIDED = (State.ASSESSED, State.PROPOSED, State.OPINION_SIGNED)


@login_required
def case_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One case: household, calculation, materials, timeline and the steps this user may take."""
    case_for_user(request.user, pk, request=request)
    return render(request, "cases/detail.html", _case_context(request, pk))


def refused(
    request: HttpRequest, pk: int, error: DomainError, form: str = "", **extra
) -> HttpResponse:
    """The case page again, the reason next to the field of the form sent, what was typed kept."""
    messages.error(request, error.message)
    context = _case_context(request, pk)
    context.update(error=error, posted_form=form, posted=request.POST, **extra)
    context.update(
        facts_context(
            request.user, context["case"], posted_form=form, posted=request.POST, error=error
        )
    )
    return render(request, "cases/detail.html", context, status=error.status)


def _step_data(request: HttpRequest, name: str) -> dict:
    """Turn a page form into the shape the API's input serializer takes."""
    post = request.POST
    data = {k: v for k, v in post.items() if v != "" and k != "csrfmiddlewaretoken"}
    if name == "record_home_visit":
        data["investigators"] = [
            {"name": n.strip(), "kind": k}
            for n, k in zip(
                post.getlist("investigator"), post.getlist("investigator_kind"), strict=False
            )
            if n.strip()
        ]
    if name == "record_verification_report":
        data["findings"] = _findings(post)
        data["disqualifying"] = post.get("disqualifying") == "on"
    if name == "resolve_objection":
        data["substantiated"] = post.get("substantiated") == "yes"
    if name == "assess" and post.get("care_form"):
        data["care_indicators"] = post.getlist("care_indicators")
    if name == "assign_agency" and "agency" not in data:
        data["agency"] = None
    return data


FOUND = {"yes": True, "no": False}


def _findings(post) -> list[dict]:
    """The per-agency rows of the verification form: agency, found or not, what was found."""
    rows = zip_longest(post.getlist("agency"), post.getlist("found"), post.getlist("result"))
    return [
        {"agency": (a or "").strip(), "found": FOUND.get(f or ""), "result": (r or "").strip()}
        for a, f, r in rows
        if (a or "").strip() or (r or "").strip()
    ]


FILE_ARGUMENTS = {"record_consent": "files", "record_home_visit": "photos"}


@login_required
@require_POST
def take_step(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """Take one workflow step from the case page (the same service the API calls)."""
    if name not in api.TRANSITIONS:
        raise Http404
    case = case_for_user(request.user, pk, request=request)
    input_class, service = api.TRANSITIONS[name]
    confirming = name in selectors.CONFIRMED_STEPS and request.POST.get("confirmed") != "1"
    data: dict = {}
    try:
        data = api.validate_input(input_class(data=_step_data(request, name)))
        if confirming:
            return _confirmation(request, case, name, data)
        if name in FILE_ARGUMENTS:
            data[FILE_ARGUMENTS[name]] = request.FILES.getlist("files")
        service(actor=request.user, case=case, **data)
    except DomainError as error:
        if error.field == "otp_token":
            return _confirmation(request, case, name, data, error=error)
        return refused(request, pk, error, form=name)
    messages.success(request, f"已办理：{selectors.STEP_BY_NAME[name].label}")
    return redirect("cases:detail", pk=pk)


def _confirmation(
    request: HttpRequest, case, name: str, data: dict, error: DomainError | None = None
) -> HttpResponse:
    """Before an act that cannot be undone: what will be signed, and (for a leader) the code."""
    hidden = [
        (key, value)
        for key, values in request.POST.lists()
        if key not in ("csrfmiddlewaretoken", "confirmed", "otp_token")
        for value in values
    ]
    context = {
        "case": case,
        "step": selectors.STEP_BY_NAME[name],
        "rows": selectors.what_is_signed(request.user, case, name, data),
        "hidden": hidden,
        "needs_code": name in selectors.CODE_SIGNED_STEPS and request.user.needs_two_factor,
        "error": error,
    }
    return render(
        request, "cases/confirm_step.html", context, status=error.status if error else 200
    )


@login_required
@require_POST
def upload(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_for_user(request.user, pk, request=request)
    try:
        data = api.validate_input(
            api.MaterialInput(data={**request.POST.dict(), **request.FILES.dict()})
        )
        services.upload_material(actor=request.user, case=case, **data)
    except DomainError as error:
        return refused(request, pk, error, form="upload")
    messages.success(request, "材料已上传。")
    return redirect("cases:detail", pk=pk)


# --- filing ----------------------------------------------------------------------------------

MAX_MEMBER_ROWS = 60
ROW_KEYS = (
    "name",
    "id",
    "relation",
    "work",
    "disability",
    "phone",
    "income",
    "income_kind",
    "income_source",
    "income_since",
    "income_until",
)
ROW_KEY = re.compile(r"^m(\d{1,3})_")
# Where a service or serializer error on a member lands in the member's row.
MEMBER_FIELD_KEYS = {
    "name": "name",
    "id_number": "id",
    "relation": "relation",
    "work_ability": "work",
    "disability_grade": "disability",
    "phone": "phone",
    "incomes.monthly_amount": "income",
    "incomes.kind": "income_kind",
    "incomes.source": "income_source",
    "incomes.period_start": "income_since",
    "incomes.period_end": "income_until",
}


def _row_indices(post) -> list[int]:
    """The member rows the form sent, in order: any number of them (rows are added in the page)."""
    found = {int(m.group(1)) for key in post for m in [ROW_KEY.match(key)] if m}
    return sorted(found)[:MAX_MEMBER_ROWS]


def _application_data(request: HttpRequest) -> tuple[dict, list[int]]:
    """The form as the application serializer takes it, and the row each member came from."""
    post = request.POST
    members, rows = [], []
    for i in _row_indices(post):
        name, number = post.get(f"m{i}_name", "").strip(), post.get(f"m{i}_id", "").strip()
        if not (name or number):
            continue
        first = not members
        member = {
            "name": name,
            "id_number": number,
            "relation": post.get(f"m{i}_relation") or (Relation.HEAD if first else Relation.OTHER),
            "work_ability": post.get(f"m{i}_work") or "able",
            "disability_grade": post.get(f"m{i}_disability") or 0,
            "phone": post.get(f"m{i}_phone", "").strip(),
            "incomes": [],
        }
        amount = post.get(f"m{i}_income", "").strip()
        if amount:
            member["incomes"].append(
                {
                    "kind": post.get(f"m{i}_income_kind") or IncomeKind.WAGE,
                    "source": post.get(f"m{i}_income_source", "").strip() or "申报收入",
                    "monthly_amount": amount,
                    "period_start": post.get(f"m{i}_income_since") or None,
                    "period_end": post.get(f"m{i}_income_until") or None,
                }
            )
        members.append(member)
        rows.append(i)
    village = post.get("village") or (request.user.village_id or "")
    data = {
        "kind": post.get("kind", ""),
        "village": village,
        "area": post.get("area", ""),
        "address": post.get("address", ""),
        "entrusted_reason": post.get("entrusted_reason", ""),
        "members": members,
    }
    return data, rows


def _member_rows(posted, errors: dict[int, dict[str, str]] | None = None) -> list[dict]:
    """The member rows of the application form, with what was typed when it comes back."""
    indices = _row_indices(posted) or [0, 1]
    errors = errors or {}
    return [
        {
            "i": i,
            "first": n == 0,
            **{key: posted.get(f"m{i}_{key}", "") for key in ROW_KEYS},
            "errors": errors.get(i, {}),
        }
        for n, i in enumerate(indices)
    ]


def _next_row(rows: list[dict]) -> int:
    return max((row["i"] for row in rows), default=0) + 1


def _application_errors(error: DomainError, rows: list[int]) -> tuple[dict, dict]:
    """Split an error's field path into (errors by row and key, errors by top-level field)."""
    path = error.field or ""
    match = re.match(r"^members\[(\d+)\]\.(.+)$", path)
    if match and int(match.group(1)) < len(rows):
        key = re.sub(r"\[\d+\]", "", match.group(2))
        row_key = MEMBER_FIELD_KEYS.get(key, "name")
        return {rows[int(match.group(1))]: {row_key: error.message}}, {}
    if path.startswith("members"):
        return ({rows[0]: {"name": error.message}} if rows else {}), {"members": error.message}
    return {}, {path or "form": error.message}


@login_required
def new_application(request: HttpRequest) -> HttpResponse:
    """The application form: entrusted by a village assistant (tablet), or filed at the unit.

    Any household size: the page adds member rows (static/js/member_rows.js), each member with
    their own relation. A refusal shows the whole form again, the message beside its field.
    """
    user = request.user
    if not user.has_role(Role.VILLAGE_ASSISTANT, Role.HANDLER):
        raise PermissionDenied("申请须由经办人或嘎查村/社区协理员录入。")
    entrusted = user.has_role(Role.VILLAGE_ASSISTANT) and not user.has_role(Role.HANDLER)
    context = {
        "entrusted": entrusted,
        "kinds": Kind.choices,
        "areas": Area.choices,
        "relations": Relation.choices,
        "income_kinds": IncomeKind.choices,
        "rows": _member_rows(request.POST),
        "work_abilities": WorkAbility.choices,
        "grades": [("0", "无"), ("1", "一级"), ("2", "二级"), ("3", "三级"), ("4", "四级")],
        "villages": _villages(user),
        "form": request.POST,
        "field_errors": {},
        "blank_row": {"i": "__i__", "first": False, "errors": {}},
    }
    context["next_row"] = _next_row(context["rows"])
    if request.method == "POST":
        data, rows = _application_data(request)
        try:
            data = api.validate_input(api.ApplicationSerializer(data=data))
            case = services.file_application(actor=user, **data)
        except DomainError as error:
            messages.error(request, error.message)
            row_errors, field_errors = _application_errors(error, rows)
            context["rows"] = _member_rows(request.POST, row_errors)
            context["field_errors"] = field_errors
            context["next_row"] = _next_row(context["rows"])
            context["error"] = error
            context["error_field"] = api.field_label(api.ApplicationSerializer(), error.field or "")
            return render(request, "cases/apply.html", context, status=error.status)
        messages.success(request, f"申请已提交，案件编号 {case.number}。")
        return redirect("cases:detail", pk=case.pk)
    return render(request, "cases/apply.html", context)


# --- county verification ----------------------------------------------------------------------


def _require_verification_officer(user) -> None:
    if not user.has_role(Role.VERIFICATION_OFFICER) or not user.is_county_staff:
        raise PermissionDenied("核对任务仅限县核对中心核对员办理。")


@login_required
def verification_queue(request: HttpRequest) -> HttpResponse:
    """The county verification officer's queue: requests waiting for a report."""
    _require_verification_officer(request.user)
    cases = selectors.waiting_for(request.user, Role.VERIFICATION_OFFICER).select_related(
        "unit", "household"
    )
    page, querystring = page_of(request, cases, PAGE_SIZE)
    notes = selectors.verification_notes([case.pk for case in page])
    return render(
        request,
        "cases/verification.html",
        {
            "rows": [(case, notes.get(case.pk, "")) for case in page],
            "page": page,
            "querystring": querystring,
            "finding_rows": range(4),
            "rechecks": rechecks.pending_rechecks()[:PAGE_SIZE],
        },
    )


@login_required
def verification_task(request: HttpRequest, pk: int) -> HttpResponse:
    """One request: the members with full ID numbers (each read audited), the handler's note,
    and the findings agency by agency."""
    _require_verification_officer(request.user)
    case = case_for_user(request.user, pk, request=request)
    return _verification_task(request, case)


def _verification_task(request, case, error: DomainError | None = None) -> HttpResponse:
    members = list(case.household.members.active().order_by("id"))
    for member in members:
        audit.record(
            AuditLog.Action.SENSITIVE_READ,
            request=request,
            obj=member,
            detail=f"核对任务{case.number}：查看{member.name}的完整身份证号",
        )
    request_row = case.verification_requests.order_by("-id").first()
    posted = request.POST if error else None
    return render(
        request,
        "cases/verification_task.html",
        {
            "case": case,
            "members": members,
            "note": request_row.note if request_row else "",
            "agency_rows": selectors.finding_form_rows(posted),
            "posted": posted,
            "error": error,
        },
        status=error.status if error else 200,
    )


@login_required
@require_POST
def recheck_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The officer's report on a re-check asked for by a review of a household in payment."""
    if not request.user.has_role(Role.VERIFICATION_OFFICER) or not request.user.is_county_staff:
        raise PermissionDenied("核对任务仅限县核对中心核对员办理。")
    entrusted = rechecks.pending_rechecks().filter(pk=pk).first()
    if entrusted is None:
        messages.error(request, "该重新核对委托不存在或已出具报告。")
        return redirect("cases:verification")
    data = _step_data(request, "record_verification_report")
    try:
        rechecks.record_recheck_report(
            actor=request.user,
            request=entrusted,
            findings=data["findings"],
            summary=data.get("summary", ""),
            disqualifying=data["disqualifying"],
        )
    except DomainError as error:
        messages.error(request, f"{entrusted.case.number}：{error.message}")
        return redirect("cases:verification")
    messages.success(request, f"{entrusted.case.number} 重新核对报告已录入。")
    return redirect("cases:verification")


@login_required
@require_POST
def verification_report(request: HttpRequest, pk: int) -> HttpResponse:
    _require_verification_officer(request.user)
    case = case_for_user(request.user, pk, request=request)
    try:
        data = api.validate_input(
            api.VerificationReportInput(data=_step_data(request, "record_verification_report"))
        )
        services.record_verification_report(actor=request.user, case=case, **data)
    except DomainError as error:
        messages.error(request, f"{case.number}：{error.message}")
        return _verification_task(request, case, error=error)
    messages.success(request, f"{case.number} 核对报告已录入。")
    return redirect("cases:verification")
