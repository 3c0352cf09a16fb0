"""Pages for the unit (rosters, signatures, accounts) and the county (month overview, fund request, plan)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Role, Unit, Village
from cases.deadlines import cutoffs
from cases.permissions import case_for_user
from dengkou_aid.errors import DomainError, NotAllowed

from . import plan, releases, roster_review, selectors, services
from .exports import request_export
from .in_force import roster_totals
from .models import (
    AccountKind,
    Category,
    ChangeSource,
    ExportJob,
    FundDemandPlan,
    RosterKind,
    RosterState,
)


def parse_month(text: str | None, *, default: date | None = None) -> date:
    """'2026-12' or '2026-12-01' to the first of that month."""
    if not text:
        if default is None:
            raise DomainError("请选择月份。", field="month")
        return default
    try:
        parts = [int(p) for p in str(text).split("-")[:2]]
        return date(parts[0], parts[1], 1)
    except (ValueError, IndexError):
        raise DomainError("月份格式应为“2026-12”。", field="month") from None


def _fail(request: HttpRequest, error: DomainError) -> None:
    messages.error(request, error.message)


def _require_unit_staff(user) -> None:
    if not (user.unit_id and user.unit.is_approval_unit and user.has_role(Role.HANDLER)):
        raise NotAllowed("此操作须由本单位经办人办理。")


@login_required
def roster_list(request: HttpRequest) -> HttpResponse:
    if selectors.is_county_finance(request.user):
        return redirect("disbursement:county_month", month=f"{services.next_month():%Y-%m}")
    rosters = selectors.rosters_visible_to(request.user).select_related("unit")
    return render(
        request,
        "disbursement/roster_list.html",
        {
            "rosters": rosters[:120],
            "next_month": services.next_month(),
            "is_handler": request.user.has_role(Role.HANDLER),
            "awaiting": selectors.cases_awaiting_account(request.user)[:50],
        },
    )


@login_required
def roster_detail(request: HttpRequest, roster_id: int) -> HttpResponse:
    roster = selectors.roster_for_user(request.user, roster_id, request=request)
    return _render_detail(request, roster)


def _render_detail(
    request: HttpRequest,
    roster,
    *,
    error: DomainError | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    lines, line_filters = roster_review.roster_lines(roster, request.GET)
    page = Paginator(lines, 200).get_page(request.GET.get("page"))
    comparison = (
        roster_review.compare_with_last_month(roster) if roster.kind == RosterKind.REGULAR else None
    )
    problems = services.reconcile_roster(roster) if not roster.is_frozen else []
    can_correct = selectors.can_correct(user, roster)
    return render(
        request,
        "disbursement/roster_detail.html",
        {
            "roster": roster,
            "page": page,
            "subtotals": selectors.subtotals(roster),
            "comparison": comparison,
            "line_filters": line_filters,
            "villages": Village.objects.filter(unit_id=roster.unit_id).order_by("code"),
            "categories": Category.choices,
            "signatures": services.valid_signatures(roster).order_by("signed_at"),
            "events": roster.events.select_related("actor").order_by("at", "id"),
            "problems": problems,
            "can_sign": selectors.can_sign(user, roster),
            "can_submit": selectors.can_submit(user, roster),
            "can_return": selectors.is_county_finance(user)
            and roster.state == RosterState.SUBMITTED,
            "can_regenerate": user.has_role(Role.HANDLER)
            and user.unit_id == roster.unit_id
            and roster.kind == RosterKind.REGULAR
            and not roster.is_frozen,
            "can_correct": can_correct,
            "form": form or {},
            "error": error,
            "next_step": services.next_step(roster),
            "window": services.ROSTER_WINDOW,
        },
        status=status,
    )


@login_required
@require_POST
def roster_generate(request: HttpRequest) -> HttpResponse:
    user = request.user
    try:
        _require_unit_staff(user)
        month = parse_month(request.POST.get("month"), default=services.next_month())
        roster = services.generate_roster(unit=user.unit, month=month, actor=user)
    except DomainError as error:
        _fail(request, error)
        return redirect("disbursement:roster_list")
    messages.success(
        request, f"已生成{month:%Y年%m月}发放清册：{roster.line_count}户，{roster.total_amount}元。"
    )
    return redirect("disbursement:roster_detail", roster_id=roster.pk)


@login_required
@require_POST
def roster_supplementary(request: HttpRequest) -> HttpResponse:
    user = request.user
    try:
        _require_unit_staff(user)
        month = parse_month(request.POST.get("month"))
        roster = services.generate_supplementary_roster(
            unit=user.unit, month=month, reason=request.POST.get("reason", ""), actor=user
        )
    except DomainError as error:
        _fail(request, error)
        return redirect("disbursement:roster_list")
    messages.success(request, f"已生成补发清册：{roster.line_count}户，{roster.total_amount}元。")
    return redirect("disbursement:roster_detail", roster_id=roster.pk)


def _roster_action(request: HttpRequest, roster_id: int, action, done: str) -> HttpResponse:
    roster = selectors.roster_for_user(request.user, roster_id, request=request)
    try:
        action(roster)
    except DomainError as error:
        _fail(request, error)
    else:
        messages.success(request, done)
    return redirect("disbursement:roster_detail", roster_id=roster.pk)


@login_required
@require_POST
def roster_supplementary_regenerate(request: HttpRequest, roster_id: int) -> HttpResponse:
    roster = selectors.roster_for_user(request.user, roster_id, request=request)
    try:
        roster = services.regenerate_supplementary_roster(roster=roster, actor=request.user)
    except DomainError as error:
        roster.refresh_from_db()
        return _render_detail(request, roster, error=error, status=error.status)
    messages.success(
        request, f"已重新生成补发清册：{roster.line_count}户，{roster.total_amount}元。"
    )
    return redirect("disbursement:roster_detail", roster_id=roster.pk)


@login_required
@require_POST
def roster_discard(request: HttpRequest, roster_id: int) -> HttpResponse:
    roster = selectors.roster_for_user(request.user, roster_id, request=request)
    reason = request.POST.get("reason", "")
    try:
        if request.POST.get("confirm") != "yes":
            raise DomainError("请勾选“确认作废”后再提交。", field="confirm")
        roster = services.discard_supplementary_roster(
            roster=roster, reason=reason, actor=request.user
        )
    except DomainError as error:
        roster.refresh_from_db()
        return _render_detail(
            request, roster, error=error, form={"reason": reason}, status=error.status
        )
    messages.success(request, "补发清册已作废，本月可重新编制补发清册。")
    return redirect("disbursement:roster_detail", roster_id=roster.pk)


@login_required
@require_POST
def roster_sign(request: HttpRequest, roster_id: int) -> HttpResponse:
    return _roster_action(
        request,
        roster_id,
        lambda r: services.sign_roster(
            roster=r, actor=request.user, otp_token=request.POST.get("otp_token", "")
        ),
        "已签字。",
    )


@login_required
@require_POST
def roster_submit(request: HttpRequest, roster_id: int) -> HttpResponse:
    """Submitting to the county cannot be undone: first show what goes (month, kind, households,
    total, signatures), and submit only once it is confirmed."""
    roster = selectors.roster_for_user(request.user, roster_id, request=request)
    if request.POST.get("confirmed") != "1" and selectors.can_submit(request.user, roster):
        return render(
            request,
            "disbursement/confirm_submit.html",
            {
                "roster": roster,
                "signatures": services.valid_signatures(roster).order_by("signed_at"),
            },
        )
    return _roster_action(
        request,
        roster_id,
        lambda r: services.submit_roster(roster=r, actor=request.user),
        "清册已报送县民政局。",
    )


@login_required
@require_POST
def roster_return(request: HttpRequest, roster_id: int) -> HttpResponse:
    return _roster_action(
        request,
        roster_id,
        lambda r: services.return_roster(
            roster=r, reason=request.POST.get("reason", ""), actor=request.user
        ),
        "清册已退回。",
    )


@login_required
@require_POST
def entitlement_create(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_for_user(request.user, case_id, request=request)
    try:
        _require_unit_staff(request.user)
        services.create_entitlement(
            case=case,
            account_kind=request.POST.get("account_kind", ""),
            account_number=request.POST.get("account_number", ""),
            bank_name=request.POST.get("bank_name", ""),
            holder_name=request.POST.get("holder_name", ""),
            actor=request.user,
        )
    except DomainError as error:
        _fail(request, error)
    else:
        messages.success(request, f"案件{case.number}的发放账户已登记。")
    return redirect("disbursement:roster_list")


# --- Exports -----------------------------------------------------------------------------


@login_required
@require_POST
def export_start(request: HttpRequest) -> HttpResponse:
    user = request.user
    kind = request.POST.get("kind", "")
    roster = None
    try:
        if kind not in ExportJob.Kind.values:
            raise DomainError("导出类型无效。", field="kind")
        if request.POST.get("roster"):
            roster = selectors.roster_for_user(user, request.POST["roster"], request=request)
        month = parse_month(request.POST.get("month")) if request.POST.get("month") else None
        year = int(request.POST["year"]) if request.POST.get("year", "").isdigit() else None
        job = request_export(kind=kind, actor=user, roster=roster, month=month, year=year)
    except DomainError as error:
        _fail(request, error)
        return redirect(request.META.get("HTTP_REFERER") or "disbursement:roster_list")
    return redirect("disbursement:export_status", job_id=job.pk)


@login_required
def export_status(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.export_for_user(request.user, job_id, request=request)
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "state": job.state,
                "state_label": job.get_state_display(),
                "progress": job.progress,
                "error": job.error,
                "download": job.state == ExportJob.State.DONE,
            }
        )
    return render(request, "disbursement/export_status.html", {"job": job})


# --- County ------------------------------------------------------------------------------


def _require_county(user) -> None:
    if not selectors.is_county_finance(user):
        raise Http404("未找到该记录。")


@login_required
def county_month(request: HttpRequest, month: str) -> HttpResponse:
    _require_county(request.user)
    try:
        day = parse_month(month)
    except DomainError:
        raise Http404("未找到该记录。") from None
    return _county_month_page(request, day)


def _county_month_page(
    request: HttpRequest,
    day: date,
    *,
    release_errors: dict[str, str] | None = None,
    release_values: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    overview = selectors.month_overview(day)
    expected = [u for u in overview if u.expected]
    requests = selectors.fund_requests(day)
    release_rows = releases.release_figures(day)
    return render(
        request,
        "disbursement/county_month.html",
        {
            "month": day,
            "overview": overview,
            "expected_count": len(expected),
            "submitted_count": sum(1 for u in expected if u.submitted),
            "requests": requests,
            "problems": services.reconcile_month(day),
            "previous": services.add_months(day, -1),
            "following": services.add_months(day, 1),
            "units": Unit.objects.approval_units().filter(is_active=True),
            "leaves": selectors.roster_leaves(day),
            "release_rows": release_rows,
            "charts": selectors.county_month_charts(overview, release_rows),
            "paid": roster_totals(day),
            "categories": Category.choices,
            "release_errors": release_errors or {},
            "release_values": release_values or {},
        },
        status=status,
    )


@login_required
@require_POST
def county_fund_request(request: HttpRequest, month: str) -> HttpResponse:
    _require_county(request.user)
    try:
        day = parse_month(month)
        fund_request = services.create_fund_request(
            month=day, actor=request.user, note=request.POST.get("note", "")
        )
    except DomainError as error:
        _fail(request, error)
    else:
        messages.success(request, f"已生成请款汇总：{fund_request.total_amount}元。")
    return redirect("disbursement:county_month", month=month)


@login_required
def county_fund_request_letter(request: HttpRequest, month: str, request_id: int) -> HttpResponse:
    """The fund request's letter to the county finance bureau, as a PDF."""
    _require_county(request.user)
    try:
        day = parse_month(month)
    except DomainError:
        raise Http404("未找到该记录。") from None
    fund_request = selectors.fund_requests(day).filter(pk=request_id).first()
    if fund_request is None:
        raise Http404("未找到该记录。")
    response = HttpResponse(releases.fund_request_letter_pdf(fund_request), "application/pdf")
    response["Content-Disposition"] = f'inline; filename="fund-request-{fund_request.pk}.pdf"'
    return response


