"""Pages for documents, the case archive, ledgers, handovers, retention and service guides.

Thin: fetch through `permissions`, validate, call one service, show domain errors as messages.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import require_staff_role
from accounts.audit import record
from accounts.models import UNIT_ROLES, AuditLog, Role, Unit, User, Village
from cases import views as case_views
from cases.models import (
    DECIDED_STATES,
    ArchiveDestruction,
    Case,
    CaseFile,
    DocType,
    Document,
    Handover,
    HandoverParty,
    Kind,
    MaterialRequirement,
    RetentionRule,
    ServiceGuide,
)
from cases.permissions import case_for_user, cases_visible_to
from cases.public import guides
from cases.services import upload_legacy_scan
from dengkou_aid.errors import DomainError

from . import archive, handover, ledgers
from .services import (
    issue_document,
    issue_village_publicity,
    refusal_reason,
    village_publicity_cases,
    week_of,
)

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LEDGER_PAGE_ROWS = 200  # the page shows the latest rows; the Excel file holds them all


def _staff(request: HttpRequest) -> User:
    require_staff_role(request.user)
    return request.user


def _pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=PDF)
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{_quote(filename)}"
    return response


def _quote(name: str) -> str:
    return quote(name)


def refuse_protected(request: HttpRequest, obj, message: str) -> HttpResponse:
    """Answer an attempt to change a signed record: 409, a message, an audit row."""
    record(AuditLog.Action.PROTECTED_WRITE, request=request, obj=obj, detail=message)
    return render(request, "archive/refused.html", {"message": message, "obj": obj}, status=409)


# --- The archive -------------------------------------------------------------------------


@login_required
def archive_page(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _staff(request)
    case = case_for_user(user, case_id, request=request)
    return render(request, "archive/case_archive.html", _archive_context(case))


def _archive_context(case) -> dict:
    checklist = archive.completeness(case)
    doc_types = [
        {"value": value, "label": label, "refusal": refusal_reason(case, value)}
        for value, label in DocType.choices
    ]
    return {
        "case": case,
        "sections": archive.archive_sections(case),
        "checklist": checklist,
        "missing": [row for row in checklist if not row.present],
        "doc_types": doc_types,
        "documents": case.documents.select_related("replaces", "generated_by"),
        "files": case.files.select_related("requirement").filter(superseded_by__isnull=True),
        "expires_on": archive.expires_on(case),
        "destruction": ArchiveDestruction.objects.filter(case=case).first(),
        "can_correct": case.state not in DECIDED_STATES,
        "legacy_requirements": (
            MaterialRequirement.objects.filter(kind=case.kind) if case.imported else []
        ),
    }


@login_required
def archive_export(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _staff(request)
    case = case_for_user(user, case_id, request=request)
    return _pdf_response(archive.export_pdf(case), f"{case.number}-档案.pdf")


def _from_case_page(request: HttpRequest) -> bool:
    return request.POST.get("back") == "case"


def _case_panel(case) -> HttpResponse:
    return redirect(reverse("cases:detail", args=[case.pk]) + "#documents")


@login_required
@require_POST
def issue(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _staff(request)
    case = case_for_user(user, case_id, request=request)
    replaces = None
    if request.POST.get("replaces"):
        replaces = case.documents.filter(pk=request.POST["replaces"]).first()
    try:
        document = issue_document(
            case=case,
            doc_type=request.POST.get("doc_type", ""),
            actor=user,
            replaces=replaces,
            reason=request.POST.get("reason", ""),
        )
    except DomainError as error:
        if _from_case_page(request):
            return case_views.refused(request, case.pk, error, form="issue")
        messages.error(request, error.message)
        return redirect("documents:archive", case_id=case.pk)
    messages.success(request, f"已出具{document.get_doc_type_display()}：{document.number}")
    if _from_case_page(request):
        return _case_panel(case)
    return redirect("documents:archive", case_id=case.pk)


class CorrectionForm(forms.Form):
    file = forms.FileField(label="更正后的文件")
    correction_reason = forms.CharField(label="更正理由", max_length=300)


@login_required
@require_POST
def correct_file(request: HttpRequest, case_id: int, file_id: int) -> HttpResponse:
    user = _staff(request)
    case = case_for_user(user, case_id, request=request)
    original = get_object_or_404(CaseFile, pk=file_id, case=case)
    form = CorrectionForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise DomainError("请选择文件并填写更正理由。", field="file")
        archive.correct_file(
            case=case,
            original=original,
            upload=form.cleaned_data["file"],
            reason=form.cleaned_data["correction_reason"],
            actor=user,
        )
    except DomainError as error:
        # The page again, the reason next to this file's form, the reason typed kept.
        if _from_case_page(request):
            return case_views.refused(
                request, case.pk, error, form="correct", error_file=original.pk
            )
        context = _archive_context(case)
        context.update(error=error, error_file=original.pk, posted=request.POST)
        return render(request, "archive/case_archive.html", context, status=error.status)
    messages.success(request, "已新增更正版本，原文件保留在档案中。")
    if _from_case_page(request):
        return _case_panel(case)
    return redirect("documents:archive", case_id=case.pk)


@login_required
@require_POST
def legacy_scan(request: HttpRequest, case_id: int) -> HttpResponse:
    """An imported case's old paper file, scanned, attached to its archive and marked as such."""
    user = _staff(request)
    case = case_for_user(user, case_id, request=request)
    requirement = None
    if request.POST.get("requirement"):
        requirement = MaterialRequirement.objects.filter(
            pk=_int(request.POST["requirement"]), kind=case.kind
        ).first()
    try:
        if "file" not in request.FILES:
            raise DomainError("请选择扫描件文件。", field="file")
        upload_legacy_scan(
            actor=user, case=case, file=request.FILES["file"], requirement=requirement
        )
    except DomainError as error:
        context = _archive_context(case)
        context.update(error=error, legacy_error=error, posted=request.POST)
        return render(request, "archive/case_archive.html", context, status=error.status)
    messages.success(request, "原纸质档案扫描件已补录。")
    return redirect("documents:archive", case_id=case.pk)


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() else None


