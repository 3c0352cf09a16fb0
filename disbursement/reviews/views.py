"""Pages for dynamic management: review lists and workflow, change reports (tablet),
comparison runs, and a household's history.

Thin: fetch through the scope, validate, call one service, show domain errors as messages.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import not_found, require_staff_role, scope_for
from accounts.models import Role, User
from cases.models import (
    AssetKind,
    CountyRules,
    Household,
    IncomeKind,
    Person,
    Relation,
    WorkAbility,
)
from dengkou_aid.errors import DomainError
from disbursement.models import (
    OPEN_REVIEW_STATES,
    ChangeReport,
    ChangeReportKind,
    ChangeReportState,
    ComparisonIssue,
    ComparisonRun,
    EntitlementChange,
    Review,
    ReviewOutcome,
    ReviewState,
    ReviewTrigger,
)

from ..in_force import shown_amount, shown_amounts_for_cases
from . import change_reports, comparison, facts
from . import services as reviews

PAGE = 50


# --- The one door ------------------------------------------------------------------------


def reviews_visible_to(user: User) -> QuerySet[Review]:
    return scope_for(user).filter(Review.objects.all())


def reports_visible_to(user: User) -> QuerySet[ChangeReport]:
    return scope_for(user).filter(ChangeReport.objects.all())


def households_visible_to(user: User) -> QuerySet[Household]:
    return scope_for(user).filter(Household.objects.all())


def _one(queryset: QuerySet, request: HttpRequest, label: str, pk: object):
    try:
        return queryset.get(pk=int(pk))
    except (queryset.model.DoesNotExist, TypeError, ValueError):
        raise not_found(request, request.user, label, pk) from None


def _staff(request: HttpRequest) -> User:
    require_staff_role(request.user)
    return request.user


# --- Reviews -----------------------------------------------------------------------------


@login_required
def review_list(request: HttpRequest) -> HttpResponse:
    """The unit's (or village's, or for the county every unit's) reviews, open first."""
    user = _staff(request)
    # The household's name is its head's (Household.head reads prefetched members).
    queryset = (
        reviews_visible_to(user)
        .select_related("household", "unit", "village", "case")
        .prefetch_related("household__members")
    )
    state = request.GET.get("state", "open")
    if state == "open":
        queryset = queryset.filter(state__in=OPEN_REVIEW_STATES)
    elif state in ReviewState.values:
        queryset = queryset.filter(state=state)
    if request.GET.get("overdue"):
        queryset = queryset.filter(state__in=OPEN_REVIEW_STATES, due_on__lt=timezone.localdate())
    if request.GET.get("unit", "").isdigit():
        queryset = queryset.filter(unit_id=int(request.GET["unit"]))
    page = Paginator(queryset.order_by("due_on", "id"), PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "reviews/review_list.html",
        {
            "page": page,
            "states": ReviewState.choices,
            "state": state,
            "today": timezone.localdate(),
        },
    )


class ProposalForm(forms.Form):
    outcome = forms.ChoiceField(label="复核结果", choices=ReviewOutcome.choices)
    new_amount = forms.DecimalField(
        label="调整后月救助金额（元）", required=False, max_digits=12, decimal_places=2
    )
    reason = forms.CharField(label="复核意见及理由", widget=forms.Textarea)


MEMBER_FIELDS = ("name", "relation", "work_ability", "person", "note")
INCOME_FIELDS = (
    "member",
    "kind",
    "source",
    "monthly_amount",
    "months",
    "period_start",
    "period_end",
    "exempt",
    "exempt_reason",
)
ASSET_FIELDS = ("kind", "value", "description")
# Error keys from facts.facts_from_rows, by the form field they stand beside.
ERROR_KEYS = {
    "member": {"name": "name", "relation": "relation", "work_ability": "work_ability"},
    "income": {
        "member": "member",
        "kind": "kind",
        "amount": "monthly_amount",
        "months": "months",
        "start": "period_start",
        "end": "period_end",
    },
    "asset": {"kind": "kind", "value": "value"},
}
BLANK_ROWS = 2


