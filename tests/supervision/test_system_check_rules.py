"""Each system-check rule catches its fault and passes a clean case."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings

from cases.models import (
    Case,
    CaseFile,
    Kind,
    MaterialRequirement,
    Publicity,
    Signature,
    SignatureStep,
    SignatureVoid,
    State,
)
from supervision import checks
from supervision.models import Finding, Rule
from supervision.services import run_system_checks

from .conftest import DECIDED, at, sign_at

pytestmark = pytest.mark.django_db


def fired(rule, case) -> dict | None:
    hits = {hit.case_id: hit.evidence for hit in checks.RULES[rule](Case.objects.all())}
    return hits.get(case.pk)


def test_a_clean_case_passes_every_rule(decided_case):
    case = decided_case()
    tekun = decided_case(kind=Kind.TEKUN, birth_date=date(1950, 1, 1))
    for rule in checks.RULES:
        assert fired(rule, case) is None, rule
        assert fired(rule, tekun) is None, rule


def test_signature_rule_catches_a_decision_without_an_opinion(decided_case):
    case = decided_case()
    SignatureVoid.objects.create(
        signature=case.signatures.get(step=SignatureStep.OPINION), reason="重做"
    )
    assert fired(Rule.SIGNATURE_ORDER, case)["missing"] == ["分管领导审核意见"]


def test_signature_rule_catches_an_opinion_signed_before_the_proposal(decided_case):
    case = decided_case()
    SignatureVoid.objects.create(
        signature=case.signatures.get(step=SignatureStep.PROPOSAL), reason="重做"
    )
    sign_at(case, SignatureStep.PROPOSAL, case.unit.staff.first(), at(DECIDED, hour=9))
    assert fired(Rule.SIGNATURE_ORDER, case)["out_of_order"] is True


def test_stage_rule_catches_a_missing_home_visit_and_an_early_decision(people, decided_case):
    case = decided_case(decided_on=date(2026, 3, 12))
    other = decided_case(home_visit=False)
    assert fired(Rule.STAGE_MISSING, case)["out_of_order"] == [
        "公示至2026-03-13，公示期未满即审核确认"
    ]
    assert fired(Rule.STAGE_MISSING, other)["missing"] == ["入户调查记录"]


def test_stage_rule_asks_no_publicity_of_a_non_approval_but_does_of_an_approval(decided_case):
    refused = decided_case(state=State.REJECTED, decision={"outcome": "reject"}, publicity=False)
    approved = decided_case(publicity=False)
    assert fired(Rule.STAGE_MISSING, refused) is None
    assert fired(Rule.STAGE_MISSING, approved)["missing"] == ["审核确认公示"]


def test_material_rule_catches_a_required_file_missing(people, decided_case):
    case = decided_case()
    needed = MaterialRequirement.objects.create(kind=Kind.DIBAO, code="id", name="身份证")
    MaterialRequirement.objects.create(
        kind=Kind.DIBAO, code="hukou", name="户口簿", platform_supplied=True
    )
    assert fired(Rule.MATERIAL_MISSING, case) == {"missing": ["身份证"]}
    CaseFile.objects.create(
        case=case,
        category="material",
        requirement=needed,
        file="x.pdf",
        original_name="x.pdf",
        mime="application/pdf",
        size=1,
        sha256="0" * 64,
        uploaded_by=people.handler,
    )
    assert fired(Rule.MATERIAL_MISSING, case) is None


def test_deadline_rule_catches_a_late_decision_and_an_unsigned_extension(people, decided_case):
    late = decided_case(decision={"due_date": DECIDED - timedelta(days=1)})
    assert fired(Rule.DECIDED_LATE, late)["decided_on"] == "2026-03-20"
    # Accepted 2026-03-02: 20 working days end on 2026-03-30; decided on 2026-04-08 on an
    # extension to 2026-04-13 that nobody signed.
    extended = decided_case(
        decided_on=date(2026, 4, 8), decision={"extended": True, "due_date": date(2026, 4, 13)}
    )
    assert fired(Rule.DECIDED_LATE, extended)["due_date"] == "2026-03-30"
    sign_at(extended, SignatureStep.EXTENSION, people.direct, at(date(2026, 3, 25)))
    assert fired(Rule.DECIDED_LATE, extended) is None


def test_amount_rule_catches_a_stored_amount_that_differs_from_the_recomputed_one(decided_case):
    case = decided_case(decision={"monthly_amount": Decimal("900.00")})
    evidence = fired(Rule.AMOUNT_MISMATCH, case)
    assert evidence["stored"] == "900.00"
    assert evidence["recomputed"] == "840.00"


def test_duplicate_rule_catches_one_household_in_two_live_cases_of_two_units(people, decided_case):
    case = decided_case()
    clean = decided_case()
    twin = decided_case(unit=people.unit_b, decision={"household": case.household})
    evidence = fired(Rule.DUPLICATE_PERSON, case)
    assert evidence["others"] == [{"case": twin.number, "unit": "隆盛合镇"}]
    assert evidence["units"] == 2
    assert fired(Rule.DUPLICATE_PERSON, clean) is None


def test_duplicate_rule_catches_one_applicant_in_two_live_cases_of_the_same_unit(
    people, decided_case
):
    case = decided_case()
    clean = decided_case()
    # The same ID number (one Person per ID number) applies again from another household.
    twin = decided_case(
        kind=Kind.TEKUN, birth_date=date(1950, 1, 1), decision={"applicant": case.applicant}
    )
    evidence = fired(Rule.DUPLICATE_PERSON, case)
    assert evidence["others"] == [{"case": twin.number, "unit": "巴彦高勒镇"}]
    assert evidence["units"] == 1
    assert fired(Rule.DUPLICATE_PERSON, twin)["others"] == [
        {"case": case.number, "unit": "巴彦高勒镇"}
    ]
    assert fired(Rule.DUPLICATE_PERSON, clean) is None


def test_duplicate_rule_passes_when_one_of_the_two_cases_is_closed(people, decided_case):
    case = decided_case()
    twin = decided_case(state=State.TERMINATED, decision={"applicant": case.applicant})
    assert fired(Rule.DUPLICATE_PERSON, case) is None
    assert fired(Rule.DUPLICATE_PERSON, twin) is None


def test_age_rule_catches_a_tekun_beneficiary_of_working_age(decided_case):
    working_age = decided_case(kind=Kind.TEKUN, birth_date=date(1980, 6, 1))
    minor = decided_case(kind=Kind.TEKUN, birth_date=date(2015, 6, 1))
    disabled = decided_case(kind=Kind.TEKUN, birth_date=date(1980, 6, 1), disability_grade=1)
    assert fired(Rule.AGE_RULE, working_age)["age_at_decision"] == 45
    assert fired(Rule.AGE_RULE, minor) is None
    assert fired(Rule.AGE_RULE, disabled) is None


@override_settings(SUPERVISION_AGE_RULES={Kind.DIBAO: {"minor_under": 0, "elderly_from": 80}})
def test_age_rules_come_from_settings_when_the_county_sets_them(decided_case):
    assert fired(Rule.AGE_RULE, decided_case()) == {
        "age_at_decision": 56,
        "decided_on": "2026-03-20",
        "rule": {"minor_under": 0, "elderly_from": 80},
    }


def test_publicity_rule_catches_a_publicity_of_six_days(people, decided_case):
    case = decided_case()
    Publicity.objects.create(
        case=case,
        starts_on=date(2026, 3, 8),
        ends_on=date(2026, 3, 13),
        location="村委会",
        posted_by=people.handler,
    )
    assert fired(Rule.PUBLICITY_SHORT, case) == {
        "starts_on": "2026-03-08",
        "ends_on": "2026-03-13",
        "days": 6,
        "required": 7,
    }


def test_a_finding_is_raised_once_and_closed_when_the_fault_is_gone(decided_case):
    case = decided_case(decision={"monthly_amount": Decimal("900.00")})
    run_system_checks()
    run_system_checks()
    finding = Finding.objects.get(rule=Rule.AMOUNT_MISMATCH)
    assert finding.state == Finding.State.OPEN
    assert finding.unit_id == case.unit_id
    # A decided amount is never rewritten: the county revokes the decision, the case ends.
    Case.objects.filter(pk=case.pk).update(state=State.TERMINATED)
    summary = run_system_checks()
    finding.refresh_from_db()
    assert finding.state == Finding.State.CLOSED and finding.closed_at is not None
    assert summary[Rule.AMOUNT_MISMATCH] == {"raised": 0, "closed": 1, "open": 0}


def test_the_nightly_task_runs_the_checks(decided_case):
    from supervision.tasks import run_nightly_checks

    case = decided_case(decision={"monthly_amount": Decimal("1")})
    run_nightly_checks.delay()
    assert Finding.objects.filter(case=case, rule=Rule.AMOUNT_MISMATCH, state="open").exists()
    assert not Signature.objects.filter(case=case, void__isnull=False).exists()


def test_a_supervisor_runs_the_checks_on_demand_and_a_township_may_not(people, decided_case, login):
    from django.test import Client

    decided_case(decision={"monthly_amount": Decimal("1")})
    assert login(people.first).post("/supervision/findings/run/").status_code == 404
    response = login(people.supervisor, Client()).post("/supervision/findings/run/", follow=True)
    assert "新发现1个问题" in response.content.decode()


def test_age_rule_reads_imported_cases_too(people):
    from cases.models import Person

    from ..disbursement.conftest import entitled

    entitlement = entitled(people.village_a, kind=Kind.TEKUN, amount="1200", state=State.IN_PAYMENT)
    case = entitlement.case
    Case.objects.filter(pk=case.pk).update(imported=True)
    Person.objects.filter(pk=case.applicant_id).update(birth_date=date(1996, 6, 1))
    evidence = fired(Rule.AGE_RULE, case)
    assert evidence["age_at_decision"] == 30 and evidence["imported"] is True
    assert evidence["decided_on"] == str(entitlement.start_month)
