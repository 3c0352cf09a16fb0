"""System checks (系统监督核查): each rule is one function over a queryset of cases.

A rule reads the records set-wise (one or a few queries, streamed) and yields a `Hit` per case
at fault with the evidence a supervisor needs to see why. `services.run_system_checks` turns
hits into findings. Cases imported from the old ledger (`imported`) have no workflow records
and are left out of the procedure rules; the beneficiary rules (duplicates, the age rule) read
them too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone

from cases.assessment import CARE_STANDARD_KIND, round_amount
from cases.deadlines.calendar import ACCEPTANCE_LIMIT_WORKDAYS, add_workdays
from cases.materials import CONSENT_MATERIALS
from cases.models import (
    DECIDED_STATES,
    LIVE_PAYMENT_STATES,
    ApplicantConsent,
    Case,
    CaseFile,
    CountyRules,
    HomeVisit,
    IncomeAssessment,
    Kind,
    MaterialRequirement,
    Outcome,
    PolicyStandard,
    Publicity,
    Signature,
    SignatureStep,
    StandardKind,
    State,
    VerificationReport,
)

from .models import Rule

CHUNK = 5000


class Hit(NamedTuple):
    case_id: int
    unit_id: int
    evidence: dict[str, Any]


def _decided(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.filter(state__in=DECIDED_STATES, imported=False)


# --- Procedure ---------------------------------------------------------------------------

SIGNED_STATES = {
    State.PROPOSED: (SignatureStep.PROPOSAL,),
    State.OPINION_SIGNED: (SignatureStep.PROPOSAL, SignatureStep.OPINION),
    **{
        state: (SignatureStep.PROPOSAL, SignatureStep.OPINION, SignatureStep.DECISION)
        for state in DECIDED_STATES
    },
}


def _valid_signed_at(step: str) -> Max:
    return Max(
        "signatures__signed_at",
        filter=Q(signatures__step=step, signatures__void__isnull=True),
    )


def signature_order(cases: QuerySet[Case]) -> Iterator[Hit]:
    """Each state past the proposal needs its valid signatures, signed proposal → opinion → decision."""
    rows = (
        cases.filter(state__in=list(SIGNED_STATES), imported=False)
        .order_by()
        .values("id")
        .annotate(
            p=_valid_signed_at(SignatureStep.PROPOSAL),
            o=_valid_signed_at(SignatureStep.OPINION),
            d=_valid_signed_at(SignatureStep.DECISION),
        )
        .filter(
            Q(p__isnull=True)
            | Q(o__isnull=True, state__in=[State.OPINION_SIGNED, *DECIDED_STATES])
            | Q(d__isnull=True, state__in=DECIDED_STATES)
            | Q(p__gt=F("o"))
            | Q(o__gt=F("d"))
        )
        .values_list("id", "unit_id", "state", "p", "o", "d")
    )
    for case_id, unit_id, state, *times in rows.iterator(chunk_size=CHUNK):
        signed = dict(zip(SignatureStep.values[:3], times, strict=True))
        needed = SIGNED_STATES[state]
        missing = [SignatureStep(step).label for step in needed if signed[step] is None]
        present = [(signed[step], step) for step in needed if signed[step] is not None]
        out_of_order = [SignatureStep(s).label for (_, s) in present] != [
            SignatureStep(s).label for (_, s) in sorted(present)
        ]
        yield Hit(
            case_id,
            unit_id,
            {
                "missing": missing,
                "out_of_order": out_of_order,
                "signed_at": {k: v.isoformat() if v else None for k, v in signed.items()},
            },
        )


STAGES = {
    "verification": "家庭经济状况核对报告",
    "home_visit": "入户调查记录",
    "assessment": "收入核算",
    "publicity": "审核确认公示",
}


def stage_missing(cases: QuerySet[Case]) -> Iterator[Hit]:
    """A decided case needs each stage's record, in order: visit before assessment, publicity over before decision."""
    decided = _decided(cases).order_by()
    records = {
        "verification": VerificationReport.objects.filter(request__case=OuterRef("pk")),
        "home_visit": HomeVisit.objects.filter(case=OuterRef("pk")),
        "assessment": IncomeAssessment.objects.filter(case=OuterRef("pk")),
        "publicity": Publicity.objects.filter(case=OuterRef("pk")),
    }
    found: dict[int, dict[str, Any]] = {}

    def note(case_id: int, unit_id: int, key: str, text: str) -> None:
        hit = found.setdefault(case_id, {"unit": unit_id, "missing": [], "out_of_order": []})
        hit[key].append(text)

    for stage, records_of_case in records.items():
        # A non-approval needs no publicity: the notice lists only households to be assisted.
        needing = decided.exclude(outcome=Outcome.REJECT) if stage == "publicity" else decided
        # NOT EXISTS in WHERE becomes one anti-join, not a subquery per case.
        for case_id, unit_id in (
            needing.filter(~Exists(records_of_case)).values_list("id", "unit_id").iterator(CHUNK)
        ):
            note(case_id, unit_id, "missing", STAGES[stage])
    visited_after = (
        decided.values("id")
        .annotate(visit=Max("home_visits__recorded_at"), assessed=Max("assessments__assessed_at"))
        .filter(visit__gt=F("assessed"))
        .values_list("id", "unit_id")
    )
    for case_id, unit_id in visited_after.iterator(CHUNK):
        note(case_id, unit_id, "out_of_order", "收入核算早于最近一次入户调查")
    early = (
        decided.values("id")
        .annotate(publicity_end=Max("publicities__ends_on"))
        .filter(decided_on__lte=F("publicity_end"))
        .values_list("id", "unit_id", "publicity_end")
    )
    for case_id, unit_id, end in early.iterator(CHUNK):
        note(case_id, unit_id, "out_of_order", f"公示至{end}，公示期未满即审核确认")
    for case_id, hit in sorted(found.items()):
        yield Hit(
            case_id,
            hit.pop("unit"),
            {"missing": [label for label in STAGES.values() if label in hit["missing"]], **hit},
        )


