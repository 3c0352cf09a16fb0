"""Archive handover (档案移交) between handlers, signed by both and the direct-responsible leader.

When the last of the three signs, the cases move to the new handler, each with a CaseEvent.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from cases.events import locked_case, record_event
from cases.models import Case, Handover, HandoverParty, HandoverSignature
from dengkou_aid.errors import Conflict, DomainError, NotAllowed


def create_handover(
    *, actor: User, from_handler: User, to_handler: User, cases: Iterable[Case], note: str = ""
) -> Handover:
    """Draft a handover of the outgoing handler's cases within the actor's unit."""
    unit_id = actor.unit_id
    if not actor.has_role(Role.HANDLER, Role.DIRECT_RESPONSIBLE, Role.FIRST_RESPONSIBLE):
        raise NotAllowed("档案移交须由本单位经办人或领导发起。")
    for person, label in ((from_handler, "移交人"), (to_handler, "接收人")):
        if person.unit_id != unit_id or not person.has_role(Role.HANDLER):
            raise DomainError(f"{label}须为本单位的经办人。", field=label)
    if from_handler.pk == to_handler.pk:
        raise DomainError("移交人与接收人不能是同一人。", field="to_handler")
    cases = list(cases)
    if not cases:
        raise DomainError("请至少选择一件移交的案件档案。", field="cases")
    # Read the handlers from the database: the caller's objects may be stale.
    ids = {case.pk for case in cases}
    own = Case.objects.filter(pk__in=ids, unit_id=unit_id, handler_id=from_handler.pk).count()
    if own != len(ids):
        raise DomainError("只能移交移交人经办的本单位案件。", field="cases")
    with transaction.atomic():
        handover = Handover.objects.create(
            unit_id=unit_id,
            from_handler=from_handler,
            to_handler=to_handler,
            note=note,
            created_by=actor,
        )
        handover.cases.set(cases)
    return handover


def handover_content(handover: Handover) -> dict:
    """What each party signs: who to whom, and which cases."""
    return {
        "handover": handover.pk,
        "unit": handover.unit_id,
        "from": handover.from_handler_id,
        "to": handover.to_handler_id,
        "cases": sorted(handover.cases.values_list("number", flat=True)),
        "note": handover.note,
    }


def party_for(handover: Handover, user: User) -> str | None:
    """The party `user` signs as, or None when they are not a party."""
    if user.pk == handover.from_handler_id:
        return HandoverParty.FROM_HANDLER
    if user.pk == handover.to_handler_id:
        return HandoverParty.TO_HANDLER
    if user.unit_id == handover.unit_id and user.has_role(Role.DIRECT_RESPONSIBLE):
        return HandoverParty.LEADER
    return None


def sign_handover(*, handover_id: int, actor: User) -> Handover:
    """Sign as one party; the third signature completes the handover and moves the cases."""
    with transaction.atomic():
        # Lock the handover: two parties may sign at the same moment.
        handover = Handover.objects.select_for_update().get(pk=handover_id)
        if handover.completed_at is not None:
            raise Conflict("该档案移交已完成签署。")
        party = party_for(handover, actor)
        if party is None:
            raise NotAllowed("只有移交人、接收人和本单位分管领导可以签署档案移交。")
        if handover.signatures.filter(party=party).exists():
            raise Conflict(f"您已作为{HandoverParty(party).label}签署。")
        HandoverSignature.create_signed(
            signer=actor,
            role=Role.DIRECT_RESPONSIBLE if party == HandoverParty.LEADER else Role.HANDLER,
            over=handover_content(handover),
            handover=handover,
            party=party,
        )
        if handover.signatures.count() == len(HandoverParty):
            _complete(handover, actor)
    return handover


def _complete(handover: Handover, actor: User) -> None:
    handover.completed_at = timezone.now()
    handover.save(update_fields=["completed_at"])
    new_handler = handover.to_handler
    for case_id in handover.cases.order_by("pk").values_list("pk", flat=True):
        with locked_case(case_id) as case:
            old_name = case.handler.full_name if case.handler_id else ""
            case.handler = new_handler
            case.version += 1
            case.save(update_fields=["handler", "version", "updated_at"])
            record_event(
                case,
                action="handover",
                label="档案移交，变更经办人",
                actor=actor,
                role=Role.DIRECT_RESPONSIBLE
                if actor.has_role(Role.DIRECT_RESPONSIBLE)
                else Role.HANDLER,
                from_state=case.state,
                note=f"{old_name} → {new_handler.full_name}",
                data={
                    "handover": handover.pk,
                    "from": handover.from_handler_id,
                    "to": new_handler.pk,
                },
            )
