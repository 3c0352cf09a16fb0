"""Supervision pages: fetch through the access functions, parse the form, call one service."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import Scope, not_found, scope_for
from accounts.audit import record
from accounts.models import AuditLog, Role, Unit, User
from cases.models import Case, Kind
from cases.permissions import case_for_user
from dengkou_aid.errors import DomainError
from dengkou_aid.lib.masking import mask_name, mask_phone
from dengkou_aid.lib.paging import page_of
from dengkou_aid.lib.spreadsheets import Sheet, write_xlsx

from . import selectors, services
from .complaints import services as complaint_services
from .models import (
    AssessmentWeights,
    CheckItem,
    Complaint,
    Finding,
    Rectification,
    Source,
    SpotCheckDraw,
    SpotCheckSample,
    rules_of,
)
from .selectors import bulletins_visible_to, findings_visible_to, is_supervisor

SAMPLES_PER_PAGE = 100

LEADER_ROLES = (Role.FIRST_RESPONSIBLE, Role.DIRECT_RESPONSIBLE)


def supervisor_only(view: Callable) -> Callable:
    """County supervisors only; anyone else is told the page does not exist (audited 404)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not is_supervisor(request.user):
            raise not_found(request, request.user, "supervision", request.path)
        return view(request, *args, **kwargs)

    return wrapper


def dashboard_scope(request: HttpRequest) -> Scope:
    """County staff see the county; a unit's leaders see their unit; others get 404."""
    scope = selectors.dashboard_scope_for(request.user)
    if scope is None:
        raise not_found(request, request.user, "dashboard", "")
    return scope


def _date(value: str | None, field: str, default: date | None = None) -> date:
    if not value:
        if default is not None:
            return default
        raise DomainError("请填写日期。", field=field)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DomainError("日期格式应为YYYY-MM-DD。", field=field) from None


def _month(value: str | None, field: str, default: date) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(f"{value}-01") if len(value) == 7 else date.fromisoformat(value)
    except ValueError:
        raise DomainError("月份格式应为YYYY-MM。", field=field) from None


def _fail(request: HttpRequest, error: DomainError) -> None:
    messages.error(request, error.message)


# --- Dashboard ---------------------------------------------------------------------------------


def _filters(request: HttpRequest, scope: Scope) -> selectors.Filters:
    today = timezone.localdate()
    start = _date(request.GET.get("start"), "start", today.replace(month=1, day=1))
    end = _date(request.GET.get("end"), "end", today)
    unit_id = scope.unit_id or (
        int(request.GET["unit"]) if request.GET.get("unit", "").isdigit() else None
    )
    kind = request.GET.get("kind") if request.GET.get("kind") in Kind.values else None
    month = _month(request.GET.get("month"), "month", today.replace(day=1)).replace(day=1)
    return selectors.Filters(start=start, end=end, unit_id=unit_id, kind=kind, month=month)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    scope = dashboard_scope(request)
    try:
        filters = _filters(request, scope)
    except DomainError as error:
        _fail(request, error)
        return redirect(request.path)
    sections = selectors.dashboard(scope=scope, filters=filters)
    export = request.GET.get("export")
    if export == "csv":
        return _csv(sections, "dashboard.csv")
    if export == "xlsx":
        return _xlsx([Sheet(s.title, s.columns, s.rows) for s in sections], "dashboard.xlsx")
    charts = {s.key: s.chart for s in sections if s.chart}
    units = Unit.objects.approval_units() if scope.everything else Unit.objects.none()
    unit = Unit.objects.filter(pk=filters.unit_id).first() if filters.unit_id else None
    return render(
        request,
        "supervision/dashboard.html",
        {
            "sections": sections,
            "charts": charts,
            "filters": filters,
            "units": units,
            "kinds": Kind.choices,
            "unit": unit,
            "county": scope.everything,
            "query": request.GET.urlencode(),
            "as_of": next((s.as_of for s in sections if s.as_of), None),
            "can_refresh": scope.everything and selectors.is_supervisor(request.user),
        },
    )


