"""The one door to stored files: every FileField's bytes leave the server through `download`.

Lives in the project package because it reads every layer. Each kind of stored file is
fetched through the permission door of the record that owns it ("not yours" and "not
there" both answer 404); files with household details or whole account numbers write an
audit row on every download. The answer's type comes from the bytes, never from the
stored name: PDF, JPEG and PNG may open in the browser, everything else is an attachment.
MEDIA_ROOT itself is never routed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import filetype
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from accounts.access import not_found
from accounts.audit import record
from accounts.models import AuditLog, User
from cases.documents.services import read_document
from cases.models import CaseFile, Document
from cases.permissions import case_for_user, cases_visible_to
from dengkou_aid.errors import Conflict
from disbursement.exports import download_name
from disbursement.imports.caseload import batches_visible_to
from disbursement.models import ExportJob
from disbursement.selectors import export_for_user
from supervision.models import (
    AgencyAcceptance,
    ComplaintReply,
    RectificationAttachment,
    RevocationDecision,
    SpotCheckPhoto,
    TrainingMaterialVersion,
)
from supervision.selectors import bulletins_visible_to, findings_visible_to, is_supervisor
from supervision.training.selectors import may_read_library

# filetype never looks past the first 8 KiB.
_HEAD = 8192
INLINE_TYPES = {"application/pdf", "image/jpeg", "image/png"}
OCTET_STREAM = "application/octet-stream"


@dataclass(frozen=True)
class StoredFile:
    """A stored file the user may fetch: its bytes, the name to save it under, and the record."""

    file: FieldFile
    filename: str
    record: object
    sensitive: bool = False


# --- Each kind of stored file, fetched through its record's door ----------------------------


def _material(request: HttpRequest, user: User, pk: int) -> StoredFile:
    # Household materials and ID scans: every download is audited.
    case_file = CaseFile.objects.filter(case__in=cases_visible_to(user), pk=pk).first()
    if case_file is None:
        raise not_found(request, user, "case_file", pk)
    return StoredFile(case_file.file, case_file.original_name, case_file, sensitive=True)


def _document(request: HttpRequest, user: User, pk: int) -> StoredFile:
    document = Document.objects.filter(pk=pk).first()
    if document is None:
        raise not_found(request, user, "document", pk)
    if document.case_id is not None:
        case_for_user(user, document.case_id, request=request)
    elif not (user.is_county_staff or user.unit_id == document.unit_id):
        raise not_found(request, user, "document", pk)
    if not document.file or not document.file.storage.exists(document.file.name):
        raise not_found(request, user, "document", pk)
    read_document(document)  # refuses a file that no longer matches its recorded digest
    return StoredFile(document.file, f"{document.number}.pdf", document)


def _export(request: HttpRequest, user: User, pk: int) -> StoredFile:
    job = export_for_user(user, pk, request=request)
    if job.state != ExportJob.State.DONE or not job.file:
        raise not_found(request, user, "export", pk)
    return StoredFile(job.file, download_name(job), job, sensitive=job.full_accounts)


def _import(request: HttpRequest, user: User, pk: int) -> StoredFile:
    # An import spreadsheet holds whole ID and account numbers.
    batch = batches_visible_to(user).filter(pk=pk).first()
    if batch is None or not batch.file:
        raise not_found(request, user, "import", pk)
    return StoredFile(batch.file, batch.file_name, batch, sensitive=True)


def _bulletin(request: HttpRequest, user: User, pk: int) -> StoredFile:
    bulletin = bulletins_visible_to(user).filter(pk=pk).first()
    if bulletin is None:
        raise not_found(request, user, "bulletin", pk)
    return StoredFile(bulletin.file, f"工作通报-{bulletin.title}.pdf", bulletin)


def _spot_check_photo(request: HttpRequest, user: User, pk: int) -> StoredFile:
    # Photos of a household's home, seen by the supervisors who check samples.
    photo = SpotCheckPhoto.objects.select_related("sample__case").filter(pk=pk).first()
    if photo is None or not is_supervisor(user):
        raise not_found(request, user, "spot_check_photo", pk)
    name = f"抽查照片-{photo.sample.case.number}-{photo.pk}"
    return StoredFile(photo.file, name, photo, sensitive=True)


def _rectification_attachment(request: HttpRequest, user: User, pk: int) -> StoredFile:
    # Seen by whoever sees the finding: the county and the rectifying unit.
    attachment = RectificationAttachment.objects.filter(
        pk=pk, rectification__finding__in=findings_visible_to(user)
    ).first()
    if attachment is None:
        raise not_found(request, user, "rectification_attachment", pk)
    return StoredFile(attachment.file, attachment.original_name, attachment)


def _complaint_reply(request: HttpRequest, user: User, pk: int) -> StoredFile:
    # The letter names the complainant: county supervisors only, every read audited.
    reply = ComplaintReply.objects.filter(pk=pk).first()
    if reply is None or not is_supervisor(user):
        raise not_found(request, user, "complaint_reply", pk)
    return StoredFile(reply.file, f"信访事项答复意见书-{reply.number}.pdf", reply, sensitive=True)


def _training_material(request: HttpRequest, user: User, pk: int) -> StoredFile:
    # The library is for everyone with a business role, village assistants included.
    version = TrainingMaterialVersion.objects.select_related("material").filter(pk=pk).first()
    if version is None or not may_read_library(user):
        raise not_found(request, user, "training_material", pk)
    return StoredFile(version.file, f"{version.material.title}-第{version.number}版", version)


def _revocation_decision(request: HttpRequest, user: User, pk: int) -> StoredFile:
    # Part of the case's archive: whoever may see the case may read it.
    decision = RevocationDecision.objects.select_related("revocation").filter(pk=pk).first()
    if decision is None:
        raise not_found(request, user, "revocation_decision", pk)
    case_for_user(user, decision.revocation.case_id, request=request)
    return StoredFile(decision.file, f"撤销决定书-{decision.number}.pdf", decision)


def _acceptance(request: HttpRequest, user: User, pk: int) -> StoredFile:
    acceptance = AgencyAcceptance.objects.select_related("agency").filter(pk=pk).first()
    if acceptance is None or not is_supervisor(user):
        raise not_found(request, user, "agency_acceptance", pk)
    return StoredFile(acceptance.file, f"考核验收-{acceptance.number}.pdf", acceptance)


KINDS: dict[str, Callable[[HttpRequest, User, int], StoredFile]] = {
    "material": _material,
    "document": _document,
    "export": _export,
    "import": _import,
    "bulletin": _bulletin,
    "photo": _spot_check_photo,
    "rectification": _rectification_attachment,
    "complaint_reply": _complaint_reply,
    "training": _training_material,
    "revocation": _revocation_decision,
    "acceptance": _acceptance,
}


@login_required
@require_safe
def download(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Send one stored file to a signed-in user whose door lets them see its record."""
    resolve = KINDS.get(kind)
    if resolve is None:
        raise not_found(request, request.user, f"file:{kind}", pk)
    try:
        stored = resolve(request, request.user, pk)
    except Conflict as error:
        return HttpResponse(error.message, status=409, content_type="text/plain; charset=utf-8")
    if not stored.file or not stored.file.storage.exists(stored.file.name):
        raise not_found(request, request.user, f"file:{kind}", pk)
    if stored.sensitive:
        record(
            AuditLog.Action.SENSITIVE_READ,
            request=request,
            obj=stored.record,
            detail=f"下载文件：{stored.filename}",
        )
    attachment = request.GET.get("download") == "1"
    return send_stored_file(stored.file, filename=stored.filename, attachment=attachment)