def material_missing(cases: QuerySet[Case]) -> Iterator[Hit]:
    """A decided case holds a file for each required material the applicant must supply
    (the set-based form of `cases.materials.materials_missing`)."""
    missing: dict[int, list[str]] = defaultdict(list)
    units: dict[int, int] = {}
    requirements = MaterialRequirement.objects.filter(required=True, platform_supplied=False)
    for requirement in requirements.order_by("kind", "order", "id"):
        has_file = CaseFile.objects.filter(case=OuterRef("pk"), requirement=requirement)
        rows = _decided(cases).filter(kind=requirement.kind).filter(~Exists(has_file))
        if requirement.code in CONSENT_MATERIALS:
            # The rule of cases.materials: the recorded signed consent is the declaration.
            rows = rows.filter(~Exists(ApplicantConsent.objects.filter(case=OuterRef("pk"))))
        rows = rows.values_list("id", "unit_id")
        for case_id, unit_id in rows.iterator(chunk_size=CHUNK):
            missing[case_id].append(requirement.name)
            units[case_id] = unit_id
    for case_id, names in missing.items():
        yield Hit(case_id, units[case_id], {"missing": names})


def decided_late(cases: QuerySet[Case]) -> Iterator[Hit]:
    """Decided after the due date, or on an extension nobody signed for."""
    approved_extension = Exists(
        Signature.objects.filter(
            case=OuterRef("pk"), step=SignatureStep.EXTENSION, void__isnull=True
        )
    )
    rows = (
        _decided(cases)
        .filter(decided_on__isnull=False, due_date__isnull=False)
        .annotate(approved_extension=approved_extension)
        .filter(Q(decided_on__gt=F("due_date")) | Q(extended=True, approved_extension=False))
        .values_list(
            "id",
            "unit_id",
            "accepted_on",
            "due_date",
            "decided_on",
            "extended",
            "approved_extension",
        )
    )
    for case_id, unit_id, accepted, due, decided, extended, approved in rows.iterator(
        chunk_size=CHUNK
    ):
        if decided <= due and accepted is not None:
            # An unsigned extension counts for nothing: hold the case to the original limit.
            due = add_workdays(accepted, ACCEPTANCE_LIMIT_WORKDAYS).date
            if decided <= due:
                continue
        yield Hit(
            case_id,
            unit_id,
            {
                "accepted_on": str(accepted),
                "due_date": str(due),
                "decided_on": str(decided),
                "extended": extended,
                "extension_signed": approved,
            },
        )


# --- Amounts -----------------------------------------------------------------------------


class Standards:
    """The standards and county rules in force, loaded once (a few dozen rows)."""

    def __init__(self) -> None:
        self.standards: dict[tuple[str, str], list[PolicyStandard]] = defaultdict(list)
        for standard in PolicyStandard.objects.order_by("-effective_from", "-id"):
            self.standards[(standard.kind, standard.area)].append(standard)
        self.rules = list(CountyRules.objects.order_by("-effective_from"))
        self.defaults: CountyRules | None = None

    def standard(self, kind: str, area: str, day: date) -> PolicyStandard | None:
        return next((s for s in self.standards[(kind, area)] if s.effective_from <= day), None)

    def county_rules(self, day: date) -> CountyRules:
        found = next((r for r in self.rules if r.effective_from <= day), None)
        if found is None:
            # National defaults; one instance serves every row.
            if self.defaults is None:
                self.defaults = CountyRules(effective_from=day)
            found = self.defaults
        return found