@require_POST
@supervisor_only
def refresh_dashboard(request: HttpRequest) -> HttpResponse:
    """Count the dashboard's summary figures now (seconds at a million cases)."""
    from . import summary

    snapshot = summary.refresh()
    messages.success(
        request,
        f"统计看板已重新统计（统计时点 {timezone.localtime(snapshot.computed_at):%Y-%m-%d %H:%M}，"
        f"用时{snapshot.seconds}秒）。",
    )
    query = request.POST.get("query", "")
    url = reverse("supervision:dashboard")
    return redirect(f"{url}?{query}" if query else url)


def _csv(sections, filename: str) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for section in sections:
        writer.writerow([section.title])
        writer.writerow(section.columns)
        writer.writerows(section.rows)
        writer.writerow([])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _xlsx(sheets: list[Sheet], filename: str) -> HttpResponse:
    buffer = io.BytesIO()
    write_xlsx(buffer, sheets)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Findings and rectification -------------------------------------------------------------------


def finding_for_user(request: HttpRequest, finding_id: int) -> Finding:
    try:
        return findings_visible_to(request.user).get(pk=finding_id)
    except Finding.DoesNotExist:
        raise not_found(request, request.user, "finding", finding_id) from None


@login_required
def finding_list(request: HttpRequest) -> HttpResponse:
    findings = findings_visible_to(request.user)
    state = request.GET.get("state", Finding.State.OPEN)
    if state in Finding.State.values:
        findings = findings.filter(state=state)
    if request.GET.get("rule"):
        findings = findings.filter(rule=request.GET["rule"])
    source = request.GET.get("source", "")
    if source in Source.values:
        findings = findings.filter(rule__in=rules_of(source))
    if request.GET.get("unit", "").isdigit():
        findings = findings.filter(unit_id=int(request.GET["unit"]))
    return render(
        request,
        "supervision/finding_list.html",
        {
            "findings": findings[:500],
            "total": findings.count(),
            "state": state,
            "source": source,
            "sources": Source.choices,
            "supervisor": is_supervisor(request.user),
        },
    )


@login_required
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _finding_page(request, finding_for_user(request, pk))


def _finding_page(
    request: HttpRequest,
    finding: Finding,
    *,
    error: DomainError | None = None,
    typed: dict | None = None,
) -> HttpResponse:
    user = request.user
    rectifications = finding.rectifications.select_related(
        "ordered_by", "answered_by"
    ).prefetch_related("attachments")
    return render(
        request,
        "supervision/finding_detail.html",
        {
            "finding": finding,
            "evidence": selectors.evidence_rows(finding),
            "checklist": selectors.finding_checklist(finding),
            "rectifications": rectifications,
            "supervisor": is_supervisor(user),
            "may_answer": user.unit_id == finding.unit_id
            and user.has_role(Role.HANDLER, *LEADER_ROLES),
            "today": timezone.localdate(),
            "error": error,
            "typed": typed or {},
        },
        status=error.status if error else 200,
    )


@require_POST
@supervisor_only
def run_checks(request: HttpRequest) -> HttpResponse:
    """Queue the system checks now (they take minutes on the whole county)."""
    from .tasks import run_nightly_checks

    result = run_nightly_checks.delay()
    if result.ready():
        summary = result.get()
        raised = sum(s["raised"] for s in summary.values())
        closed = sum(s["closed"] for s in summary.values())
        messages.success(
            request, f"系统监督核查完成：新发现{raised}个问题，关闭{closed}个已整改问题。"
        )
    else:
        messages.success(request, "系统监督核查已开始运行，完成后刷新本页查看结果。")
    return redirect("supervision:findings")


@require_POST
@supervisor_only
def order_rectification(request: HttpRequest, pk: int) -> HttpResponse:
    finding = finding_for_user(request, pk)
    try:
        services.order_rectification(
            finding=finding,
            actor=request.user,
            instruction=request.POST.get("instruction", ""),
            due_on=_date(request.POST.get("due_on"), "due_on"),
        )
        messages.success(request, "已下达限期整改通知。")
    except DomainError as error:
        _fail(request, error)
    return redirect("supervision:finding", pk=pk)


def _rectification(request: HttpRequest, pk: int) -> Rectification:
    finding_ids = findings_visible_to(request.user).values("id")
    try:
        return Rectification.objects.get(pk=pk, finding_id__in=finding_ids)
    except Rectification.DoesNotExist:
        raise not_found(request, request.user, "rectification", pk) from None


