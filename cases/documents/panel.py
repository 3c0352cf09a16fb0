"""The documents panel of the case page: every document the case has or will have, and every
upload with its versions, with what this user may do about each now.

Read-only: issuing goes through `services.issue_document` (or the workflow's
`issue_decision` step for the decision itself), corrections through `archive.correct_file`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q

from accounts.models import Role, User
from cases.models import (
    DECIDED_STATES,
    LIVE_PAYMENT_STATES,
    Case,
    CaseFile,
    DocType,
    Document,
    Outcome,
    State,
)
from cases.permissions import acting_role, cases_visible_to
from dengkou_aid.errors import NotAllowed

from .archive import completeness
from .services import ISSUER_ROLES, ONE_PER_CASE, refusal_reason

# The decision and the notice are issued by the workflow step that moves the case on.
DECISION_TYPES = (DocType.APPROVAL_DECISION, DocType.REJECTION_NOTICE)
ADJUSTABLE_STATES = (State.APPROVED, *LIVE_PAYMENT_STATES, State.TERMINATED)


@dataclass
class DocumentRow:
    doc_type: str
    label: str
    current: Document | None = None
    earlier: list[Document] = field(default_factory=list)
    refusal: str | None = None
    # How this user issues it now: "document" (the issue form), "step" (the workflow's
    # issue_decision step) or "" (not now, or not this user).
    issue_by: str = ""

    @property
    def signatures(self) -> list[dict]:
        return (self.current.context or {}).get("signatures", []) if self.current else []


@dataclass
class FileRow:
    current: CaseFile
    earlier: list[CaseFile] = field(default_factory=list)


def documents_panel(case: Case, user: User, checklist: list | None = None) -> dict:
    """What the panel shows (a fixed number of queries, whatever the case holds).

    `checklist` is the case page's material checklist, when it has one already.
    """
    documents = list(case.documents.select_related("generated_by").order_by("generated_at", "id"))
    rows = [
        _document_row(case, value, label, documents, user)
        for value, label in DocType.choices
        if _belongs(case, value, documents)
    ]
    checklist = completeness(case, checklist)
    return {
        "rows": rows,
        "files": file_history(list(case.files.all())),
        "missing": [row.label for row in checklist if not row.present],
        "can_correct": case.state not in DECIDED_STATES and _may(user, case, Role.HANDLER),
    }


def _belongs(case: Case, doc_type: str, documents: list[Document]) -> bool:
    """Whether the document is on this case's path: the notice of the other outcome and an
    adjustment notice before approval are left out, unless one was issued."""
    if any(d.doc_type == doc_type for d in documents):
        return True
    if doc_type == DocType.APPROVAL_DECISION:
        return case.outcome != Outcome.REJECT
    if doc_type == DocType.REJECTION_NOTICE:
        return case.outcome != Outcome.APPROVE
    if doc_type == DocType.ADJUSTMENT_NOTICE:
        return case.state in ADJUSTABLE_STATES
    return True


def _document_row(case, doc_type, label, documents, user) -> DocumentRow:
    mine = [d for d in documents if d.doc_type == doc_type]
    replaced = {d.replaces_id for d in mine if d.replaces_id}
    current = [d for d in mine if d.pk not in replaced]
    row = DocumentRow(doc_type, label, current[-1] if current else None)
    row.earlier = [d for d in mine if d is not row.current][::-1]
    if row.current is not None and doc_type in ONE_PER_CASE:
        return row  # one per case: a correction is a reissue with a reason, from the archive
    row.refusal = refusal_reason(case, doc_type)
    if row.refusal is not None:
        return row
    if doc_type in DECISION_TYPES and case.state == State.CONFIRMED:
        # Issuing the decision moves the case on: the workflow step does both at once.
        row.issue_by = "step" if _may(user, case, Role.HANDLER) else ""
    elif _may(user, case, *ISSUER_ROLES):
        row.issue_by = "document"
    return row


def _may(user: User, case: Case, *roles: str) -> str:
    """The role in which the user may act, or "" (never raises)."""
    try:
        return acting_role(user, case, *roles)
    except NotAllowed:
        return ""


def file_history(files: list[CaseFile]) -> list[FileRow]:
    """Current uploads, each with the versions it superseded, newest first."""
    by_id = {f.pk: f for f in files}
    superseded = {f.supersedes_id for f in files if f.supersedes_id}
    rows = []
    for f in files:
        if f.pk in superseded:
            continue
        row, earlier = FileRow(f), f.supersedes_id
        while earlier in by_id:
            row.earlier.append(by_id[earlier])
            earlier = by_id[earlier].supersedes_id
        rows.append(row)
    return rows


# The document each state asks for, while the case has none of that type.
DUE = {
    State.ACCEPTED: DocType.CONSENT_FORM,
    State.VERIFICATION_REQUESTED: DocType.VERIFICATION_LETTER,  # the letter goes to the county
    State.IN_PUBLICITY: DocType.PUBLICITY_NOTICE,
    State.APPROVED: DocType.APPROVAL_DECISION,
    State.REJECTED: DocType.REJECTION_NOTICE,
}
DUE_ROWS = 20


def documents_due(user: User) -> tuple[list[dict], int]:
    """The handler's cases that wait for a document, and how many there are (two queries).

    A confirmed case waits for its decision or notice; otherwise a state asks for the
    document of `DUE` until the case has one.
    """
    waiting = Q(state=State.CONFIRMED)
    for state, doc_type in DUE.items():
        has = Document.objects.filter(case=OuterRef("pk"), doc_type=doc_type)
        waiting |= Q(state=state) & ~Exists(has)
    cases = (
        cases_visible_to(user)
        .filter(Q(handler=user) | Q(handler__isnull=True))
        .filter(waiting)
        .select_related("applicant", "village")
        .order_by("due_date", "id")
    )
    items = [
        {
            "url": f"/cases/{case.pk}/#documents",
            "label": f"{case.number} {case.applicant.name}（{case.village.name}）",
            "note": "请出具：" + _due_label(case),
        }
        for case in cases[:DUE_ROWS]
    ]
    return items, cases.count()


def _due_label(case: Case) -> str:
    if case.state == State.CONFIRMED:
        return (
            DocType.APPROVAL_DECISION.label
            if case.outcome == Outcome.APPROVE
            else (DocType.REJECTION_NOTICE.label)
        )
    return DocType(DUE[case.state]).label