# --- The answer ------------------------------------------------------------------------------


def detected_type(file: FieldFile) -> tuple[str, str]:
    """(MIME type, extension) read from the file's first bytes; octet-stream if unknown."""
    with file.storage.open(file.name, "rb") as handle:
        kind = filetype.guess(handle.read(_HEAD))
    if kind is None:
        return OCTET_STREAM, ""
    return kind.mime, kind.extension


def send_stored_file(file: FieldFile, *, filename: str, attachment: bool = False) -> HttpResponse:
    """The download answer: detected type, nosniff, attachment unless a PDF or image
    (or the user asked to save it: 下载 rather than 查看/打印)."""
    mime, extension = detected_type(file)
    disposition = "inline" if mime in INLINE_TYPES and not attachment else "attachment"
    prefix = settings.MEDIA_ACCEL_REDIRECT_PREFIX
    if prefix:
        # nginx sends the bytes from its internal location; this answer carries only headers.
        response = HttpResponse(content_type=mime)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(file.name)
    else:
        response = FileResponse(file.storage.open(file.name, "rb"), content_type=mime)
    response["Content-Disposition"] = (
        f"{disposition}; filename*=UTF-8''{quote(_named_as(filename, extension))}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# Types filetype cannot read from the bytes that may keep their own extension when saved.
_PLAIN_EXTENSIONS = {".csv", ".txt"}


def _named_as(filename: str, extension: str) -> str:
    # The saved name carries the detected type's extension, whatever the stored one said.
    stem, own = os.path.splitext(os.path.basename(filename))
    stem = stem or "file"
    if extension:
        return f"{stem}.{extension}"
    return stem + (own.lower() if own.lower() in _PLAIN_EXTENSIONS else ".bin")