@require_POST
@login_required
def answer_rectification(request: HttpRequest, pk: int) -> HttpResponse:
    rectification = _rectification(request, pk)
    try:
        services.answer_rectification(
            rectification=rectification,
            actor=request.user,
            answer=request.POST.get("answer", ""),
            files=request.FILES.getlist("files"),
        )
    except DomainError as error:
        finding = finding_for_user(request, rectification.finding_id)
        typed = {"rectification": rectification.pk, "answer": request.POST.get("answer", "")}
        return _finding_page(request, finding, error=error, typed=typed)
    messages.success(request, "整改情况已反馈县民政局。")
    return redirect("supervision:finding", pk=rectification.finding_id)


@require_POST
@supervisor_only
def decide_rectification(request: HttpRequest, pk: int) -> HttpResponse:
    rectification = _rectification(request, pk)
    accept = request.POST.get("verdict") == "accept"
    try:
        new_due = request.POST.get("new_due_on")
        services.decide_rectification(
            rectification=rectification,
            actor=request.user,
            accept=accept,
            note=request.POST.get("note", ""),
            new_due_on=_date(new_due, "new_due_on") if new_due else None,
        )
    except DomainError as error:
        finding = finding_for_user(request, rectification.finding_id)
        typed = {"rectification": rectification.pk, "note": request.POST.get("note", "")}
        return _finding_page(request, finding, error=error, typed=typed)
    messages.success(request, "整改已验收通过，问题已关闭。" if accept else "已退回重新整改。")
    return redirect("supervision:finding", pk=rectification.finding_id)


# --- Revocation -------------------------------------------------------------------------------------


