"""A decided case with every record a clean case has, for the supervision tests to spoil."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.models import (
    Case,
    HomeVisit,
    IncomeAssessment,
    Kind,
    Outcome,
    PolicyStandard,
    Publicity,
    Signature,
    SignatureStep,
    StandardKind,
    State,
    VerificationReport,
    VerificationRequest,
)

from ..factories import CaseFactory, PersonFactory

ACCEPTED = date(2026, 3, 2)
DECIDED = date(2026, 3, 20)


def at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


@pytest.fixture
def decided_case(people, standards):
    """Make a decided, approved and paid dibao case whose every record is in order."""

    def make(
        *,
        unit=None,
        kind=Kind.DIBAO,
        decided_on=DECIDED,
        state=State.IN_PAYMENT,
        decision: dict | None = None,
        home_visit: bool = True,
        publicity: bool = True,
        **person,
    ):
        """`decision` overrides fields of the decision (a fault): a decided case keeps them;
        without `home_visit` the case has none (records are never deleted afterwards)."""
        unit = unit or people.unit_a
        village = people.village_a if unit == people.unit_a else people.village_b
        applicant = PersonFactory(household__village=village, **person)
        PersonFactory(household=applicant.household, relation="spouse")
        case = CaseFactory(applicant=applicant, kind=kind)
        amount = Decimal("840.00") if kind == Kind.DIBAO else Decimal("1020.00")
        Case.objects.filter(pk=case.pk).update(
            **{
                "state": state,
                "accepted_on": ACCEPTED,
                "due_date": ACCEPTED + timedelta(days=28),
                "decided_on": decided_on,
                "decided_on_time": True,
                "outcome": Outcome.APPROVE,
                "monthly_amount": amount,
                "care_tier": "self_care" if kind == Kind.TEKUN else "",
                **(decision or {}),
            }
        )
        case = Case.objects.get(pk=case.pk)
        request = VerificationRequest.objects.create(
            case=case, requested_by=people.handler, requested_at=at(ACCEPTED + timedelta(days=1))
        )
        VerificationReport.objects.create(
            request=request, officer=people.verifier, summary="未发现不符合条件的收入和财产"
        )
        if home_visit:
            HomeVisit.objects.create(
                case=case,
                visited_on=ACCEPTED + timedelta(days=3),
                findings="属实",
                investigators=[{"name": "李经办"}, {"name": "周协理"}],
                recorded_by=people.handler,
                recorded_at=at(ACCEPTED + timedelta(days=3)),
            )
        size = 1 if kind == Kind.TEKUN else 2
        income = Decimal("0") if kind == Kind.TEKUN else Decimal("6000")
        base = StandardKind.TEKUN_BASIC if kind == Kind.TEKUN else StandardKind.DIBAO
        IncomeAssessment.objects.create(
            case=case,
            basis_date=ACCEPTED,
            period_months=12,
            household_size=size,
            total_monthly_income=income / 12,
            exempt_monthly_income=0,
            counted_monthly_income=income / 12,
            per_capita_income=income / 12 / size,
            standard=PolicyStandard.objects.in_force(base, case.area, ACCEPTED),
            standard_amount=Decimal("670") if kind == Kind.DIBAO else Decimal("1020"),
            care_tier=case.care_tier,
            eligible=True,
            amount=amount,
            working={"total_period_income": str(income), "exempt_period_income": "0"},
            assessed_by=people.handler,
            assessed_at=at(ACCEPTED + timedelta(days=4)),
        )
        if publicity:
            Publicity.objects.create(
                case=case,
                starts_on=ACCEPTED + timedelta(days=5),
                ends_on=ACCEPTED + timedelta(days=11),
                location="村委会公示栏",
                posted_by=people.handler,
            )
        for step, signer, day in (
            (SignatureStep.PROPOSAL, people.handler, DECIDED - timedelta(days=3)),
            (SignatureStep.OPINION, people.direct, DECIDED - timedelta(days=2)),
            (SignatureStep.DECISION, people.first, DECIDED),
        ):
            sign_at(case, step, signer, at(day))
        return case

    return make


def sign_at(case, step, signer, when):
    return Signature.objects.create(
        case=case,
        step=step,
        signer=signer,
        signer_name=signer.full_name,
        role="x",
        unit=signer.unit,
        signed_at=when,
        opinion="agree",
        content_hash="0" * 64,
    )