RELEASE_FIELDS = (
    "fund_request",
    "unit",
    "category",
    "amount",
    "released_on",
    "reference",
    "over_reason",
)


@login_required
@require_POST
def county_fund_release(request: HttpRequest, month: str) -> HttpResponse:
    """Record a release; a refusal shows its message by the field, with what was typed kept."""
    _require_county(request.user)
    try:
        day = parse_month(month)
    except DomainError:
        raise Http404("未找到该记录。") from None
    typed = {name: request.POST.get(name, "").strip() for name in RELEASE_FIELDS}
    try:
        fund_request = selectors.fund_requests(day).filter(pk=_int(typed["fund_request"])).first()
        if fund_request is None:
            raise DomainError(
                "本月尚未生成请款汇总，或所选请款汇总不属于本月，不能登记拨付。",
                field="fund_request",
            )
        unit = _posted_unit(request)
        try:
            released_on = date.fromisoformat(typed["released_on"])
        except ValueError:
            raise DomainError("请填写拨付日期（例如 2026-12-05）。", field="released_on") from None
        release = releases.record_fund_release(
            fund_request=fund_request,
            unit=unit,
            category=typed["category"],
            amount=typed["amount"],
            released_on=released_on,
            reference=typed["reference"],
            over_reason=typed["over_reason"],
            actor=request.user,
        )
    except DomainError as error:
        return _county_month_page(
            request,
            day,
            release_errors={error.field or "form": error.message},
            release_values=typed,
            status=error.status,
        )
    messages.success(
        request, f"已登记拨付：{release.unit.name}{release.amount}元，凭证号{release.reference}。"
    )
    return redirect("disbursement:county_month", month=month)


