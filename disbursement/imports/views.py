"""Pages of the caseload and staff imports: upload, preview with its bad rows, confirm, progress."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from accounts.access import not_found
from dengkou_aid.errors import DomainError, NotAllowed
from disbursement.models import ImportBatch

from . import caseload as caseload_import
from . import preview, reading
from . import staff as staff_import

ERRORS_SHOWN = 500
TEMPLATES = {
    "caseload": (reading, "在保家庭导入模板"),
    "staff": (staff_import, "工作人员导入模板"),
}


def _permissions(user) -> dict[str, bool]:
    try:
        caseload_import.import_scope(user)
        caseload = True
    except NotAllowed:
        caseload = False
    try:
        staff_import.importer_or_refuse(user)
        staff = True
    except NotAllowed:
        staff = False
    return {"can_caseload": caseload, "can_staff": staff}


def _index(request: HttpRequest, *, status: int = 200) -> HttpResponse:
    context = {
        **_permissions(request.user),
        "batches": caseload_import.batches_visible_to(request.user).select_related(
            "unit", "uploaded_by"
        )[:30],
        "max_size": caseload_import.format_size(caseload_import.import_max_bytes()),
    }
    return render(request, "imports/index.html", context, status=status)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    return _index(request)


@login_required
def template(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    module, title = TEMPLATES[kind]
    if fmt == "csv":
        response = HttpResponse(module.template_csv(), content_type="text/csv; charset=utf-8")
    else:
        buffer = io.BytesIO()
        module.write_template_xlsx(buffer)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(title)}.{fmt}"
    return response


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text)


def _refuse(request: HttpRequest, error: DomainError) -> HttpResponse:
    messages.error(request, error.message)
    return _index(request, status=error.status)


def _declared_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None


# The size is checked from the request's declared length before the body is read: a 200 MB
# upload is refused at once. Only then does the (CSRF-protected) view parse the upload.
@csrf_exempt
@login_required
def upload(request: HttpRequest, kind: str) -> HttpResponse:
    if request.method != "POST":
        return redirect("imports:index")
    refusal = caseload_import.too_big(_declared_length(request))
    if refusal:
        return _refuse(request, DomainError(refusal, field="file"))
    return _upload(request, kind)


@csrf_protect
def _upload(request: HttpRequest, kind: str) -> HttpResponse:
    file = request.FILES.get("file")
    if file is None:
        return _refuse(request, DomainError("请选择要上传的文件。", field="file"))
    service = caseload_import.upload_caseload if kind == "caseload" else staff_import.upload_staff
    try:
        batch = service(file=file, actor=request.user)
    except DomainError as error:
        return _refuse(request, error)
    return redirect("imports:batch", pk=batch.pk)


def _batch_or_404(request: HttpRequest, pk: int) -> ImportBatch:
    batch = caseload_import.batches_visible_to(request.user).filter(pk=pk).first()
    if batch is None:
        raise not_found(request, request.user, "ImportBatch", pk)
    return batch


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_or_404(request, pk)
    issued = []
    if batch.kind == ImportBatch.Kind.STAFF and batch.secrets:
        issued = staff_import.take_secrets(batch=batch, actor=request.user)
    context = {
        "batch": batch,
        "errors": batch.errors[:ERRORS_SHOWN],
        "errors_cut": batch.error_total > ERRORS_SHOWN,
        "progress": preview.progress_of(batch),
        "running": batch.state in (ImportBatch.State.CHECKING, ImportBatch.State.IMPORTING),
        "issued": issued,
        "can_confirm": _can_confirm(batch),
        **_permissions(request.user),
    }
    return render(request, "imports/batch.html", context)


def _can_confirm(batch: ImportBatch) -> bool:
    if batch.state != ImportBatch.State.PREVIEWED:
        return False
    if batch.kind == ImportBatch.Kind.STAFF:
        return batch.preview.get("create", 0) > 0
    preview = batch.preview
    return bool(preview.get("households_create") or preview.get("households_update"))


@login_required
def batch_status(request: HttpRequest, pk: int) -> JsonResponse:
    batch = _batch_or_404(request, pk)
    return JsonResponse(
        {
            "state": batch.state,
            "state_label": batch.get_state_display(),
            "progress": preview.progress_of(batch),
            "done": batch.state not in (ImportBatch.State.CHECKING, ImportBatch.State.IMPORTING),
        }
    )


@login_required
def batch_errors(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_or_404(request, pk)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["行号", "原因"])
    writer.writerows([e["line"], e["reason"]] for e in batch.errors)
    response = HttpResponse(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    name = _quote(f"错误行_{batch.file_name}")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}.csv"
    return response


@login_required
@require_POST
def batch_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_or_404(request, pk)
    try:
        if batch.kind == ImportBatch.Kind.STAFF:
            staff_import.import_staff(batch=batch, actor=request.user)
        else:
            caseload_import.confirm_caseload(batch=batch, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("imports:batch", pk=batch.pk)
