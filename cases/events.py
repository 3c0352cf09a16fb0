"""Primitives every case service uses: lock the case, check its version, write the timeline,
sign, and void signatures after a change.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django_fsm import can_proceed

from accounts.models import Unit, User
from accounts.services import (
    SigningCodeRefused,
    check_signing_code,
    record_signing_code_failure,
)
from dengkou_aid.errors import Conflict

from .models import Case, CaseEvent, CaseNumberCounter, Signature, SignatureVoid, State


@contextmanager
def locked_case(case_id: int, *, expected_version: int | None = None) -> Iterator[Case]:
    """Open a transaction holding the case's row lock; 409 if the caller saw an older version.

    Two clerks acting at once: the second waits for the lock, then finds the case moved on.
    """
    try:
        with transaction.atomic():
            case = Case.objects.select_for_update().get(pk=case_id)
            if expected_version is not None and case.version != expected_version:
                raise Conflict("该案件已被他人修改，请刷新后重试。", field="version")
            yield case
    except SigningCodeRefused as refused:
        # The act rolled back with nothing signed; a wrong code still counts against guessing.
        if refused.wrong_code_of is not None:
            record_signing_code_failure(refused.wrong_code_of)
        raise


def require_transition(case: Case, method_name: str) -> None:
    """Refuse a transition the case's state does not allow, naming the current state (409)."""
    method = getattr(case, method_name)
    if not can_proceed(method, check_conditions=False):
        raise Conflict(
            f"案件当前状态为“{case.get_state_display()}”，不能办理此操作。",
            field="state",
        )


def save_transition(case: Case, *fields: str) -> None:
    """Save a case after a transition, bumping its version for optimistic checks."""
    case.version += 1
    case.save(update_fields=["state", "version", "updated_at", *fields])


def record_event(
    case: Case,
    *,
    action: str,
    label: str,
    actor: User | None,
    role: str = "",
    from_state: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Append one entry to the case's timeline (the caller holds the case lock)."""
    last = case.events.aggregate(m=Max("seq"))["m"] or 0
    return CaseEvent.objects.create(
        case=case,
        seq=last + 1,
        action=action,
        label=label,
        from_state=from_state,
        to_state=case.state,
        actor=actor,
        actor_role=role,
        actor_unit=getattr(actor, "unit", None),
        note=note,
        data=json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder)),
    )


def snapshot(case: Case) -> dict[str, Any]:
    """What a signer is shown and signs: the case's decisive facts."""
    assessment = case.assessments.order_by("-id").first()
    members = list(case.household.members.active().order_by("id").values_list("id", "name"))
    return json.loads(
        json.dumps(
            {
                "case": case.number,
                "kind": case.kind,
                "state": case.state,
                "outcome": case.outcome,
                "monthly_amount": case.monthly_amount,
                "care_tier": case.care_tier,
                "assessment": assessment.pk if assessment else None,
                "members": members,
                "version": case.version,
            },
            cls=DjangoJSONEncoder,
            sort_keys=True,
        )
    )


def sign(
    case: Case,
    *,
    step: str,
    signer: User,
    role: str,
    opinion: str = "",
    text: str = "",
    otp_token: str = "",
) -> Signature:
    """Record a signature over the case as the signer sees it now.

    A signer who signs in with a second factor (the leaders, county staff) re-enters a one-time
    code here: the signature is theirs (谁签字，谁负责). A wrong code raises and nothing is signed.
    """
    check_signing_code(signer, otp_token)
    content = snapshot(case)
    return Signature.create_signed(
        signer=signer,
        role=role,
        over=content,
        case=case,
        step=step,
        opinion=opinion,
        text=text,
        content=content,
    )


def valid_signatures(case: Case, *steps: str):
    qs = case.signatures.filter(void__isnull=True)
    return qs.filter(step__in=steps) if steps else qs


def void_signatures(case: Case, *, steps: tuple[str, ...], reason: str) -> int:
    """Void the still-valid signatures of the given steps: the case changed after them."""
    voided = 0
    for signature in valid_signatures(case, *steps):
        SignatureVoid.objects.create(signature=signature, reason=reason, at=timezone.now())
        voided += 1
    return voided


def next_case_number(unit: Unit, year: int) -> str:
    """Per-unit, per-year case number; called inside the creating transaction."""
    counter = locked_case_counter(unit, year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return case_number(unit, year, counter.last)


def locked_case_counter(unit: Unit, year: int) -> CaseNumberCounter:
    """The unit's counter row for the year, locked until the transaction ends.

    Two filings in one unit may take a number at the same moment: the second waits here.
    """
    CaseNumberCounter.objects.bulk_create(
        [CaseNumberCounter(unit=unit, year=year)], ignore_conflicts=True
    )
    return CaseNumberCounter.objects.select_for_update().get(unit=unit, year=year)


def case_number(unit: Unit, year: int, seq: int) -> str:
    return f"{unit.code}-{year}-{seq:05d}"


__all__ = [
    "State",
    "case_number",
    "locked_case",
    "locked_case_counter",
    "next_case_number",
    "record_event",
    "require_transition",
    "save_transition",
    "sign",
    "snapshot",
    "valid_signatures",
    "void_signatures",
]
