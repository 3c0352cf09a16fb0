"""Build cases with the records of each workflow step, written directly (no workflow services).

The FSM field is protected, so states are set with a queryset update, as the real services
would leave them.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from cases.events import record_event, sign
from cases.models import (
    ApplicantConsent,
    Case,
    DemocraticAppraisal,
    HomeVisit,
    Income,
    IncomeAssessment,
    Kind,
    Outcome,
    PolicyStandard,
    Publicity,
    Relation,
    SignatureStep,
    StandardKind,
    State,
    VerificationReport,
    VerificationRequest,
)

from ..conftest import signing_otp
from ..factories import CaseFactory, HouseholdFactory, PersonFactory, demo_standards

ILLNESS = "慢性肾衰竭尿毒症期"
ADDRESS = "巴彦高勒镇样例街道十八号院"
ACCOUNT = "6228480012345678912"

# The order in which records are added along the main path.
STEPS = [
    State.ACCEPTED,
    State.AUTHORIZED,
    State.VERIFICATION_REQUESTED,
    State.VERIFIED,
    State.VISITED,
    State.ASSESSED,
    State.IN_PUBLICITY,
    State.PROPOSED,
    State.OPINION_SIGNED,
    State.CONFIRMED,
]


def household(people, *, head_name="张建国", head_birth=date(1960, 5, 1)):
    home = HouseholdFactory(village=people.village_a, unit=people.unit_a, address=ADDRESS)
    head = PersonFactory(household=home, name=head_name, birth_date=head_birth)
    PersonFactory(
        household=home,
        name="王秀兰",
        relation=Relation.SPOUSE,
        sex="F",
        birth_date=date(1962, 3, 8),
        illness=ILLNESS,
        disability_grade=2,
    )
    Income.objects.create(
        person=head,
        kind="transfer",
        source=f"养老金（账户{ACCOUNT}）",
        monthly_amount=Decimal("150"),
        period_start=date(2026, 1, 1),
    )
    return home, head


def make_case(people, state=State.SUBMITTED, *, kind=Kind.DIBAO, outcome=Outcome.APPROVE, **kw):
    """A case of unit A handled by `people.handler`, with every record its state implies."""
    people.unit_a.complaint_phone = people.unit_a.complaint_phone or "0478-6612345"
    people.unit_a.address = "巴彦高勒镇政府院内"
    people.unit_a.save(update_fields=["complaint_phone", "address"])
    _, head = household(people, **kw)
    case = CaseFactory(applicant=head, kind=kind, handler=people.handler)
    demo_standards()
    target = state
    reached = STEPS.index(target) if target in STEPS else len(STEPS) - 1
    if target == State.SUBMITTED:
        reached = -1
    for step in STEPS[: reached + 1]:
        _add_records(case, step, people, outcome)
        case = set_state(case, step)
        record_event(case, action="test_step", label=str(step), actor=people.handler)
    return set_state(case, target)


def set_state(case, state, **fields):
    """Set a state as the workflow would have; returns a fresh instance (the field is protected)."""
    Case.objects.filter(pk=case.pk).update(state=state, **fields)
    return Case.objects.get(pk=case.pk)


def _add_records(case, step, people, outcome):
    today = timezone.localdate()
    handler = people.handler
    if step == State.ACCEPTED:
        Case.objects.filter(pk=case.pk).update(
            accepted_on=today, due_date=today + timedelta(days=28)
        )
    elif step == State.AUTHORIZED:
        ApplicantConsent.objects.create(
            case=case,
            method="on_screen",
            signed_on=today,
            signers="张建国、王秀兰",
            recorded_by=handler,
        )
    elif step == State.VERIFICATION_REQUESTED:
        VerificationRequest.objects.create(
            case=case, requested_by=handler, note="请核对家庭收入及财产"
        )
    elif step == State.VERIFIED:
        VerificationReport.objects.create(
            request=case.verification_requests.get(),
            officer=people.verifier,
            findings=[{"agency": "不动产登记中心", "result": "无房产"}],
            summary="未发现不符合条件的收入或财产",
        )
    elif step == State.VISITED:
        HomeVisit.objects.create(
            case=case,
            visited_on=today,
            investigators=[
                {"name": "李经办", "kind": "经办人"},
                {"name": "周协理", "kind": "协理员"},
            ],
            findings="家庭成员二人，配偶长期患病，无稳定收入。",
            living_conditions="居住自有平房，家具简陋。",
            recorded_by=handler,
        )
        DemocraticAppraisal.objects.create(
            case=case,
            held_on=today,
            attendees=11,
            minutes="评议通过",
            result="同意",
            recorded_by=handler,
        )
    elif step == State.ASSESSED:
        standard = PolicyStandard.objects.in_force(StandardKind.DIBAO, case.area, today)
        IncomeAssessment.objects.create(
            case=case,
            basis_date=today,
            period_months=12,
            household_size=2,
            total_monthly_income=Decimal("150"),
            exempt_monthly_income=Decimal("0"),
            counted_monthly_income=Decimal("150"),
            per_capita_income=Decimal("75"),
            standard=standard,
            standard_amount=standard.amount,
            eligible=outcome == Outcome.APPROVE,
            amount=Decimal("1190.00"),
            working={
                "incomes": [
                    {
                        "person": "张建国",
                        "kind": "转移净收入",
                        "source": "养老金",
                        "monthly_amount": "150",
                        "exempt": False,
                    }
                ]
            },
            assessed_by=handler,
        )
        Case.objects.filter(pk=case.pk).update(monthly_amount=Decimal("1190.00"))
    elif step == State.IN_PUBLICITY:
        Publicity.objects.create(
            case=case,
            starts_on=today,
            ends_on=today + timedelta(days=7),
            location="样例嘎查A村务公开栏",
            posted_by=handler,
        )
    elif step == State.PROPOSED:
        Case.objects.filter(pk=case.pk).update(outcome=outcome)
        sign(
            Case.objects.get(pk=case.pk),
            step=SignatureStep.PROPOSAL,
            signer=handler,
            role="handler",
            opinion="agree",
            text="建议批准",
        )
    elif step == State.OPINION_SIGNED:
        sign(
            Case.objects.get(pk=case.pk),
            step=SignatureStep.OPINION,
            signer=people.direct,
            role="direct_responsible",
            opinion="agree",
            text="同意",
            otp_token=signing_otp(people.direct),
        )
    elif step == State.CONFIRMED:
        Case.objects.filter(pk=case.pk).update(
            decided_on=today,
            rejection_reason="" if outcome == Outcome.APPROVE else "家庭月人均收入高于低保标准",
        )
        sign(
            Case.objects.get(pk=case.pk),
            step=SignatureStep.DECISION,
            signer=people.first,
            role="first_responsible",
            opinion="agree",
            text="确认",
            otp_token=signing_otp(people.first),
        )