@supervisor_only
def revoke(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_for_user(request.user, case_id, request=request)
    today = timezone.localdate()
    default_month = (today.replace(day=28) + timezone.timedelta(days=4)).replace(day=1)
    if request.method == "POST":
        try:
            finding_id = request.POST.get("finding")
            finding = finding_for_user(request, int(finding_id)) if finding_id else None
            services.revoke_decision(
                case=case,
                actor=request.user,
                reason=request.POST.get("reason", ""),
                stop_from=_month(request.POST.get("stop_from"), "stop_from", default_month),
                finding=finding,
                otp_token=request.POST.get("otp_token", ""),
            )
            messages.success(request, f"已撤销案件{case.number}的审核确认决定。")
            return redirect("supervision:findings")
        except DomainError as error:
            _fail(request, error)
    return render(
        request,
        "supervision/revoke.html",
        {
            "case": case,
            "default_month": f"{default_month:%Y-%m}",
            "finding": request.GET.get("finding", ""),
        },
    )


# --- Spot checks ----------------------------------------------------------------------------------


@supervisor_only
def draw_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            draw = services.draw_spot_check_sample(
                period_start=_date(request.POST.get("period_start"), "period_start"),
                period_end=_date(request.POST.get("period_end"), "period_end"),
                actor=request.user,
                redraw_reason=request.POST.get("redraw_reason", ""),
            )
            messages.success(request, f"已抽取{draw.samples.count()}件案件。")
            return redirect("supervision:draw", pk=draw.pk)
        except DomainError as error:
            _fail(request, error)
    start, end = services.previous_month(timezone.localdate())
    return render(
        request,
        "supervision/draw_list.html",
        {
            "draws": SpotCheckDraw.objects.select_related("drawn_by", "redraw_of"),
            "start": start,
            "end": end,
        },
    )


@supervisor_only
def draw_detail(request: HttpRequest, pk: int) -> HttpResponse:
    draw = SpotCheckDraw.objects.filter(pk=pk).first()
    if draw is None:
        raise not_found(request, request.user, "draw", pk)
    # A province-scale draw holds tens of thousands of cases: the page shows the strata and
    # one page of samples at a time, filtered by unit, kind and whether checked yet.
    strata = selectors.draw_strata(draw)
    unit_id = _int_or_none(request.GET.get("unit"))
    kind = request.GET.get("kind", "")
    checked = request.GET.get("checked", "")
    samples = selectors.draw_samples(draw, unit_id=unit_id, kind=kind, checked=checked)
    page, querystring = page_of(request, samples, SAMPLES_PER_PAGE)
    return render(
        request,
        "supervision/draw_detail.html",
        {
            "draw": draw,
            "strata": strata,
            "page": page,
            "units": sorted({(s["unit_id"], s["unit__name"]) for s in strata}, key=lambda u: u[1]),
            "kinds": Kind.choices,
            "filters": {"unit": unit_id, "kind": kind, "checked": checked},
            "querystring": querystring,
        },
    )


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@supervisor_only
def sample_check(request: HttpRequest, pk: int) -> HttpResponse:
    sample = SpotCheckSample.objects.select_related("case", "unit", "draw").filter(pk=pk).first()
    if sample is None:
        raise not_found(request, request.user, "sample", pk)
    shown = sample.results
    if request.method == "POST":
        results = {
            item: {
                "ok": request.POST.get(f"{item}_ok") == "ok",
                "note": request.POST.get(f"{item}_note", ""),
            }
            for item in CheckItem.values
            if request.POST.get(f"{item}_ok") in ("ok", "problem")
        }
        # A refused entry comes back as the checker left it, not as last saved.
        shown = {
            item: {"ok": None, "note": request.POST.get(f"{item}_note", "")}
            for item in CheckItem.values
        } | results
        try:
            services.record_spot_check(
                sample=sample,
                actor=request.user,
                results=results,
                photos=request.FILES.getlist("photos"),
            )
            messages.success(request, "核查结果已保存。")
            return redirect("supervision:draw", pk=sample.draw_id)
        except DomainError as error:
            _fail(request, error)
    items = [(item, label, shown.get(item, {})) for item, label in CheckItem.choices]
    return render(
        request,
        "supervision/sample_check.html",
        {
            "sample": sample,
            "items": items,
            "facts": selectors.sample_facts(sample),
            "recorded": selectors.result_rows(sample),
        },
    )


# --- Bulletins --------------------------------------------------------------------------------------


@login_required
def bulletin_list(request: HttpRequest) -> HttpResponse:
    supervisor = is_supervisor(request.user)
    start, end = services.previous_month(timezone.localdate())
    typed, error = {"start": start.isoformat(), "end": end.isoformat()}, None
    if request.method == "POST" and supervisor:
        typed = {
            "start": request.POST.get("period_start", ""),
            "end": request.POST.get("period_end", ""),
        }
        try:
            issued = services.issue_bulletins(
                period_start=_date(typed["start"], "period_start"),
                period_end=_date(typed["end"], "period_end"),
                actor=request.user,
            )
            messages.success(
                request,
                f"已印发{len(issued)}份工作通报（{issued[0].number}至{issued[-1].number}）。",
            )
            return redirect("supervision:bulletins")
        except DomainError as failure:
            error = failure
    return render(
        request,
        "supervision/bulletin_list.html",
        {
            "bulletins": bulletins_visible_to(request.user).select_related("unit"),
            "supervisor": supervisor,
            "typed": typed,
            "error": error,
        },
        status=error.status if error else 200,
    )


# --- Complaints ---------------------------------------------------------------------------------------


@supervisor_only
def complaint_list(request: HttpRequest) -> HttpResponse:
    complaints = Complaint.objects.select_related("unit", "case", "assignee", "handed_to")
    if request.GET.get("state") in Complaint.State.values:
        complaints = complaints.filter(state=request.GET["state"])
    return render(
        request,
        "supervision/complaint_list.html",
        {
            "complaints": complaints[:500],
            "today": timezone.localdate(),
            "states": Complaint.State.choices,
        },
    )


@supervisor_only
def complaint_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        post = request.POST
        try:
            case = None
            if post.get("case_number"):
                case = (
                    scope_for(request.user)
                    .filter(Case.objects.all())
                    .filter(number=post["case_number"].strip())
                    .first()
                )
                if case is None:
                    raise DomainError("未找到该案件编号。", field="case_number")
            unit = (
                Unit.objects.filter(pk=post.get("unit")).first()
                if post.get("unit", "").isdigit()
                else None
            )
            complaint = services.register_complaint(
                actor=request.user,
                data={
                    "received_on": _date(
                        post.get("received_on"), "received_on", timezone.localdate()
                    ),
                    "channel": post.get("channel"),
                    "anonymous": post.get("anonymous") == "on",
                    "complainant_name": post.get("complainant_name", ""),
                    "complainant_contact": post.get("complainant_contact", ""),
                    "subject": post.get("subject", ""),
                    "content": post.get("content", ""),
                    "case": case,
                    "unit": unit,
                },
            )
            messages.success(request, "信访举报已登记。")
            return redirect("supervision:complaint", pk=complaint.pk)
        except DomainError as error:
            _fail(request, error)
            return render(
                request, "supervision/complaint_new.html", _complaint_form(post), status=400
            )
    return render(request, "supervision/complaint_new.html", _complaint_form({}))


def _complaint_form(data) -> dict:
    return {
        "channels": Complaint.Channel.choices,
        "units": Unit.objects.approval_units(),
        "data": data,
    }


@supervisor_only
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = (
        Complaint.objects.select_related("unit", "case", "assignee", "handed_to")
        .filter(pk=pk)
        .first()
    )
    if complaint is None:
        raise not_found(request, request.user, "complaint", pk)
    error = None
    if request.method == "POST":
        try:
            _complaint_action(request, complaint)
            messages.success(request, "已保存。")
            return redirect("supervision:complaint", pk=pk)
        except DomainError as failure:
            error = failure
            complaint.refresh_from_db()
    county_staff = User.objects.filter(
        is_active=True, role_grants__role=Role.COUNTY_SUPERVISOR
    ).distinct()
    # The complainant is shown in full only to the handler the complaint is assigned to (or,
    # before it is assigned, to a supervisor who asks), and each such read is logged.
    identity_shown = not complaint.anonymous and (
        complaint.assignee_id == request.user.pk
        or (complaint.assignee_id is None and request.GET.get("identity") == "full")
    )
    if identity_shown:
        record(
            AuditLog.Action.SENSITIVE_READ,
            request=request,
            obj=complaint,
            detail="查看信访人完整身份信息",
        )
    return render(
        request,
        "supervision/complaint_detail.html",
        {
            "complaint": complaint,
            "staff": county_staff,
            "units": Unit.objects.approval_units().order_by("code"),
            "findings": complaint.findings.all(),
            "reply": getattr(complaint, "reply", None),
            "identity_shown": identity_shown,
            "masked_name": mask_name(complaint.complainant_name),
            "masked_contact": mask_phone(complaint.complainant_contact),
            "error": error,
            "typed": request.POST if error else {},
        },
        status=error.status if error else 200,
    )


def _complaint_action(request: HttpRequest, complaint: Complaint) -> None:
    post, actor = request.POST, request.user
    action = post.get("action")
    if action == "assign":
        assignee = User.objects.filter(pk=post.get("assignee") or 0).first()
        if assignee is None:
            raise DomainError("请选择承办人。", field="assignee")
        services.assign_complaint(complaint=complaint, actor=actor, assignee=assignee)
    elif action == "investigate":
        findings = Finding.objects.filter(
            pk__in=[int(i) for i in post.getlist("findings") if i.isdigit()]
        )
        services.record_investigation(
            complaint=complaint,
            actor=actor,
            investigation=post.get("investigation", ""),
            substantiated=post.get("substantiated") == "yes",
            findings=findings,
        )
    elif action == "handoff":
        unit = Unit.objects.approval_units().filter(pk=_int_or_none(post.get("unit"))).first()
        complaint_services.hand_off_complaint(
            complaint=complaint, actor=actor, unit=unit, note=post.get("handoff_note", "")
        )
    elif action == "answer":
        services.answer_complaint(complaint=complaint, actor=actor, answer=post.get("answer", ""))
    elif action == "close":
        services.close_complaint(complaint=complaint, actor=actor)
    else:
        raise DomainError("未知操作。", field="action")


# --- Statistics, agencies, yearly assessment ---------------------------------------------------------


@supervisor_only
def statistics(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    try:
        month = _month(request.GET.get("month"), "month", today.replace(day=1)).replace(day=1)
    except DomainError as error:
        _fail(request, error)
        month = today.replace(day=1)
    report = selectors.statistics_report(month=month, scope=scope_for(request.user))
    export = request.GET.get("export")
    if export == "xlsx":
        return _xlsx(_statistics_sheets(report), f"statistics-{month:%Y-%m}.xlsx")
    if export == "pdf":
        from dengkou_aid.lib.pdf import render_pdf

        pdf = render_pdf(
            "supervision/pdf/statistics.html",
            {"report": report, "columns": selectors.STATISTICS_COLUMNS, "title": _title(month)},
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="statistics-{month:%Y-%m}.pdf"'
        return response
    return render(
        request,
        "supervision/statistics.html",
        {
            "report": report,
            "rows": report.detail,
            "columns": selectors.STATISTICS_COLUMNS,
            "month": month,
            "charts": report.charts,
            "title": _title(month),
        },
    )


def _title(month: date) -> str:
    return f"磴口县{month:%Y年%m月}城乡低保、特困供养、低保边缘家庭统计月报"


def _statistics_sheets(report: selectors.StatisticsReport) -> list[Sheet]:
    """The detail first (the sheet the region imports), then the two summaries."""
    month = report.month
    return [
        Sheet(
            f"{month:%Y年%m月}统计",
            selectors.STATISTICS_COLUMNS,
            report.detail,
            totals_row=report.totals,
        ),
        Sheet(report.by_category.title, report.by_category.columns, report.by_category.rows),
        Sheet(report.by_unit.title, report.by_unit.columns, report.by_unit.rows),
    ]


@supervisor_only
def agencies(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    try:
        start = _date(request.GET.get("start"), "start", today.replace(month=1, day=1))
        end = _date(request.GET.get("end"), "end", today)
    except DomainError as error:
        _fail(request, error)
        start, end = today.replace(month=1, day=1), today
    sheet = selectors.agency_sheet(start=start, end=end)
    columns = [
        "机构",
        "分派案件",
        "已审核确认",
        "按期办结",
        "按期办结率(%)",
        "抽查入户调查",
        "入户调查问题",
        "抽查合格率(%)",
    ]
    rows = [
        [
            r["agency"].name,
            r["assigned"],
            r["decided"],
            r["on_time"],
            r["on_time_rate"],
            r["checked"],
            r["problems"],
            r["pass_rate"],
        ]
        for r in sheet
    ]
    if request.GET.get("export") == "xlsx":
        return _xlsx([Sheet("第三方机构验收", columns, rows)], "agencies.xlsx")
    return render(
        request,
        "supervision/agencies.html",
        {
            "rows": rows,
            "columns": columns,
            "start": start,
            "end": end,
            "agencies": [r["agency"] for r in sheet],
            "year": start.year,
        },
    )


@supervisor_only
def assessment(request: HttpRequest) -> HttpResponse:
    year = int(request.GET.get("year") or timezone.localdate().year)
    if request.method == "POST":
        try:
            current = AssessmentWeights.current()
            weights = {
                key: Decimal(request.POST.get(key, str(getattr(current, key))))
                for key in AssessmentWeights.PARTS
            }
        except InvalidOperation:
            messages.error(request, "权重须为数字。")
            return redirect(f"{request.path}?year={year}")
        if any(value < 0 for value in weights.values()) or sum(weights.values()) <= 0:
            messages.error(request, "权重不能为负，且合计须大于0。")
        else:
            AssessmentWeights.objects.create(set_by=request.user, **weights)
            messages.success(request, "已保存新的考核权重。")
        return redirect(f"{request.path}?year={year}")
    weights = AssessmentWeights.current()
    return render(
        request,
        "supervision/assessment.html",
        {
            "sheet": selectors.yearly_assessment(year=year, weights=weights),
            "weights": weights,
            "parts": [
                (key, label, getattr(weights, key)) for key, label in selectors.PART_LABELS.items()
            ],
            "year": year,
        },
    )


@supervisor_only
def assessment_evidence(request: HttpRequest, year: int, unit_id: int) -> HttpResponse:
    unit = Unit.objects.approval_units().filter(pk=unit_id).first()
    if unit is None:
        raise not_found(request, request.user, "unit", unit_id)
    return render(
        request,
        "supervision/assessment_evidence.html",
        {"unit": unit, "year": year, **selectors.assessment_evidence(unit=unit, year=year)},
    )
