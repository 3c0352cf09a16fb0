"""Case pages: the township list, the case page with its steps, the entrusted-application form
and the county verification queue. Input is validated by the same serializers as the API and
every write is one service call; a refusal re-renders the page with the Chinese reason.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.access import require_staff_role, scope_for
from accounts.models import Role, Unit, UnitKind, Village
from dengkou_aid.errors import DomainError
from dengkou_aid.lib.paging import page_of

from . import api, selectors, services
from .deadlines.calendar import current_calendar
from .models import (
    ApplicantConsent,
    Area,
    CareTier,
    FileCategory,
    IncomeKind,
    Kind,
    MaterialRequirement,
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
    present = {f.requirement_id for f in files if f.requirement_id}
    has_consent = bool(list(case.consents.all()))
    checklist = [
        {
            "requirement": r,
            "present": r.pk in present,
            "missing": r.required
            and not r.platform_supplied
            and r.pk not in present
            and not (has_consent and r.code in services.CONSENT_MATERIALS),
        }
        for r in MaterialRequirement.objects.filter(kind=case.kind)
    ]
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
        "requirements": [item["requirement"] for item in checklist],
        "can_upload": case.state in services.OPEN_STATES,
        "paid": amounts_for_cases([case.pk]).get(case.pk),
    }


@login_required
def case_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One case: household, calculation, materials, timeline and the steps this user may take."""
    case_for_user(request.user, pk, request=request)
    return render(request, "cases/detail.html", _case_context(request, pk))


def _refused(request: HttpRequest, pk: int, error: DomainError, form: str = "") -> HttpResponse:
    """The case page again, the reason next to the field of the form sent, what was typed kept."""
    messages.error(request, error.message)
    context = _case_context(request, pk)
    context.update(error=error, posted_form=form, posted=request.POST)
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
        data["findings"] = [
            {"agency": a.strip(), "result": r.strip()}
            for a, r in zip(post.getlist("agency"), post.getlist("result"), strict=False)
            if a.strip() or r.strip()
        ]
        data["disqualifying"] = post.get("disqualifying") == "on"
    if name == "resolve_objection":
        data["substantiated"] = post.get("substantiated") == "yes"
    if name == "assign_agency" and "agency" not in data:
        data["agency"] = None
    return data


FILE_ARGUMENTS = {"record_consent": "files", "record_home_visit": "photos"}


@login_required
@require_POST
def take_step(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """Take one workflow step from the case page (the same service the API calls)."""
    if name not in api.TRANSITIONS:
        raise Http404
    case = case_for_user(request.user, pk, request=request)
    input_class, service = api.TRANSITIONS[name]
    try:
        data = api.validate_input(input_class(data=_step_data(request, name)))
        if name in FILE_ARGUMENTS:
            data[FILE_ARGUMENTS[name]] = request.FILES.getlist("files")
        service(actor=request.user, case=case, **data)
    except DomainError as error:
        return _refused(request, pk, error, form=name)
    messages.success(request, f"已办理：{selectors.STEP_BY_NAME[name].label}")
    return redirect("cases:detail", pk=pk)


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
        return _refused(request, pk, error, form="upload")
    messages.success(request, "材料已上传。")
    return redirect("cases:detail", pk=pk)


# --- filing ----------------------------------------------------------------------------------

MEMBER_ROWS = 5


def _application_data(request: HttpRequest) -> dict:
    post = request.POST
    members = []
    for i in range(MEMBER_ROWS):
        name, number = post.get(f"m{i}_name", "").strip(), post.get(f"m{i}_id", "").strip()
        if not (name or number):
            continue
        member = {
            "name": name,
            "id_number": number,
            "relation": post.get(f"m{i}_relation") or (Relation.HEAD if i == 0 else Relation.OTHER),
            "work_ability": post.get(f"m{i}_work") or "able",
            "incomes": [],
        }
        amount = post.get(f"m{i}_income", "").strip()
        if amount:
            member["incomes"].append(
                {
                    "kind": post.get(f"m{i}_income_kind") or IncomeKind.WAGE,
                    "source": post.get(f"m{i}_income_source", "").strip() or "申报收入",
                    "monthly_amount": amount,
                    "period_start": post.get(f"m{i}_income_since", ""),
                }
            )
        members.append(member)
    village = post.get("village") or (request.user.village_id or "")
    return {
        "kind": post.get("kind", ""),
        "village": village,
        "area": post.get("area", ""),
        "address": post.get("address", ""),
        "entrusted_reason": post.get("entrusted_reason", ""),
        "members": members,
    }


def _member_rows(posted) -> list[dict]:
    """The member rows of the application form, with what was typed when it comes back."""
    keys = ("name", "id", "relation", "work", "income", "income_kind", "income_source")
    return [
        {
            "i": i,
            **{key: posted.get(f"m{i}_{key}", "") for key in keys},
            "income_since": posted.get(f"m{i}_income_since", ""),
        }
        for i in range(MEMBER_ROWS)
    ]


@login_required
def new_application(request: HttpRequest) -> HttpResponse:
    """The application form: entrusted by a village assistant (tablet), or filed at the unit."""
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
        "villages": _villages(user),
        "form": request.POST,
    }
    if request.method == "POST":
        try:
            data = api.validate_input(api.ApplicationSerializer(data=_application_data(request)))
            case = services.file_application(actor=user, **data)
        except DomainError as error:
            messages.error(request, error.message)
            context["error"] = error
            context["error_field"] = api.field_label(api.ApplicationSerializer(), error.field or "")
            return render(request, "cases/apply.html", context, status=error.status)
        messages.success(request, f"申请已提交，案件编号 {case.number}。")
        return redirect("cases:detail", pk=case.pk)
    return render(request, "cases/apply.html", context)


# --- county verification ----------------------------------------------------------------------


@login_required
def verification_queue(request: HttpRequest) -> HttpResponse:
    """The county verification officer's queue: requests waiting for a report."""
    if not request.user.has_role(Role.VERIFICATION_OFFICER) or not request.user.is_county_staff:
        raise PermissionDenied("核对任务仅限县核对中心核对员办理。")
    cases = selectors.waiting_for(request.user, Role.VERIFICATION_OFFICER).select_related("unit")
    page, querystring = page_of(request, cases, PAGE_SIZE)
    return render(
        request,
        "cases/verification.html",
        {"page": page, "querystring": querystring, "finding_rows": range(4)},
    )


@login_required
@require_POST
def verification_report(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_for_user(request.user, pk, request=request)
    try:
        data = api.validate_input(
            api.VerificationReportInput(data=_step_data(request, "record_verification_report"))
        )
        services.record_verification_report(actor=request.user, case=case, **data)
    except DomainError as error:
        messages.error(request, f"{case.number}：{error.message}")
        return redirect("cases:verification")
    messages.success(request, f"{case.number} 核对报告已录入。")
    return redirect("cases:verification")