def recompute_amount(
    assessment: dict[str, Any], *, kind: str, area: str, standards: Standards
) -> tuple[Decimal, dict[str, Any]]:
    """The monthly amount from a stored assessment and the standards in force on its basis date."""
    basis = assessment["basis_date"]
    rules = standards.county_rules(basis)
    base_kind = StandardKind.TEKUN_BASIC if kind == Kind.TEKUN else StandardKind.DIBAO
    standard = standards.standard(base_kind, area, basis)
    if standard is None:
        return Decimal("0.00"), {"standard": None}
    months = Decimal(assessment["period_months"] or 1)
    total, exempt = assessment["total_period_income"], assessment["exempt_period_income"]
    counted_period = (
        Decimal(total) - Decimal(exempt or "0")
        if total is not None
        else assessment["counted_monthly_income"] * months
    )
    size = assessment["household_size"]
    basis_info = {"standard": str(standard.amount), "standard_from": str(standard.effective_from)}
    if counted_period >= standard.amount * size * months:
        return Decimal("0.00"), {**basis_info, "eligible": False}
    if kind == Kind.TEKUN:
        care_kind = CARE_STANDARD_KIND.get(assessment["care_tier"])
        care = standards.standard(care_kind, area, basis) if care_kind else None
        exact = standard.amount + (care.amount if care else Decimal("0"))
        basis_info["care"] = str(care.amount) if care else "0"
    else:
        exact = (standard.amount * size * months - counted_period) / months
    return round_amount(exact, rules.rounding), {**basis_info, "rounding": rules.rounding}


def amount_mismatch(cases: QuerySet[Case]) -> Iterator[Hit]:
    """A paid case's stored amount equals the amount recomputed from its latest assessment."""
    standards = Standards()
    paying = cases.filter(
        state__in=[State.APPROVED, *LIVE_PAYMENT_STATES],
        kind__in=[Kind.DIBAO, Kind.TEKUN],
        monthly_amount__isnull=False,
    )
    rows = (
        IncomeAssessment.objects.filter(case__in=paying)
        .order_by("case_id", "-id")
        .values(
            "id",
            "case_id",
            "case__unit_id",
            "case__kind",
            "case__area",
            "case__monthly_amount",
            "basis_date",
            "period_months",
            "household_size",
            "counted_monthly_income",
            "care_tier",
            "amount",
            total_period_income=KT("working__total_period_income"),
            exempt_period_income=KT("working__exempt_period_income"),
        )
    )
    previous = None
    for row in rows.iterator(chunk_size=CHUNK):
        if row["case_id"] == previous:
            continue  # an older, superseded assessment
        previous = row["case_id"]
        expected, basis = recompute_amount(
            row, kind=row["case__kind"], area=row["case__area"], standards=standards
        )
        stored = row["case__monthly_amount"]
        if stored != expected:
            yield Hit(
                row["case_id"],
                row["case__unit_id"],
                {
                    "stored": str(stored),
                    "recomputed": str(expected),
                    "assessment": row["id"],
                    "assessment_amount": str(row["amount"]),
                    **basis,
                },
            )


# --- Beneficiaries -------------------------------------------------------------------------

LIVE_STATES = (State.APPROVED, *LIVE_PAYMENT_STATES)


def duplicate_person(cases: QuerySet[Case]) -> Iterator[Hit]:
    """One person (one ID number) in two live cases, or a household in two units' live cases."""
    live = Case.objects.filter(state__in=LIVE_STATES)
    doubled_households = (
        live.values("household_id").annotate(n=Count("id")).filter(n__gt=1).values("household_id")
    )
    doubled_applicants = (
        live.values("applicant_id").annotate(n=Count("id")).filter(n__gt=1).values("applicant_id")
    )
    rows = (
        live.filter(Q(household_id__in=doubled_households) | Q(applicant_id__in=doubled_applicants))
        .order_by("id")
        .values_list("id", "unit_id", "household_id", "applicant_id", "number", "unit__name")
    )
    groups: dict[tuple[str, int], list[tuple]] = defaultdict(list)
    for row in rows.iterator(chunk_size=CHUNK):
        groups[("household", row[2])].append(row)
        groups[("applicant", row[3])].append(row)
    others: dict[int, dict[int, tuple]] = defaultdict(dict)
    for group in groups.values():
        for row in group:
            others[row[0]].update({r[0]: r for r in group if r[0] != row[0]})
    doubled = [case_id for case_id, rows_ in others.items() if rows_]
    in_scope = set(cases.filter(id__in=doubled).values_list("id", "unit_id"))
    for case_id, unit_id in sorted(in_scope):
        group = others[case_id].values()
        yield Hit(
            case_id,
            unit_id,
            {
                "others": [{"case": r[4], "unit": r[5]} for r in group],
                "units": len({unit_id, *(r[1] for r in group)}),
            },
        )