@login_required
@require_http_methods(["GET", "POST"])
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    review = _one(
        reviews_visible_to(user).select_related("entitlement", "case", "household"),
        request,
        "review",
        pk,
    )
    if request.method == "POST" and request.POST.get("action") == "visit":
        return _visit(request, review, user)
    if request.method == "POST":
        try:
            _act(request, review, user)
        except DomainError as error:
            if error.field == "otp_token":
                # The leader's code was refused: the form comes back with what was typed.
                signing = {
                    "action": request.POST.get("action"),
                    "text": request.POST.get("text", ""),
                    "error": error.message,
                }
                return _detail_page(request, review, user, signing=signing, status=error.status)
            messages.error(request, error.message)
        else:
            messages.success(request, "已办理。")
        return redirect("reviews:detail", pk=review.pk)
    return _detail_page(request, review, user)


def _detail_page(
    request: HttpRequest,
    review: Review,
    user: User,
    *,
    visit: dict | None = None,
    signing: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    members = Person.objects.filter(household_id=review.household_id).order_by("id")
    return render(
        request,
        "reviews/review_detail.html",
        {
            "review": review,
            "paid": shown_amount(review.entitlement),
            "members": members,
            "signatures": review.signatures.all(),
            "signing": signing or {},
            "needs_code": user.needs_two_factor,
            "findings": review.findings.all()[:50],
            "reports": review.change_reports.all(),
            "report": reviews.verification_report(review),
            "recorded": facts.recorded_facts(review) if review.visited_on else None,
            "visit": visit or _visit_initial(review),
            "relations": Relation.choices,
            "abilities": WorkAbility.choices,
            "income_kinds": IncomeKind.choices,
            "daily_living": DAILY_LIVING,
            "asset_kinds": AssetKind.choices,
            "proposal_form": ProposalForm(initial=_proposal_initial(review)),
            "can_handle": user.has_role(Role.HANDLER) and user.unit_id == review.unit_id,
            "can_opinion": user.has_role(Role.DIRECT_RESPONSIBLE)
            and user.unit_id == review.unit_id,
            "can_decide": user.has_role(Role.FIRST_RESPONSIBLE) and user.unit_id == review.unit_id,
        },
        status=status,
    )


def _proposal_initial(review: Review) -> dict:
    """Start from what the recalculation found: its amount, or phase-out when above the line."""
    if review.assessed_eligible:
        return {"new_amount": review.assessed_amount}
    if review.assessed_eligible is False:
        phase_out = CountyRules.in_force().phase_out_months
        return {"outcome": ReviewOutcome.PHASE_OUT if phase_out else ReviewOutcome.STOP}
    return {}


def _visit_initial(review: Review) -> dict:
    """The visit form, prefilled with the household as the case's records know it."""
    today = timezone.localdate()
    known = facts.current_facts(review, on=today)
    return {
        "visited_on": today.isoformat(),
        "investigator1": "",
        "investigator2": "",
        "findings": "",
        "errors": {},
        "members": [
            {
                "name": m.name,
                "relation": m.relation,
                "work_ability": m.work_ability,
                "person": m.person_id or "",
                "note": "",
            }
            for m in known.members
        ]
        + _blank(MEMBER_FIELDS),
        "incomes": [
            {
                "member": i.member,
                "kind": i.kind,
                "source": i.source,
                "monthly_amount": i.monthly_amount,
                "months": "",
                "period_start": i.period_start.isoformat() if i.period_start else "",
                "period_end": i.period_end.isoformat() if i.period_end else "",
                "exempt": "1" if i.exempt else "",
                "exempt_reason": i.exempt_reason,
            }
            for i in known.incomes
        ]
        + _blank(INCOME_FIELDS),
        "assets": [
            {"kind": a.kind, "value": a.value, "description": a.description} for a in known.assets
        ]
        + _blank(ASSET_FIELDS),
    }


def _blank(fields: tuple[str, ...]) -> list[dict]:
    return [dict.fromkeys(fields, "") for _ in range(BLANK_ROWS)]


def _posted_rows(post, prefix: str, fields: tuple[str, ...]) -> list[dict]:
    columns = {f: post.getlist(f"{prefix}_{f}") for f in fields}
    count = max((len(v) for v in columns.values()), default=0)
    return [
        {f: (columns[f][i] if i < len(columns[f]) else "") for f in fields} for i in range(count)
    ]


def _visit(request: HttpRequest, review: Review, user: User) -> HttpResponse:
    """Record the visit and the facts found; refused input comes back as typed, with messages."""
    post = request.POST
    visit = {
        "visited_on": post.get("visited_on", ""),
        "investigator1": post.get("investigator1", ""),
        "investigator2": post.get("investigator2", ""),
        "findings": post.get("findings", ""),
        "members": _posted_rows(post, "member", MEMBER_FIELDS),
        "incomes": _posted_rows(post, "income", INCOME_FIELDS),
        "assets": _posted_rows(post, "asset", ASSET_FIELDS),
        "errors": {},
    }
    try:
        visited_on = _visit_date(visit["visited_on"])
        found = facts.facts_from_rows(
            members=visit["members"],
            incomes=visit["incomes"],
            assets=visit["assets"],
            period_months=CountyRules.in_force(visited_on).assessment_months,
            applicant=review.case.applicant,
        )
        reviews.record_review_visit(
            review=review,
            actor=user,
            visited_on=visited_on,
            investigators=[{"name": visit["investigator1"]}, {"name": visit["investigator2"]}],
            findings=visit["findings"],
            facts=found,
            version=_int(post.get("version")),
        )
    except facts.FactsError as error:
        _attach_row_errors(visit, error.errors)
        messages.error(request, "入户调查记录有误，请按提示修改后再提交。")
        return _detail_page(request, review, user, visit=visit, status=400)
    except DomainError as error:
        visit["errors"] = {error.field or "form": error.message}
        messages.error(request, error.message)
        return _detail_page(request, review, user, visit=visit, status=error.status)
    messages.success(request, "已记录入户调查及核实的家庭情况。")
    return redirect("reviews:detail", pk=review.pk)


def _visit_date(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise DomainError("请填写调查日期，格式如“2027-01-01”。", field="visited_on") from None


def _attach_row_errors(visit: dict, errors: dict[str, str]) -> None:
    for prefix, rows in (
        ("member", visit["members"]),
        ("income", visit["incomes"]),
        ("asset", visit["assets"]),
    ):
        for i, row in enumerate(rows, start=1):
            row["errors"] = {
                field: errors[f"{prefix}_{key}_{i}"]
                for key, field in ERROR_KEYS[prefix].items()
                if f"{prefix}_{key}_{i}" in errors
            }


def _act(request: HttpRequest, review: Review, user: User) -> None:
    action = request.POST.get("action")
    version = _int(request.POST.get("version"))
    if action == "verify":
        reviews.request_review_verification(
            review=review, actor=user, note=request.POST.get("note", ""), version=version
        )
    elif action == "assess":
        reviews.assess_review(
            review=review,
            actor=user,
            care_unmet=_care_unmet(request.POST),
            version=version,
        )
    elif action == "propose":
        reviews.propose_outcome(
            review=review,
            actor=user,
            outcome=request.POST.get("outcome", ""),
            reason=request.POST.get("reason", ""),
            new_amount=_decimal(request.POST.get("new_amount")),
            version=version,
        )
    elif action == "opinion":
        reviews.sign_review_opinion(
            review=review,
            actor=user,
            agree=request.POST.get("agree") == "1",
            text=request.POST.get("text", ""),
            version=version,
            otp_token=request.POST.get("otp_token", "")[:12],
        )
    elif action == "decide":
        reviews.decide_review(
            review=review,
            actor=user,
            agree=request.POST.get("agree") == "1",
            text=request.POST.get("text", ""),
            version=version,
            otp_token=request.POST.get("otp_token", "")[:12],
        )
    else:
        raise DomainError("未知的操作。")


# The six daily-living indicators of the tekun care assessment (民发〔2021〕43号).
DAILY_LIVING = [
    ("eating", "进食"),
    ("dressing", "穿衣"),
    ("transfer", "上下床"),
    ("toileting", "如厕"),
    ("walking", "室内行走"),
    ("bathing", "洗澡"),
]


def _care_unmet(post) -> int | None:
    """How many of the six indicators are ticked as not met (or a typed count, from the API)."""
    if "care_unmet" in post:
        return _int(post.get("care_unmet"))
    known = {value for value, _ in DAILY_LIVING}
    return len(set(post.getlist("care_unmet_item")) & known)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(value) if value not in (None, "") else None
    except InvalidOperation:
        raise DomainError("金额格式不正确。", field="new_amount") from None


# --- Household history -------------------------------------------------------------------


def _with_shown_amounts(cases: QuerySet) -> list:
    """The household's cases, each with the amount in force this month (and any change ahead)."""
    cases = list(cases)
    shown = shown_amounts_for_cases(c.pk for c in cases)
    for case in cases:
        case.shown_amount = shown.get(case.pk)
    return cases


@login_required
def household_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Decisions, reviews, adjustments and the amount month by month, for one household."""
    user = _staff(request)
    household = _one(households_visible_to(user), request, "household", pk)
    changes = list(
        EntitlementChange.objects.filter(entitlement__household=household)
        .select_related("entitlement", "actor")
        .order_by("effective_month", "id")
    )
    return render(
        request,
        "reviews/household_history.html",
        {
            "household": household,
            "members": household.members.order_by("id"),
            "cases": _with_shown_amounts(household.cases.order_by("submitted_at")),
            "reviews": household.reviews.order_by("-opened_on", "-id"),
            "changes": changes,
            "amounts": amounts_over_time(changes),
            "reports": household.change_reports.order_by("-reported_on"),
            "open_review": reviews.open_review_for(household.pk),
            "can_open": user.has_role(Role.HANDLER) and user.unit_id == household.unit_id,
        },
    )


def amounts_over_time(changes: list[EntitlementChange]) -> list[dict]:
    """Periods of equal amount: from month, to month (or ongoing), amount, why."""
    periods: list[dict] = []
    for change in changes:
        if periods and periods[-1]["until"] is None:
            periods[-1]["until"] = _previous_month(change.effective_month)
        if change.new_amount > 0:
            periods.append(
                {
                    "since": change.effective_month,
                    "until": None,
                    "amount": change.new_amount,
                    "reason": change.reason,
                }
            )
    return [p for p in periods if p["until"] is None or p["until"] >= p["since"]]


def _previous_month(month: date) -> date:
    return date(month.year - 1, 12, 1) if month.month == 1 else date(month.year, month.month - 1, 1)


@login_required
@require_POST
def open_review_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    household = _one(households_visible_to(user), request, "household", pk)
    entitlement = change_reports.paid_entitlement(household.pk)
    try:
        if entitlement is None:
            raise DomainError("该家庭不在保，无需复核。")
        review = reviews.open_review(
            entitlement=entitlement, trigger=ReviewTrigger.MANUAL, actor=user
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("reviews:household", pk=household.pk)
    messages.success(request, "已启动复核。")
    return redirect("reviews:detail", pk=review.pk)


# --- Change reports ----------------------------------------------------------------------


class ChangeReportForm(forms.Form):
    household = forms.IntegerField(label="家庭", widget=forms.HiddenInput)
    member = forms.IntegerField(label="发生变化的成员", required=False)
    kind = forms.ChoiceField(label="变化类型", choices=ChangeReportKind.choices)
    occurred_on = forms.DateField(label="发生日期", required=False)
    details = forms.CharField(label="具体情况", widget=forms.Textarea)


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    queryset = reports_visible_to(user).select_related("household", "member", "reported_by")
    state = request.GET.get("state", "")
    if state in ChangeReportState.values:
        queryset = queryset.filter(state=state)
    page = Paginator(queryset, PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "reviews/report_list.html",
        {"page": page, "states": ChangeReportState.choices, "state": state},
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_new(request: HttpRequest) -> HttpResponse:
    """The village assistant's tablet page: pick a household in payment, report what changed."""
    user = _staff(request)
    households = (
        households_visible_to(user)
        .filter(entitlements__in=reviews.entitlements_in_payment())
        .distinct()
        .prefetch_related("members")
        .order_by("id")
    )
    form = ChangeReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        household = _one(households_visible_to(user), request, "household", data["household"])
        # Looked up on its own so that a member of another household is refused by the
        # service with its reason, never quietly turned into a report on the whole household.
        member = Person.objects.filter(pk=data["member"]).first() if data["member"] else None
        try:
            change_reports.file_change_report(
                actor=user,
                household=household,
                kind=data["kind"],
                details=data["details"],
                member=member,
                occurred_on=data["occurred_on"],
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "变化报告已提交，将由经办人处理。")
            return redirect("reviews:reports")
    return render(
        request,
        "reviews/report_new.html",
        {"form": form, "households": households[:200], "kinds": ChangeReportKind.choices},
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    report = _one(
        reports_visible_to(user).select_related("household", "member"), request, "change_report", pk
    )
    if request.method == "POST":
        try:
            change_reports.decide_change_report(
                report=report,
                actor=user,
                decision=request.POST.get("decision", ""),
                note=request.POST.get("note", ""),
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "已处理。")
        return redirect("reviews:report", pk=report.pk)
    return render(
        request,
        "reviews/report_detail.html",
        {
            "report": report,
            "can_decide": user.has_role(Role.HANDLER) and user.unit_id == report.unit_id,
            "can_confirm": report.kind in change_reports.LEAVING_KINDS,
        },
    )


# --- Comparison runs ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def comparison_list(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    if not user.is_county_staff:
        raise not_found(request, user, "comparison_runs", "")
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "请选择要导入的比对结果文件。")
            return redirect("reviews:comparisons")
        try:
            run, created = comparison.import_comparison(
                stream=upload, file_name=upload.name, actor=user
            )
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("reviews:comparisons")
        if created:
            messages.success(
                request, f"已导入：{run.row_count}行，匹配在保对象{run.matched_count}行。"
            )
        else:
            messages.warning(request, "该文件已导入过，显示的是此前的导入结果。")
        return redirect("reviews:comparison", pk=run.pk)
    page = Paginator(ComparisonRun.objects.select_related("imported_by"), PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "reviews/comparison_list.html",
        {"page": page, "header": comparison.HEADER, "can_import": comparison.can_import(user)},
    )


@login_required
def comparison_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A run: the findings (for a unit, only its own) and the rows that matched nothing or were wrong."""
    user = _staff(request)
    run = _one(ComparisonRun.objects.all(), request, "comparison_run", pk)
    findings = scope_for(user).filter(
        run.findings.select_related("person", "household", "unit", "review"),
        village_field="household__village",
    )
    if not user.is_county_staff and not findings.exists():
        raise not_found(request, user, "comparison_run", pk)
    kind = request.GET.get("issues", ComparisonIssue.Kind.MALFORMED)
    issues = run.issues.filter(kind=kind) if user.is_county_staff else run.issues.none()
    return render(
        request,
        "reviews/comparison_detail.html",
        {
            "run": run,
            "findings": Paginator(findings, PAGE).get_page(request.GET.get("page")),
            "issues": Paginator(issues, PAGE).get_page(request.GET.get("ipage")),
            "issue_kind": kind,
            "issue_kinds": ComparisonIssue.Kind.choices,
        },
    )
