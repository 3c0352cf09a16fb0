"""Bring in the households already in payment from the spreadsheets the county keeps today.

`check_caseload` reads every row, validates it and keeps one small tally per household (never
the rows themselves): that is the preview, and nothing is written. `import_caseload` checks
again inside one transaction, then writes the households whose rows were all good: households
and members, an imported case in payment with its "存量导入" event, the entitlement and its
review schedule. A household seen before (same unit and 户编号) is updated only through
recorded changes.

New households are written set-based: the check keeps the members of new households in a
temporary table as it reads them, and a few INSERT … SELECT statements write every table from
there, so the file is read once and no model instance is built. Households imported before and
changed by the file are updated one by one through the recorded services (a second reading of
the file, only when there are such households).

The parts: reading.py (the file and its rows), preview.py (the check, writing
nothing), write.py (the import, set-based on PostgreSQL). This module holds what the
pages and the API call: who may import, upload, confirm, which batches a user sees,
and the import record that opens an imported case's archive.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction

from accounts.models import Role, Unit, User
from cases.documents.archive import ArchiveItem, register_section
from cases.models import (
    Case,
)
from dengkou_aid.errors import Conflict, DomainError, NotAllowed
from dengkou_aid.lib.spreadsheets import TableError, read_table
from dengkou_aid.lib.uploads import format_size, random_name
from disbursement.models import (
    ImportBatch,
)

from .preview import preview_import_batch, set_progress
from .reading import HEADER
from .write import IMPORT_ACTION, IMPORT_LABEL, run_import_batch


@register_section("import", "存量导入记录", order=5, only_if_any=True)
def _import_record(case: Case) -> list[ArchiveItem]:
    """An imported case's archive opens with where it came from: file, rows, who, when."""
    if not case.imported:
        return []
    return [
        ArchiveItem(
            title=IMPORT_LABEL,
            when=event.at,
            detail=(
                f"文件“{event.data.get('file', '')}”第{_line_span(event.data.get('lines') or [])}行，"
                f"户编号{event.data.get('household_no', '')}，"
                f"月救助金额{event.data.get('amount', '')}元；导入人：{event.actor.full_name or event.actor.username}"
            ),
            note=f"文件SHA-256：{event.data.get('sha256', '')}",
        )
        for event in case.events.filter(action=IMPORT_ACTION).select_related("actor")
    ]


def _line_span(lines: list[int]) -> str:
    return f"{lines[0]}–{lines[-1]}" if len(lines) > 1 else "".join(map(str, lines))


IMPORTER_ROLES = (Role.ADMINISTRATOR, Role.COUNTY_SUPERVISOR)


# --- Who may import what ------------------------------------------------------------------


def import_scope(user: User) -> Unit | None:
    """The unit a user imports for (None: any unit); refuse anyone else (403)."""
    if user.has_role(Role.ADMINISTRATOR):
        return None
    if user.has_role(Role.COUNTY_SUPERVISOR) and user.is_county_staff:
        return None
    if user.has_role(Role.HANDLER) and user.unit is not None and user.unit.is_approval_unit:
        return user.unit
    raise NotAllowed("只有经办人（本单位）或县级管理员可以导入在保家庭。")


# --- Batches: upload, preview, confirm (the page, the API and the task call these) -----------

DEFAULT_IMPORT_MAX_BYTES = 50 * 1024 * 1024


def import_max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", DEFAULT_IMPORT_MAX_BYTES))


def too_big(declared: int | None) -> str:
    """The refusal for a declared size over the limit, or '' (checked before reading anything)."""
    limit = import_max_bytes()
    if declared is not None and declared > limit:
        return f"文件过大：超过{format_size(limit)}，请按单位拆分后分批导入"
    return ""


def store_upload(
    *, file: Any, kind: str, header: tuple[str, ...], actor: User, scope: Unit | None
) -> ImportBatch:
    """Refuse a file that is too big, not a spreadsheet, empty or with the wrong header; else keep it."""
    refusal = too_big(getattr(file, "size", None))
    if refusal:
        raise DomainError(refusal, field="file")
    try:
        read_table(file, header, max_bytes=import_max_bytes())
    except TableError as error:
        raise DomainError(str(error), field="file") from None
    file.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := file.read(1024 * 1024):
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    name = os.path.basename(getattr(file, "name", "") or "upload")[:200]
    batch = ImportBatch(
        kind=kind,
        file_name=name,
        sha256=digest.hexdigest(),
        size=size,
        unit=scope,
        uploaded_by=actor,
    )
    # A server-chosen, unguessable name; the extension follows the content (an .xlsx is a zip).
    file.seek(0)
    extension = "xlsx" if file.read(4) == b"PK\x03\x04" else "csv"
    file.seek(0)
    batch.file.save(random_name(extension), File(file), save=False)
    batch.save()
    return batch


def upload_caseload(*, file: Any, actor: User) -> ImportBatch:
    """Keep an uploaded caseload file and queue its check; nothing of the caseload is written."""
    scope = import_scope(actor)
    batch = store_upload(
        file=file, kind=ImportBatch.Kind.CASELOAD, header=HEADER, actor=actor, scope=scope
    )
    transaction.on_commit(lambda: preview_import_batch.delay(batch.pk))
    return batch


def confirm_caseload(*, batch: ImportBatch, actor: User) -> ImportBatch:
    """The clerk confirms a previewed file: the import is queued (run at once when eager)."""
    scope = import_scope(actor)
    if scope is not None and batch.unit_id != scope.pk:
        raise NotAllowed("只能导入本单位上传的文件。")
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.state != ImportBatch.State.PREVIEWED:
            raise Conflict(f"该文件当前状态为“{locked.get_state_display()}”，不能确认导入。")
        locked.state = ImportBatch.State.IMPORTING
        locked.imported_by = actor
        locked.save(update_fields=["state", "imported_by"])
        set_progress(locked.pk, 0)
        transaction.on_commit(lambda: run_import_batch.delay(locked.pk))
    return locked


def batches_visible_to(user: User):
    """Batches a user may see: all for county importers, else those of their unit."""
    try:
        scope = import_scope(user)
    except NotAllowed:
        if user.has_role(Role.ADMINISTRATOR):
            return ImportBatch.objects.all()
        return ImportBatch.objects.none()
    if scope is None:
        return ImportBatch.objects.all()
    return ImportBatch.objects.filter(unit=scope)