# --- Documents ---------------------------------------------------------------------------


def _document_for(request: HttpRequest, user: User, pk: int) -> Document:
    document = get_object_or_404(Document.objects.select_related("case", "unit"), pk=pk)
    if document.case_id is not None:
        case_for_user(user, document.case_id, request=request)
    elif not (user.is_county_staff or user.unit_id == document.unit_id):
        raise Http404("未找到该记录。")
    return document


@login_required
@require_http_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
def document_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    document = _document_for(request, user, pk)
    if request.method != "GET":
        return refuse_protected(
            request,
            document,
            f"文书{document.number}已出具，不可修改或删除；如有错误请重新出具新文号的文书。",
        )
    return render(request, "archive/document_detail.html", {"document": document})


# --- Ledgers -----------------------------------------------------------------------------


def _units_for(user: User):
    if user.is_county_staff:
        return Unit.objects.approval_units()
    return Unit.objects.filter(pk=user.unit_id)


def _parse_day(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        raise DomainError("日期格式应为YYYY-MM-DD。", field="start") from None


@login_required
def ledger_page(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    units = _units_for(user)
    today = timezone.localdate()
    try:
        start = _parse_day(request.GET.get("start"), today.replace(month=1, day=1))
        end = _parse_day(request.GET.get("end"), today)
    except DomainError as error:
        return render(
            request, "archive/ledgers.html", {"error": error.message, "units": units}, status=400
        )
    unit = units.filter(pk=request.GET.get("unit") or user.unit_id).first() or units.first()
    if unit is None:
        raise PermissionDenied("没有可查看台账的单位。")
    period = ledgers.Period(start, end)
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(ledgers.ledger_xlsx(unit, period), content_type=XLSX)
        name = f"{unit.name}台账{start:%Y%m%d}-{end:%Y%m%d}.xlsx"
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(name)}"
        return response
    context = {
        "units": units,
        "unit": unit,
        "start": start,
        "end": end,
        "ledgers": [
            {
                "ledger": ledger,
                "count": ledger.count(),
                "rows": ledger.latest_rows(LEDGER_PAGE_ROWS),
            }
            for ledger in ledgers.ledgers(unit, period)
        ],
        "shown": LEDGER_PAGE_ROWS,
    }
    return render(request, "archive/ledgers.html", context)


# --- Handover ----------------------------------------------------------------------------


class HandoverForm(forms.Form):
    from_handler = forms.ModelChoiceField(queryset=User.objects.none(), label="移交人")
    to_handler = forms.ModelChoiceField(queryset=User.objects.none(), label="接收人")
    cases = forms.ModelMultipleChoiceField(
        queryset=Case.objects.none(), label="移交案件档案", widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(
        label="移交说明", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        handlers = User.objects.filter(
            unit_id=user.unit_id, role_grants__role=Role.HANDLER, is_active=True
        )
        self.fields["from_handler"].queryset = handlers
        self.fields["to_handler"].queryset = handlers
        self.fields["cases"].queryset = cases_visible_to(user).filter(unit_id=user.unit_id)
        self.fields["cases"].label_from_instance = lambda c: (
            f"{c.number} {c.applicant.name}（{c.handler or '无经办人'}）"
        )


def _handovers_for(user: User):
    handovers = Handover.objects.select_related("from_handler", "to_handler", "unit")
    if user.is_county_staff:
        return handovers
    if user.has_role(*UNIT_ROLES):
        return handovers.filter(unit_id=user.unit_id)
    return handovers.none()


@login_required
def handover_list(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    return render(request, "archive/handover_list.html", {"handovers": _handovers_for(user)})


@login_required
@require_http_methods(["GET", "POST"])
def handover_new(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    form = HandoverForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            created = handover.create_handover(actor=user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "已创建档案移交，请移交人、接收人和分管领导分别签署。")
            return redirect("documents:handover", pk=created.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "archive/handover_new.html", {"form": form}, status=status)


@login_required
def handover_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    record_ = get_object_or_404(_handovers_for(user), pk=pk)
    signed = {s.party: s for s in record_.signatures.all()}
    parties = [(value, label, signed.get(value)) for value, label in HandoverParty.choices]
    context = {
        "handover": record_,
        "cases": record_.cases.select_related("applicant", "village"),
        "parties": parties,
        "my_party": handover.party_for(record_, user),
    }
    return render(request, "archive/handover_detail.html", context)


@login_required
@require_POST
def handover_sign(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    get_object_or_404(_handovers_for(user), pk=pk)
    try:
        signed = handover.sign_handover(handover_id=pk, actor=user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        done = "，移交完成，案件已转由接收人经办" if signed.completed_at else ""
        messages.success(request, f"已签署档案移交{done}。")
    return redirect("documents:handover", pk=pk)


# --- Retention ---------------------------------------------------------------------------


class RetentionForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in Kind.choices:
            self.fields[kind] = forms.IntegerField(
                label=f"{label}（年）",
                min_value=1,
                max_value=100,
                initial=archive.retention_years(kind),
            )


@login_required
@require_http_methods(["GET", "POST"])
def retention_page(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    form = RetentionForm(request.POST or None)
    can_edit = user.is_county_staff and user.has_role(Role.COUNTY_SUPERVISOR)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("档案保管期限由县民政局设定。")
        if form.is_valid():
            for kind in Kind.values:
                RetentionRule.objects.update_or_create(
                    kind=kind, defaults={"years": form.cleaned_data[kind], "updated_by": user}
                )
            messages.success(request, "档案保管期限已保存。")
            return redirect("documents:retention")
    expired = archive.expired_cases(cases_visible_to(user))
    context = {"form": form, "can_edit": can_edit, "expired": expired}
    return render(request, "archive/retention.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def destroy(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _staff(request)
    case = case_for_user(user, case_id, request=request)
    try:
        archive.destroy_archive(case=case, actor=user, reason=request.POST.get("reason", ""))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"已签署案件{case.number}的档案销毁决定。")
    return redirect("documents:retention")


# --- Service guides ----------------------------------------------------------------------


class GuideForm(forms.ModelForm):
    class Meta:
        model = ServiceGuide
        fields = guides.EDITABLE_FIELDS
        widgets = {name: forms.Textarea(attrs={"rows": 4}) for name in guides.EDITABLE_FIELDS}


@login_required
@require_http_methods(["GET", "POST"])
def guide_edit(request: HttpRequest, kind: str) -> HttpResponse:
    user = _staff(request)
    if kind not in Kind.values:
        raise Http404("未找到该记录。")
    unit = user.unit
    if not guides.can_edit_guide(user, unit):
        raise PermissionDenied("办事指南只能由本单位经办人或领导修改。")
    form = GuideForm(request.POST or None, instance=guides.guide_for(unit, kind))
    if request.method == "POST" and form.is_valid():
        guides.save_guide(actor=user, unit=unit, kind=kind, values=form.cleaned_data)
        messages.success(request, "办事指南已保存并公开。")
        return redirect("documents:guide_edit", kind=kind)
    context = {"form": form, "unit": unit, "kind_label": Kind(kind).label, "kinds": Kind.choices}
    return render(request, "archive/guide_edit.html", context, status=400 if form.errors else 200)


@login_required
def village_publicity(request: HttpRequest) -> HttpResponse:
    """The handler's page for one publicity list per village and week."""
    user = request.user
    if not user.has_role(Role.HANDLER) or user.unit_id is None:
        raise PermissionDenied("本村公示名单由经办人出具。")
    today = timezone.localdate()
    villages = Village.objects.filter(unit_id=user.unit_id, is_active=True).order_by("code")
    if request.method == "POST":
        village = villages.filter(pk=request.POST.get("village") or 0).first()
        if village is None:
            raise Http404
        try:
            document = issue_village_publicity(village=village, actor=user, on=today)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"已出具{village.name}本周公示名单：{document.number}")
        return redirect("documents:village_publicity")
    monday, sunday = week_of(today)
    issued = Document.objects.filter(
        unit_id=user.unit_id, doc_type=DocType.VILLAGE_PUBLICITY
    ).order_by("-generated_at")[:20]
    return render(
        request,
        "documents/village_publicity_page.html",
        {
            "villages": [(v, len(village_publicity_cases(v, today))) for v in villages],
            "issued": issued,
            "monday": monday,
            "sunday": sunday,
        },
    )