DEFAULT_AGE_RULES: dict[str, dict[str, Any]] = {
    # 特困人员认定办法 (民发〔2021〕43号): under 16, 60 or over, or severely disabled. The
    # disability grades stand in for the national list (intellectual/mental 1–3, physical 1–2,
    # visual 1), which the records do not distinguish by type.
    Kind.TEKUN: {"minor_under": 16, "elderly_from": 60, "disability_grades": [1, 2, 3]},
}


def age_rules() -> dict[str, dict[str, Any]]:
    """The county's age rules per kind: settings.SUPERVISION_AGE_RULES, else the defaults."""
    return getattr(settings, "SUPERVISION_AGE_RULES", None) or DEFAULT_AGE_RULES


def _age(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def age_rule(cases: QuerySet[Case]) -> Iterator[Hit]:
    """The beneficiary of a kind with an age rule meets it on the day of the decision."""
    for kind, rule in age_rules().items():
        rows = (
            _decided(cases)
            .filter(kind=kind, outcome=Outcome.APPROVE, decided_on__isnull=False)
            .exclude(applicant__disability_grade__in=rule.get("disability_grades", []))
            .values_list("id", "unit_id", "decided_on", "applicant__birth_date")
        )
        for case_id, unit_id, decided, birth in rows.iterator(chunk_size=CHUNK):
            age = _age(birth, decided)
            if age < rule.get("minor_under", 0) or age >= rule.get("elderly_from", 10**3):
                continue
            yield Hit(
                case_id, unit_id, {"age_at_decision": age, "decided_on": str(decided), "rule": rule}
            )
        yield from _imported_age_hits(cases, kind, rule)


def _imported_age_hits(cases: QuerySet[Case], kind: str, rule: dict[str, Any]) -> Iterator[Hit]:
    """An imported case has no decision of its own: its age is taken on the month its payment
    began in the old ledger (the entitlement's start), else on the day it was imported."""
    rows = (
        cases.filter(imported=True, kind=kind, state__in=LIVE_STATES)
        .exclude(applicant__disability_grade__in=rule.get("disability_grades", []))
        .values_list(
            "id", "unit_id", "entitlement__start_month", "submitted_at", "applicant__birth_date"
        )
    )
    for case_id, unit_id, start, imported_at, birth in rows.iterator(chunk_size=CHUNK):
        day = start or timezone.localtime(imported_at).date()
        age = _age(birth, day)
        if age < rule.get("minor_under", 0) or age >= rule.get("elderly_from", 10**3):
            continue
        yield Hit(
            case_id,
            unit_id,
            {"age_at_decision": age, "decided_on": str(day), "imported": True, "rule": rule},
        )


def publicity_short(cases: QuerySet[Case]) -> Iterator[Hit]:
    """The latest publicity of a decided case lasted at least the county's publicity days."""
    standards = Standards()
    rows = (
        Publicity.objects.filter(case__in=_decided(cases))
        .order_by("case_id", "-id")
        .values_list("case_id", "case__unit_id", "starts_on", "ends_on")
    )
    previous = None
    for case_id, unit_id, starts, ends in rows.iterator(chunk_size=CHUNK):
        if case_id == previous:
            continue
        previous = case_id
        required = standards.county_rules(starts).publicity_days
        days = (ends - starts).days + 1
        if days < required:
            yield Hit(
                case_id,
                unit_id,
                {
                    "starts_on": str(starts),
                    "ends_on": str(ends),
                    "days": days,
                    "required": required,
                },
            )


RULES: dict[str, Callable[[QuerySet[Case]], Iterator[Hit]]] = {
    Rule.SIGNATURE_ORDER: signature_order,
    Rule.STAGE_MISSING: stage_missing,
    Rule.MATERIAL_MISSING: material_missing,
    Rule.DECIDED_LATE: decided_late,
    Rule.AMOUNT_MISMATCH: amount_mismatch,
    Rule.DUPLICATE_PERSON: duplicate_person,
    Rule.AGE_RULE: age_rule,
    Rule.PUBLICITY_SHORT: publicity_short,
}
