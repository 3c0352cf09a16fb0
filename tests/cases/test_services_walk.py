"""A case walked through every step by the services directly, and the rules they enforce."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from cases import services
from cases.models import Case, Kind, Outcome, SignatureStep, State
from dengkou_aid.errors import Conflict, DomainError, NotAllowed

from ..conftest import signing_otp
from ..factories import unique_id_number
from ..files import pdf_bytes


@pytest.fixture
def materials(db):
    call_command("loaddata", "fixtures/materials.json", verbosity=0)


def today():
    return timezone.localdate()


def file_case(people, kind=Kind.DIBAO, income="300", **kwargs):
    members = [
        {
            "name": "张明东",
            "id_number": unique_id_number(),
            "incomes": [
                {
                    "kind": "wage",
                    "source": "务工",
                    "monthly_amount": income,
                    "period_start": date(2020, 1, 1),
                }
            ],
        },
        {"name": "李秀英", "id_number": unique_id_number(sex="F"), "relation": "spouse"},
    ]
    return services.file_application(
        actor=kwargs.pop("actor", people.handler),
        kind=kind,
        village=people.village_a,
        area="rural",
        members=members,
        **kwargs,
    )


def to_publicity(people, case, starts_on=None):
    h = people.handler
    case = services.accept(actor=h, case=case, on=today())
    case = services.record_consent(
        actor=h, case=case, method="on_screen", signed_on=today(), signers="张明东、李秀英"
    )
    case = services.request_verification(actor=h, case=case)
    case = services.record_verification_report(
        actor=people.verifier,
        case=case,
        findings=[{"agency": "公安", "result": "无车辆"}],
        summary="未发现不符合条件的财产",
    )
    case = services.record_home_visit(
        actor=h,
        case=case,
        visited_on=today(),
        findings="家中无劳动力",
        investigators=[{"name": "李经办", "kind": "staff"}, {"name": "周协理", "kind": "village"}],
    )
    services.assess(actor=h, case=case, care_unmet=5 if case.kind == Kind.TEKUN else None)
    services.publish(actor=h, case=case, starts_on=today(), location="村委会公示栏")
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def later():
    """Move the clock forward some days (publicity posted today runs through today + 6)."""
    travellers = []

    def advance(days: int) -> None:
        traveller = time_machine.travel(timezone.now() + timedelta(days=days), tick=True)
        traveller.start()
        travellers.append(traveller)

    yield advance
    for traveller in reversed(travellers):
        traveller.stop()


def test_a_dibao_case_goes_from_application_to_approval(people, standards, materials, later):
    case = file_case(people)
    case = to_publicity(people, case)
    later(7)
    with pytest.raises(DomainError) as missing:
        services.propose(actor=people.handler, case=case, outcome=Outcome.APPROVE)
    assert "申报材料：社会救助申请书" in missing.value.missing
    assert Case.objects.get(pk=case.pk).state == State.IN_PUBLICITY
    for req in case_requirements(case):
        services.upload_material(actor=people.handler, case=case, file=pdf(), requirement=req)
    case = services.propose(actor=people.handler, case=case, outcome=Outcome.APPROVE)
    case = services.sign_opinion(
        actor=people.direct, case=case, opinion="agree", otp_token=signing_otp(people.direct)
    )
    case = services.confirm(
        actor=people.first, case=case, outcome=Outcome.APPROVE, otp_token=signing_otp(people.first)
    )
    case = services.issue_decision(actor=people.handler, case=case)
    assert case.state == State.APPROVED
    assert case.monthly_amount == Decimal("1040.00")  # 670 × 2 − 300
    assert case.decided_on_time is True
    assert case.signatures.filter(void__isnull=True).count() == 3
    decision = case.documents.get()
    assert decision.doc_type == "approval_decision" and "决" in decision.number
    assert list(case.events.values_list("seq", flat=True)) == list(
        range(1, case.events.count() + 1)
    )


def test_a_second_confirmation_of_the_same_case_is_a_conflict(people, standards, materials, later):
    case = to_publicity(people, file_case(people))
    later(7)
    for req in case_requirements(case):
        services.upload_material(actor=people.handler, case=case, file=pdf(), requirement=req)
    services.propose(actor=people.handler, case=case, outcome=Outcome.APPROVE)
    services.sign_opinion(
        actor=people.direct, case=case, opinion="agree", otp_token=signing_otp(people.direct)
    )
    services.confirm(
        actor=people.first, case=case, outcome=Outcome.APPROVE, otp_token=signing_otp(people.first)
    )
    with pytest.raises(Conflict):
        services.confirm(
            actor=people.first,
            case=case,
            outcome=Outcome.APPROVE,
            otp_token=signing_otp(people.first),
        )


def test_the_proposal_waits_until_publicity_has_run_seven_days(people, standards, materials, later):
    case = to_publicity(people, file_case(people))
    later(6)
    with pytest.raises(DomainError) as refused:
        services.propose(actor=people.handler, case=case, outcome=Outcome.APPROVE)
    assert any("公示期未满" in m for m in refused.value.missing)


def test_a_leader_who_disagrees_voids_the_proposal(people, standards, later):
    case = to_publicity(people, file_case(people))
    later(7)
    services.propose(actor=people.handler, case=case, outcome=Outcome.APPROVE)
    with pytest.raises(DomainError):
        services.sign_opinion(
            actor=people.direct, case=case, opinion="disagree", otp_token=signing_otp(people.direct)
        )
    case = services.sign_opinion(
        actor=people.direct,
        case=case,
        opinion="disagree",
        text="收入核实不清",
        otp_token=signing_otp(people.direct),
    )
    assert case.state == State.ASSESSED
    assert not case.signatures.filter(void__isnull=True, step=SignatureStep.PROPOSAL).exists()


def test_only_the_handler_of_the_unit_may_accept(people, standards, later):
    case = file_case(people)
    with pytest.raises(NotAllowed):
        services.accept(actor=people.outsider, case=case)
    with pytest.raises(NotAllowed):
        services.accept(actor=people.direct, case=case)
    assert Case.objects.get(pk=case.pk).state == State.SUBMITTED


def test_an_id_number_is_never_registered_twice(people, standards, later):
    number = unique_id_number()
    members = [{"name": "张明东", "id_number": number}]
    services.file_application(
        actor=people.handler,
        kind=Kind.DIBAO,
        village=people.village_a,
        area="rural",
        members=members,
    )
    other = [
        {"name": "王五", "id_number": unique_id_number()},
        {"name": "张明东", "id_number": number},
    ]
    with pytest.raises(Conflict):
        services.file_application(
            actor=people.handler,
            kind=Kind.DIBAO,
            village=people.village_a,
            area="rural",
            members=other,
        )


def test_tekun_amount_includes_full_care(people, standards, later):
    case = to_publicity(people, file_case(people, kind=Kind.TEKUN, income="0"))
    assert case.monthly_amount == Decimal("2286.00")
    assert case.care_tier == "full"


def case_requirements(case):
    from cases.models import MaterialRequirement

    return MaterialRequirement.objects.filter(
        kind=case.kind, required=True, platform_supplied=False
    )


PDF_BYTES = pdf_bytes()


def pdf(name="scan.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")