def _int(text: str) -> int:
    return int(text) if text.isdigit() else 0


@login_required
@require_POST
def county_roster_leave(request: HttpRequest, month: str) -> HttpResponse:
    """The county lets a unit submit this month's roster after the 25th (seed 五(二)2(2))."""
    _require_county(request.user)
    try:
        day = parse_month(month)
        unit = _posted_unit(request)
        until = date.fromisoformat(request.POST.get("until") or "")
        leave = cutoffs.grant_roster_leave(
            unit=unit,
            month=day,
            until=until,
            reason=request.POST.get("reason", ""),
            actor=request.user,
        )
    except DomainError as error:
        _fail(request, error)
    except ValueError:
        messages.error(request, "延期截止日期格式不正确。")
    else:
        messages.success(request, f"已准予{unit.name}延至{leave.until:%m月%d日}报送本月清册。")
    return redirect("disbursement:county_month", month=month)


def _posted_unit(request: HttpRequest) -> Unit:
    """The approval unit a county form names, or a refusal saying to choose one."""
    unit = Unit.objects.approval_units().filter(pk=request.POST.get("unit") or 0).first()
    if unit is None:
        raise DomainError("请选择单位。", field="unit")
    return unit


def _decimal(text: str | None, field: str) -> Decimal:
    try:
        return Decimal(str(text or "").strip())
    except InvalidOperation:
        raise DomainError("请输入正确的金额。", field=field) from None


