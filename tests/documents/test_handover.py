"""A handover lists the cases passed from one handler to another; once both handlers and the
direct-responsible leader have signed, the cases move to the new handler, each with an event,
and the signed record stays."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from cases.documents.handover import create_handover, sign_handover
from cases.models import Case, CaseEvent, HandoverSignature, State
from dengkou_aid.errors import Conflict, DomainError, NotAllowed

from .builders import make_case


@pytest.fixture
def draft(people):
    cases = [
        make_case(people, State.VISITED),
        make_case(people, State.APPROVED, head_name="刘美玲"),
    ]
    return create_handover(
        actor=people.handler,
        from_handler=people.handler,
        to_handler=people.handler2,
        cases=cases,
        note="调岗移交",
    )


def test_a_fully_signed_handover_moves_the_cases_and_leaves_a_signed_record(people, draft):
    for signer in (people.handler, people.handler2, people.direct):
        sign_handover(handover_id=draft.pk, actor=signer)

    draft.refresh_from_db()
    assert draft.completed_at is not None
    assert set(Case.objects.filter(handovers=draft).values_list("handler", flat=True)) == {
        people.handler2.pk
    }
    assert CaseEvent.objects.filter(action="handover", case__handovers=draft).count() == 2
    parties = HandoverSignature.objects.filter(handover=draft).values_list("party", flat=True)
    assert sorted(parties) == ["from_handler", "leader", "to_handler"]
    with pytest.raises(PermissionDenied):
        HandoverSignature.objects.filter(handover=draft).delete()


def test_until_all_three_sign_the_cases_stay_with_the_old_handler(people, draft):
    sign_handover(handover_id=draft.pk, actor=people.handler)
    sign_handover(handover_id=draft.pk, actor=people.direct)

    draft.refresh_from_db()
    assert draft.completed_at is None
    assert set(Case.objects.filter(handovers=draft).values_list("handler", flat=True)) == {
        people.handler.pk
    }


def test_nobody_signs_twice_and_strangers_cannot_sign(people, draft):
    sign_handover(handover_id=draft.pk, actor=people.handler)

    with pytest.raises(Conflict):
        sign_handover(handover_id=draft.pk, actor=people.handler)
    with pytest.raises(NotAllowed):
        sign_handover(handover_id=draft.pk, actor=people.outsider_direct)
    with pytest.raises(NotAllowed):
        sign_handover(handover_id=draft.pk, actor=people.first)


def test_only_the_outgoing_handlers_own_cases_of_the_unit_can_be_handed_over(people):
    theirs = make_case(people, State.VISITED)
    not_theirs = make_case(people, State.VISITED, head_name="刘美玲")
    Case.objects.filter(pk=not_theirs.pk).update(handler=people.handler2)

    with pytest.raises(DomainError):
        create_handover(
            actor=people.handler,
            from_handler=people.handler,
            to_handler=people.outsider,
            cases=[theirs],
        )
    with pytest.raises(DomainError):
        create_handover(
            actor=people.handler,
            from_handler=people.handler,
            to_handler=people.handler2,
            cases=[theirs, not_theirs],
        )


def test_the_pages_create_and_sign_a_handover(people, login):
    case = make_case(people, State.VISITED)
    handler, receiver, leader = (
        login(u, Client()) for u in (people.handler, people.handler2, people.direct)
    )

    response = handler.post(
        "/documents/handovers/new/",
        {"from_handler": people.handler.pk, "to_handler": people.handler2.pk, "cases": [case.pk]},
    )
    assert response.status_code == 302, response.content.decode()[:800]
    url = response["Location"]
    for client in (handler, receiver, leader):
        assert client.post(f"{url}sign/").status_code == 302

    html = leader.get(url).content.decode()
    assert "已于" in html and "李经办" in html and "王经办" in html and "赵分管" in html
    assert Case.objects.get(pk=case.pk).handler == people.handler2
    assert "未签署" not in html
