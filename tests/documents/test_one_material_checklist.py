"""The materials checklist is one rule: the case page, the archive's completeness check and
the proposal's preconditions say the same thing about the same case."""

from __future__ import annotations

import pytest

from cases.documents.archive import completeness
from cases.materials import material_checklist, materials_missing
from cases.models import Kind, MaterialRequirement, State

from .builders import make_case


@pytest.fixture
def checklist(db):
    made = [
        ("application", "社会救助申请书", False, True),
        ("declaration", "社会救助诚信声明", False, True),
        ("id_card", "居民身份证", True, True),
        ("disability", "残疾证", False, False),
    ]
    return [
        MaterialRequirement.objects.create(
            kind=Kind.DIBAO, code=code, name=name, platform_supplied=platform, required=required
        )
        for code, name, platform, required in made
    ]


def test_a_signed_consent_stands_for_the_declaration_on_the_case_page_and_in_the_archive(
    people, checklist, login
):
    case = make_case(people, State.AUTHORIZED)  # the consent is recorded, no scan uploaded

    archive_rows = {row.label: row for row in completeness(case) if row.group == "申报材料"}
    html = login(people.handler).get(f"/cases/{case.pk}/").content.decode()

    assert materials_missing(case) == ["社会救助申请书"]
    assert not archive_rows["社会救助申请书"].present
    assert archive_rows["社会救助诚信声明"].present
    assert "居民身份证" not in archive_rows and "残疾证" not in archive_rows
    assert html.count("✘ 缺") == 1


def test_before_the_consent_both_ask_for_the_declaration(people, checklist):
    case = make_case(people, State.ACCEPTED)

    rows = {row.name: row for row in material_checklist(case)}
    archive_missing = [r.label for r in completeness(case) if not r.present]

    assert rows["社会救助诚信声明"].missing and rows["社会救助申请书"].missing
    assert not rows["居民身份证"].missing and rows["居民身份证"].note.startswith("政务平台")
    assert archive_missing == materials_missing(case) == ["社会救助申请书", "社会救助诚信声明"]


def test_the_countys_system_check_applies_the_same_rule_to_decided_cases(people, checklist):
    from cases.models import Case
    from supervision.checks import material_missing

    case = make_case(people, State.APPROVED)  # consent recorded, nothing uploaded

    hits = {hit.case_id: hit for hit in material_missing(Case.objects.all())}

    assert hits[case.pk].evidence["missing"] == materials_missing(case) == ["社会救助申请书"]