@login_required
def plan_page(request: HttpRequest, year: int) -> HttpResponse:
    _require_county(request.user)
    if request.method == "POST":
        try:
            action = request.POST.get("action")
            if action == "compute":
                plan.compute_fund_demand_plan(year=year, actor=request.user)
                messages.success(request, "已按在保待遇、近12个月增减趋势和已确定的标准调整测算。")
            elif action == "sign":
                signature = plan.sign_plan(year=year, actor=request.user)
                messages.success(request, f"已签字：{signature.get_step_display()}。")
            elif action == "submit":
                plan.submit_plan(year=year, actor=request.user)
                messages.success(request, f"{year}年资金需求计划已报送。")
            else:
                line = FundDemandPlan.objects.filter(
                    year=year, pk=request.POST.get("line") or 0
                ).first()
                if line is None:
                    raise DomainError("未找到该计划行。")
                plan.adjust_plan_line(
                    line=line,
                    adjusted_amount=_decimal(
                        request.POST.get("adjusted_amount"), "adjusted_amount"
                    ),
                    note=request.POST.get("note", ""),
                    actor=request.user,
                )
                messages.success(request, "已保存调整。")
        except DomainError as error:
            _fail(request, error)
            if error.status == 409:
                return _plan_page(request, year, status=409)
        return redirect("disbursement:plan", year=year)
    if request.GET.get("export") == "pdf":
        response = HttpResponse(plan.plan_pdf(year), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="plan-{year}.pdf"'
        return response
    return _plan_page(request, year)


def _plan_page(request: HttpRequest, year: int, *, status: int = 200) -> HttpResponse:
    lines = plan.plan_lines(year)
    return render(
        request,
        "disbursement/plan.html",
        {
            "year": year,
            "lines": lines,
            "total": sum((line.final_amount for line in lines), Decimal(0)),
            "state": plan.plan_state(year),
            "signatures": plan.valid_plan_signatures(year),
            "submission": plan.submission_of(year),
        },
        status=status,
    )


__all__ = ["AccountKind", "ChangeSource"]
