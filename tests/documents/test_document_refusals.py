"""A document asked for a case not in the right state is refused with the reason."""

from __future__ import annotations

import pytest

from cases.documents.services import issue_document
from cases.models import DocType, Document, State
from dengkou_aid.errors import Conflict, NotAllowed

from .builders import make_case


def test_an_approval_decision_for_a_case_still_being_visited_is_refused_with_the_reason(people):
    case = make_case(people, State.VISITED)

    with pytest.raises(Conflict, match="尚未审核确认批准"):
        issue_document(case=case, doc_type=DocType.APPROVAL_DECISION, actor=people.handler)
    assert not Document.objects.exists()


def test_a_publicity_notice_outside_publicity_is_refused(people):
    case = make_case(people, State.ASSESSED)

    with pytest.raises(Conflict, match="不在公示阶段"):
        issue_document(case=case, doc_type=DocType.PUBLICITY_NOTICE, actor=people.handler)


def test_a_rejection_notice_for_an_approved_case_is_refused(people):
    case = make_case(people, State.APPROVED)

    with pytest.raises(Conflict, match="不予保障"):
        issue_document(case=case, doc_type=DocType.REJECTION_NOTICE, actor=people.handler)


def test_a_handler_of_another_unit_may_not_issue(people):
    case = make_case(people, State.APPROVED)

    with pytest.raises(NotAllowed):
        issue_document(case=case, doc_type=DocType.APPROVAL_DECISION, actor=people.outsider)


def test_the_page_shows_the_refusal_and_issues_nothing(people, login):
    case = make_case(people, State.VISITED)
    client = login(people.handler)

    response = client.post(
        f"/documents/cases/{case.pk}/issue/", {"doc_type": DocType.APPROVAL_DECISION}, follow=True
    )

    assert "尚未审核确认批准" in response.content.decode()
    assert not Document.objects.exists()


def test_the_api_answers_409_with_the_reason_and_201_when_the_state_fits(people, api):
    refused = make_case(people, State.VISITED)
    fits = make_case(people, State.APPROVED, head_name="刘美玲")
    client = api(people.handler)

    response = client.post(
        f"/api/documents/cases/{refused.pk}/",
        {"doc_type": DocType.APPROVAL_DECISION},
        format="json",
    )
    assert response.status_code == 409
    assert "尚未审核确认批准" in response.json()["detail"]

    response = client.post(
        f"/api/documents/cases/{fits.pk}/", {"doc_type": DocType.APPROVAL_DECISION}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["number"].endswith("第0001号")


def test_a_second_decision_without_replacing_the_first_is_refused(people):
    case = make_case(people, State.APPROVED)
    first = issue_document(case=case, doc_type=DocType.APPROVAL_DECISION, actor=people.handler)

    with pytest.raises(Conflict, match=first.number):
        issue_document(case=case, doc_type=DocType.APPROVAL_DECISION, actor=people.handler)
    assert Document.objects.count() == 1
