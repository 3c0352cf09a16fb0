"""The case archive (档案): everything that belongs to a case, its completeness, its PDF export.

Sections are registered: an app that adds records to a case (reviews, notices, rosters)
registers its own section with `register_section` instead of editing this module.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone
from PIL import Image

from accounts.models import Role, User
from cases.events import locked_case, record_event, valid_signatures
from cases.materials import material_checklist
from cases.models import (
    DECIDED_STATES,
    ArchiveDestruction,
    Case,
    CaseFile,
    DocType,
    FileCategory,
    Outcome,
    RetentionRule,
    SignatureStep,
    State,
)
from cases.permissions import acting_role
from dengkou_aid.errors import Conflict, DomainError
from dengkou_aid.lib.pdf import UnreadablePdf, bind_volume, normalized_pdf, render_pdf
from dengkou_aid.lib.uploads import UploadRejected, check_upload

from .services import read_document

logger = logging.getLogger(__name__)

DEFAULT_RETENTION_YEARS = 30
CLOSED_STATES = (State.REJECTED, State.REFUSED, State.WITHDRAWN, State.TERMINATED)


@dataclass
class ArchiveItem:
    """One record in an archive section. `pdf` returns its printable form, if it has one."""

    title: str
    when: object = None
    detail: str = ""
    url: str = ""
    signed: bool = True
    note: str = ""
    pdf: Callable[[], bytes | None] | None = None


@dataclass
class ArchiveSection:
    key: str
    title: str
    items: list[ArchiveItem] = field(default_factory=list)


SectionProvider = Callable[[Case], list[ArchiveItem]]
_SECTIONS: list[tuple[int, str, str, SectionProvider, bool]] = []


def register_section(key: str, title: str, *, order: int = 100, only_if_any: bool = False):
    """Decorator: add a section to every case archive, placed by `order`.

    An `only_if_any` section (e.g. the import record) is left out of archives it has nothing
    for, instead of showing "无" in every case.
    """

    def decorate(provider: SectionProvider) -> SectionProvider:
        _SECTIONS[:] = [s for s in _SECTIONS if s[1] != key]
        _SECTIONS.append((order, key, title, provider, only_if_any))
        _SECTIONS.sort(key=lambda s: s[0])
        return provider

    return decorate


def archive_sections(case: Case) -> list[ArchiveSection]:
    sections = [
        (ArchiveSection(key, title, provider(case)), only_if_any)
        for _, key, title, provider, only_if_any in _SECTIONS
    ]
    return [section for section, only_if_any in sections if section.items or not only_if_any]


# --- The sections this app owns -----------------------------------------------------------


def _file_pdf(case_file: CaseFile) -> Callable[[], bytes | None]:
    def read() -> bytes | None:
        return _upload_as_pdf(case_file)

    return read


@register_section("files", "申报材料及上传附件", order=10)
def _files(case: Case) -> list[ArchiveItem]:
    """Every upload; a superseded one is listed (never deleted) but only the current is printed."""
    items = []
    files = case.files.select_related("requirement", "supersedes").prefetch_related("superseded_by")
    for f in files.order_by("uploaded_at", "id"):
        current = not f.superseded_by.all()
        notes = []
        legacy = "原纸质档案扫描件（存量导入）" if f.category == FileCategory.LEGACY else ""
        if legacy:
            notes.append(legacy)
        if f.supersedes_id:
            notes.append(
                f"更正版本，替代“{f.supersedes.original_name}”，理由：{f.correction_reason}"
            )
        if not current:
            notes.append("已被更正版本替代，存档备查，不再打印")
        items.append(
            ArchiveItem(
                title=f.requirement.name if f.requirement_id else f.get_category_display(),
                when=f.uploaded_at,
                detail=f.original_name,
                url=f"/files/material/{f.pk}/" if f.file else "",
                note="；".join(notes),
                pdf=_file_pdf(f) if current else None,
            )
        )
    return items


@register_section("consents", "诚信声明及核对授权", order=20)
def _consents(case: Case) -> list[ArchiveItem]:
    return [
        ArchiveItem(
            title="诚信声明及家庭经济状况核对授权",
            when=c.signed_on,
            detail=f"{c.get_method_display()}；签署人：{c.signers}",
        )
        for c in case.consents.all()
    ]


@register_section("verification", "家庭经济状况核对", order=30)
def _verification(case: Case) -> list[ArchiveItem]:
    items = []
    for request in case.verification_requests.select_related("report"):
        items.append(ArchiveItem(title="核对委托", when=request.requested_at, detail=request.note))
        report = getattr(request, "report", None)
        if report is not None:
            flag = "（发现不符合条件的收入或财产）" if report.disqualifying else ""
            rows = "；".join(
                f"{r['agency']}：{r['verdict'] + '，' if r['verdict'] else ''}{r['result']}"
                for r in report.finding_rows
            )
            detail = report.summary + flag + (f"。各部门：{rows}" if rows else "")
            items.append(ArchiveItem(title="核对报告", when=report.entered_at, detail=detail))
    return items


@register_section("visits", "入户调查", order=40)
def _visits(case: Case) -> list[ArchiveItem]:
    return [
        ArchiveItem(
            title="入户调查记录",
            when=v.visited_on,
            detail="调查人员：" + "、".join(str(i.get("name", "")) for i in v.investigators),
        )
        for v in case.home_visits.all()
    ]


@register_section("appraisals", "民主评议会议记录", order=50)
def _appraisals(case: Case) -> list[ArchiveItem]:
    return [
        ArchiveItem(
            title="民主评议", when=a.held_on, detail=f"参加{a.attendees}人；结果：{a.result}"
        )
        for a in case.appraisals.all()
    ]


@register_section("assessments", "收入核算", order=60)
def _assessments(case: Case) -> list[ArchiveItem]:
    return [
        ArchiveItem(
            title="收入核算",
            when=a.assessed_at,
            detail=(
                f"月人均收入{a.per_capita_income:.2f}元，标准{a.standard_amount}元，"
                f"{'符合' if a.eligible else '不符合'}条件，月救助金额{a.amount}元"
            ),
        )
        for a in case.assessments.all()
    ]


@register_section("publicity", "审核确认公示及异议", order=70)
def _publicity(case: Case) -> list[ArchiveItem]:
    items = []
    for p in case.publicities.prefetch_related("objections"):
        items.append(
            ArchiveItem(
                title="公示", when=p.starts_on, detail=f"{p.starts_on}至{p.ends_on}，{p.location}"
            )
        )
        for o in p.objections.all():
            verdict = {True: "异议成立", False: "异议不成立", None: "待核实"}[o.substantiated]
            items.append(
                ArchiveItem(
                    title="公示异议",
                    when=o.received_on,
                    detail=f"{o.content}（{verdict}）{o.resolution}",
                    signed=o.resolved_at is not None,
                )
            )
    return items


@register_section("signatures", "签署记录", order=80)
def _signatures(case: Case) -> list[ArchiveItem]:
    items = []
    for s in case.signatures.select_related("unit", "void"):
        void = getattr(s, "void", None)
        items.append(
            ArchiveItem(
                title=s.get_step_display(),
                when=s.signed_at,
                detail=f"{s.signer_name}（{s.unit.name}）{s.get_opinion_display() if s.opinion else ''} {s.text}",
                note=f"已作废：{void.reason}" if void else "",
            )
        )
    return items


def _document_pdf(document) -> Callable[[], bytes | None]:
    return lambda: read_document(document)


@register_section("documents", "文书", order=90)
def _documents(case: Case) -> list[ArchiveItem]:
    items = []
    for d in case.documents.select_related("replaces"):
        note = f"替代{d.replaces.number}：{d.reason}" if d.replaces_id else ""
        items.append(
            ArchiveItem(
                title=f"{d.get_doc_type_display()} {d.number}",
                when=d.generated_at,
                url=f"/files/document/{d.pk}/",
                note=note,
                pdf=_document_pdf(d),
            )
        )
    return items


# --- Completeness -----------------------------------------------------------------------

# How far along the main path a state is; a requirement applies from its rank on.
RANK = {
    State.SUBMITTED: 0,
    State.ACCEPTED: 1,
    State.REFUSED: 1,
    State.AUTHORIZED: 2,
    State.VERIFICATION_REQUESTED: 3,
    State.VERIFIED: 4,
    State.VISITED: 5,
    State.ASSESSED: 6,
    State.IN_PUBLICITY: 7,
    State.PROPOSED: 8,
    State.OPINION_SIGNED: 9,
    State.CONFIRMED: 10,
    State.APPROVED: 11,
    State.REJECTED: 11,
    State.IN_PAYMENT: 12,
    State.STANDING_PUBLICITY: 12,
    State.TERMINATED: 12,
    State.WITHDRAWN: 0,
}


def _reached_rank(case: Case) -> int:
    """The furthest point the case reached; a withdrawn case counts what it had done."""
    if case.state != State.WITHDRAWN:
        return RANK[case.state]
    states = case.events.exclude(to_state=State.WITHDRAWN).values_list("to_state", flat=True)
    return max((RANK.get(s, 0) for s in states), default=0)


def _has_document(case: Case, doc_type: str) -> bool:
    return case.documents.filter(doc_type=doc_type).exists()


PUBLICITY = "审核确认公示"

# (rank from which it is required, label, test)
WORKFLOW_REQUIREMENTS: list[tuple[int, str, Callable[[Case], bool]]] = [
    (2, "诚信声明及核对授权签署记录", lambda c: c.consents.exists()),
    (3, "家庭经济状况核对委托", lambda c: c.verification_requests.exists()),
    (
        4,
        "家庭经济状况核对报告",
        lambda c: c.verification_requests.filter(report__isnull=False).exists(),
    ),
    (5, "入户调查记录", lambda c: c.home_visits.exists()),
    (6, "收入核算", lambda c: c.assessments.exists()),
    (7, PUBLICITY, lambda c: c.publicities.exists()),
    (8, "经办人审核意见签署", lambda c: valid_signatures(c, SignatureStep.PROPOSAL).exists()),
    (9, "分管领导审核意见签署", lambda c: valid_signatures(c, SignatureStep.OPINION).exists()),
    (10, "第一责任人审核确认签署", lambda c: valid_signatures(c, SignatureStep.DECISION).exists()),
]


def _refused_without_publicity(case: Case) -> bool:
    """A plainly ineligible case proposed for non-approval is never published (cases.ineligible)."""
    return case.outcome == Outcome.REJECT and not case.publicities.exists()


def _decision_requirements(case: Case) -> list[tuple[str, bool]]:
    rank = _reached_rank(case)
    if rank < RANK[State.APPROVED]:
        return []
    if case.outcome == Outcome.REJECT:
        return [("不予保障告知书", _has_document(case, DocType.REJECTION_NOTICE))]
    rows = [("批准决定书", _has_document(case, DocType.APPROVAL_DECISION))]
    if case.state == State.TERMINATED:
        rows.append(("调整(停发)告知书", _has_document(case, DocType.ADJUSTMENT_NOTICE)))
    return rows


LEGACY_RECORDS = "原纸质档案扫描件（办理记录及文书）"


@dataclass
class CheckRow:
    label: str
    present: bool
    group: str
    note: str = ""


def completeness(case: Case, checklist: list | None = None) -> list[CheckRow]:
    """Checklist of the case's archive: materials for its kind, then the records its state needs.

    The materials are the case page's checklist (`cases.materials`): what the applicant must
    provide, each either there or missing, by the same rule. The case page passes the checklist
    it already built, so the panel reads the materials once.
    """
    if checklist is None:
        checklist = material_checklist(case)
    rows = [
        CheckRow(row.name, not row.missing, "申报材料", row.note)
        for row in checklist
        if row.demanded
    ]
    if case.imported:
        # Decided on paper before the system: its records and notices are the old file, scanned.
        scanned = case.files.filter(category=FileCategory.LEGACY, requirement=None).exists()
        rows.append(CheckRow(LEGACY_RECORDS, scanned, "原纸质档案"))
        return rows
    rank = _reached_rank(case)
    for needed_from, label, test in WORKFLOW_REQUIREMENTS:
        if label == PUBLICITY and _refused_without_publicity(case):
            continue
        if rank >= needed_from:
            rows.append(CheckRow(label, test(case), "办理记录"))
    for label, present in _decision_requirements(case):
        rows.append(CheckRow(label, present, "文书"))
    return rows


def missing_items(case: Case) -> list[str]:
    return [row.label for row in completeness(case) if not row.present]


# --- Retention --------------------------------------------------------------------------


def retention_years(kind: str) -> int:
    rule = RetentionRule.objects.filter(kind=kind).first()
    return rule.years if rule else DEFAULT_RETENTION_YEARS


def closed_on(case: Case) -> date | None:
    """The day the case was closed (its first event in the closed state), or None while open."""
    if case.state not in CLOSED_STATES:
        return None
    first = case.events.filter(to_state=case.state).order_by("at", "seq").first()
    return timezone.localtime(first.at if first else case.updated_at).date()


def expires_on(case: Case) -> date | None:
    closed = closed_on(case)
    if closed is None:
        return None
    years = retention_years(case.kind)
    try:
        return closed.replace(year=closed.year + years)
    except ValueError:  # 29 February
        return closed.replace(year=closed.year + years, day=28)


def expired_cases(queryset, *, on: date | None = None) -> list[tuple[Case, date, date]]:
    """Closed cases past their retention period and not yet destroyed: (case, closed, expiry)."""
    on = on or timezone.localdate()
    rows = []
    candidates = queryset.filter(state__in=CLOSED_STATES, destruction__isnull=True)
    for case in candidates.select_related("unit", "applicant", "village"):
        expiry = expires_on(case)
        if expiry is not None and expiry <= on:
            rows.append((case, closed_on(case), expiry))
    return rows


# --- Export -----------------------------------------------------------------------------


class Unprintable(Exception):
    """A stored file that cannot be printed into the volume; the message says why, in Chinese."""


@dataclass
class _Part:
    title: str
    data: bytes
    pages: int


def export_pdf(case: Case) -> bytes:
    """One PDF: cover and table of contents, then every stored document and upload in order.

    It never fails on a stored file: one that cannot be read (missing, changed since it was
    stored, not a readable PDF or image) is replaced by a page naming it and saying why.
    """
    sections = archive_sections(case)
    parts = [
        part
        for section in sections
        for item in section.items
        if (part := _part(f"{section.title}：{item.title}", item)) is not None
    ]
    toc = [{"title": part.title, "page": None, "unreadable": part.pages == 0} for part in parts]
    # Render the cover once to learn its length, then again with the page numbers filled in.
    page = normalized_pdf(_render_cover(case, sections, toc))[1] + 1
    for entry, part in zip(toc, parts, strict=True):
        entry["page"] = page
        page += max(part.pages, 1)
    cover = _render_cover(case, sections, toc)
    volume = [("封面及目录", cover)] + [(part.title, part.data) for part in parts]
    return bind_volume(volume)


def _part(title: str, item: ArchiveItem) -> _Part | None:
    """The item's printable pages, a page saying why it cannot be printed, or None (nothing
    to print). Pages are 0 for such a notice, counted as one."""
    if item.pdf is None:
        return None
    try:
        data = item.pdf()
        if data is None:
            return None
        data, pages = normalized_pdf(data)
    except (Unprintable, UnreadablePdf, Conflict) as error:
        return _Part(title, _unreadable_page(title, item, str(error)), 0)
    except OSError:
        return _Part(title, _unreadable_page(title, item, "存储的文件已丢失或无法读取"), 0)
    except Exception:  # whatever else a stored file does, the volume still completes
        logger.exception("archive export: part %r could not be printed", title)
        return _Part(title, _unreadable_page(title, item, "文件无法读取"), 0)
    return _Part(title, data, pages)


def _unreadable_page(title: str, item: ArchiveItem, reason: str) -> bytes:
    return render_pdf(
        "archive/unreadable_page.html",
        {"title": title, "name": item.detail or item.title, "when": item.when, "reason": reason},
    )


def _render_cover(case: Case, sections: Iterable[ArchiveSection], toc: list[dict]) -> bytes:
    return render_pdf(
        "archive/export_cover.html",
        {
            "case": case,
            "sections": sections,
            "toc": toc,
            "checklist": completeness(case),
            "today": timezone.localdate(),
        },
    )


def _upload_as_pdf(case_file: CaseFile) -> bytes | None:
    """PDF uploads as they are, images wrapped on an A4 page; other types are listed only.

    Raises Unprintable for bytes that changed since upload or an image that does not decode.
    """
    if not case_file.file:
        return None
    with case_file.file.open("rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != case_file.sha256:
        raise Unprintable("文件与上传时记录的摘要不一致，可能已被改动或损坏")
    if case_file.mime == "application/pdf":
        return data
    if case_file.mime.startswith("image/"):
        _check_image(data)
        uri = f"data:{case_file.mime};base64,{base64.b64encode(data).decode()}"
        return render_pdf("archive/image_page.html", {"title": case_file.original_name, "uri": uri})
    return None


def _check_image(data: bytes) -> None:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
    except Exception:  # Pillow raises many kinds on a broken image; all mean the same here
        raise Unprintable("图片文件已损坏或格式不正确，无法显示") from None


# --- Corrections and destruction ---------------------------------------------------------


def correct_file(*, case: Case, original: CaseFile, upload, reason: str, actor: User) -> CaseFile:
    """Add a corrected version of an uploaded file; the original stays in the archive."""
    role = acting_role(actor, case, Role.HANDLER)
    if not reason.strip():
        raise DomainError("更正须填写理由。", field="correction_reason")
    try:
        checked = check_upload(upload)
    except UploadRejected as error:
        raise DomainError(str(error), field="file") from None
    with locked_case(case.pk) as locked:
        if original.case_id != locked.pk:
            raise DomainError("该附件不属于本案件。", field="file")
        if locked.state in DECIDED_STATES:
            # The decision rests on these materials: they stay as they were (谁签字谁负责).
            raise Conflict(
                f"案件已{locked.get_state_display()}，审核确认所依据的材料不能再更正或替换。",
                field="file",
            )
        if original.superseded_by.exists():
            raise Conflict("该附件已有更正版本，请更正最新版本。", field="file")
        corrected = CaseFile.objects.create(
            case=locked,
            category=original.category,
            requirement=original.requirement,
            file=checked.content,
            original_name=checked.original_name,
            mime=checked.mime,
            size=checked.size,
            sha256=checked.sha256,
            supersedes=original,
            correction_reason=reason,
            uploaded_by=actor,
        )
        record_event(
            locked,
            action="file_corrected",
            label="更正档案附件",
            actor=actor,
            role=role,
            from_state=locked.state,
            note=reason,
            data={"file": corrected.pk, "supersedes": original.pk},
        )
    return corrected


def destroy_archive(*, case: Case, actor: User, reason: str) -> ArchiveDestruction:
    """Record the signed decision to destroy an expired archive; nothing is deleted here."""
    role = acting_role(actor, case, Role.FIRST_RESPONSIBLE)
    if not reason.strip():
        raise DomainError("请填写销毁理由及依据。", field="reason")
    with locked_case(case.pk) as locked:
        expiry = expires_on(locked)
        if expiry is None or expiry > timezone.localdate():
            raise Conflict("该档案未到保管期限，不能销毁。")
        if ArchiveDestruction.objects.filter(case=locked).exists():
            raise Conflict("该档案已有销毁记录。")
        content = {"case": locked.number, "expired_on": expiry.isoformat(), "reason": reason}
        destruction = ArchiveDestruction.create_signed(
            signer=actor,
            role=role,
            over=content,
            case=locked,
            expired_on=expiry,
            reason=reason,
        )
        record_event(
            locked,
            action="archive_destruction",
            label="签署档案销毁决定",
            actor=actor,
            role=role,
            from_state=locked.state,
            note=reason,
        )
    return destruction
