"""Each role's home page lists what waits for it, each line a link to the page where the act
is done, at a fixed number of queries whether one case or many waits."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cases.models import Kind, MaterialRequirement, State
from disbursement.models import PaymentRoster, RosterSignature, RosterState, SignatureStep

from ..documents.builders import make_case, set_state

MONTH = date(2027, 1, 1)


@pytest.fixture
def checklist(db):
    return MaterialRequirement.objects.create(
        kind=Kind.DIBAO, code="application", name="社会救助申请书", order=0
    )


def _home(client) -> str:
    response = client.get("/home/")
    assert response.status_code == 200
    return response.content.decode()


def _block(html: str, key: str) -> str:
    start = html.index(f'data-block="{key}"')
    return html[start : html.index("</section>", start)]


def _roster(people, *signed_steps) -> PaymentRoster:
    # One regular roster per unit and month: each test roster takes the next month.
    taken = PaymentRoster.objects.filter(unit=people.unit_a).count()
    month = date(
        MONTH.year + (MONTH.month - 1 + taken) // 12, (MONTH.month - 1 + taken) % 12 + 1, 1
    )
    roster = PaymentRoster.objects.create(unit=people.unit_a, month=month)
    signers = {
        SignatureStep.PREPARE: people.handler,
        SignatureStep.DIRECT: people.direct,
        SignatureStep.FIRST: people.first,
    }
    for step in signed_steps:
        RosterSignature.create_signed(
            signer=signers[step],
            role="x",
            over={"r": roster.pk},
            roster=roster,
            round=1,
            step=step,
            content={},
        )
    return roster


def test_the_handler_sees_cases_by_step_with_deadlines_and_each_links_to_the_case(people, login):
    accepted = make_case(people, State.ACCEPTED)
    confirmed = make_case(people, State.CONFIRMED)

    html = _home(login(people.handler))

    cases = _block(html, "handler-cases")
    assert "待登记诚信声明及核对授权" in cases and "待出具决定书/告知书" in cases
    assert f'href="/cases/{accepted.pk}/"' in cases and "剩余" in cases
    assert f'href="/cases/{confirmed.pk}/#documents"' in cases


def test_the_handler_sees_documents_to_issue_and_accounts_to_register(people, login):
    accepted = make_case(people, State.ACCEPTED)
    requested = make_case(people, State.VERIFICATION_REQUESTED)
    approved = make_case(people, State.APPROVED)  # 1190.00 a month, no account yet

    html = _home(login(people.handler))

    documents = _block(html, "documents-due")
    assert f'href="/cases/{accepted.pk}/#documents"' in documents
    assert "请出具：社会救助诚信声明及家庭经济状况核对授权书" in documents
    assert f'href="/cases/{approved.pk}/#documents"' in documents  # its decision is missing
    assert f'href="/cases/{requested.pk}/#documents"' in documents
    assert "请出具：家庭经济状况核对委托函" in documents
    accounts = _block(html, "accounts-due")
    assert approved.number in accounts and 'href="/disbursement/"' in accounts


def test_each_leader_sees_the_cases_and_rosters_awaiting_their_signature(people, login):
    direct_client = login(people.direct, Client())  # sign in first: the cases' signatures
    first_client = login(people.first, Client())  # below take the leaders' next codes
    proposed = make_case(people, State.PROPOSED)
    opinion = make_case(people, State.OPINION_SIGNED)
    for_direct = _roster(people, SignatureStep.PREPARE)

    direct = _home(direct_client)
    first = _home(first_client)

    assert f"/cases/{proposed.pk}/" in direct and f"/cases/{opinion.pk}/" not in direct
    assert f"/disbursement/rosters/{for_direct.pk}/" in _block(direct, "rosters-direct_responsible")
    assert f"/cases/{opinion.pk}/" in first
    assert f"/disbursement/rosters/{for_direct.pk}/" not in first
    RosterSignature.create_signed(
        signer=people.direct,
        role="x",
        over={},
        roster=for_direct,
        round=1,
        step=SignatureStep.DIRECT,
        content={},
    )
    first = _home(first_client)
    assert f"/disbursement/rosters/{for_direct.pk}/" in _block(first, "rosters-first_responsible")


def test_the_handler_sees_rosters_to_prepare_and_to_submit(people, login):
    to_prepare = _roster(people)
    to_submit = _roster(people, SignatureStep.PREPARE, SignatureStep.DIRECT, SignatureStep.FIRST)
    PaymentRoster.objects.filter(pk=to_submit.pk).update(state=RosterState.SIGNED)

    rosters = _block(_home(login(people.handler)), "rosters-handler")

    assert f"/disbursement/rosters/{to_prepare.pk}/" in rosters
    assert f"/disbursement/rosters/{to_submit.pk}/" in rosters and "待报送县民政局" in rosters


def test_the_verification_officer_is_sent_to_the_verification_queue(people, login):
    case = make_case(people, State.VERIFICATION_REQUESTED)

    html = _home(login(people.verifier))

    assert case.number in html and 'href="/cases/verification/"' in html


def test_the_village_assistant_sees_applications_lacking_materials_and_those_returned(
    people, checklist, login
):
    draft = make_case(people, State.SUBMITTED)
    refused = make_case(people, State.SUBMITTED)
    set_state(refused, State.REFUSED, refusal_reason="申请人户籍不在本镇")

    html = _home(login(people.assistant))

    lacking = _block(html, "assistant-materials")
    assert f'href="/cases/{draft.pk}/"' in lacking and "缺：社会救助申请书" in lacking
    returned = _block(html, "assistant-returned")
    assert refused.number in returned and "申请人户籍不在本镇" in returned


def _queries(client) -> int:
    client.get("/home/")  # warm per-process caches (the calendar)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/home/").status_code == 200
    return len(captured)


def _lots(people, n):
    for state in (
        State.SUBMITTED,
        State.ACCEPTED,
        State.VERIFICATION_REQUESTED,
        State.PROPOSED,
        State.OPINION_SIGNED,
        State.CONFIRMED,
        State.APPROVED,
    ):
        for _ in range(n):
            make_case(people, state)
    for _ in range(n):
        _roster(people, SignatureStep.PREPARE)
        _roster(people, SignatureStep.PREPARE, SignatureStep.DIRECT)


@pytest.mark.parametrize("who", ["handler", "direct", "first", "verifier", "assistant"])
def test_each_home_page_costs_the_same_queries_for_one_case_or_many(
    people, checklist, login, who, django_assert_max_num_queries
):
    client = login(getattr(people, who))
    _lots(people, 1)
    one = _queries(client)
    _lots(people, 4)

    with django_assert_max_num_queries(one):
        html = _home(client)
    assert re.search(r'class="badge">[1-9]', html)


def test_another_units_cases_and_rosters_never_appear(people, login):
    ours = make_case(people, State.CONFIRMED)
    roster = _roster(people)

    html = _home(login(people.outsider))

    assert ours.number not in html and f"/disbursement/rosters/{roster.pk}/" not in html
    assert "暂无待出具的文书。" in _block(html, "documents-due")
