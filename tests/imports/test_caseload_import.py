"""The import: what it creates, that the same file changes nothing, that changes go through
recorded adjustments, that a failure writes nothing, and that the first roster pays exactly
the imported households."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest

from cases.documents.archive import archive_sections
from cases.models import Case, CaseEvent, Household, Person, State
from dengkou_aid.lib.crypto import keyed_hash
from disbursement.imports import write as caseload_import
from disbursement.imports.write import import_caseload
from disbursement.models import (
    ChangeKind,
    ChangeSource,
    Entitlement,
    EntitlementChange,
    ImportBatch,
    ReviewRule,
    ReviewSchedule,
)
from disbursement.services import generate_roster, next_month

from ..factories import CaseFactory, unique_id_number
from .conftest import confirm, csv_file, household, latest_batch, row, upload


def run(caseload, rows, *, name="caseload.csv", actor=None):
    data = csv_file(rows).getvalue()
    return import_caseload(
        open_source=lambda: io.BytesIO(data),
        file_name=name,
        sha256="test",
        batch_id=None,
        scope=caseload.unit_a,
        actor=actor or caseload.handler,
    )


def three_households():
    head_id = unique_id_number()
    return [
        *household("H1", 3, amount="1500", id_number=head_id, irregular="是"),
        row("H2", kind="特困", tier="半护理", amount="1515", review=""),
        row("H3", kind="城市低保", village="样例嘎查A", amount="800"),
    ]


def test_confirming_a_preview_imports_households_cases_and_entitlements(caseload, login):
    client = login(caseload.handler)
    upload(client, "caseload", csv_file(three_households(), name="巴彦高勒镇在保.csv"))
    page = confirm(client, latest_batch())

    assert "新增 3 户" in page.content.decode()
    assert latest_batch().state == ImportBatch.State.IMPORTED
    case = Case.objects.get(household__import_key="H1")
    assert case.state == State.IN_PAYMENT
    assert case.imported is True
    assert case.applicant.name == "张三"
    assert case.household.members.count() == 3
    first = case.events.order_by("seq").first()
    assert first.label == "存量导入"
    assert first.actor == caseload.handler
    assert first.data["file"] == "巴彦高勒镇在保.csv"
    assert first.data["lines"] == [2, 3, 4]
    opening = archive_sections(case)[0]
    assert opening.title == "存量导入记录"
    assert "巴彦高勒镇在保.csv" in opening.items[0].detail and "第2–4行" in opening.items[0].detail
    applied = CaseFactory(applicant__household__village=case.village)
    assert "import" not in [section.key for section in archive_sections(applied)]
    entitlement = case.entitlement
    assert entitlement.monthly_amount == Decimal("1500.00")
    assert entitlement.start_month == entitlement.amount_since == date(2024, 1, 1)
    assert entitlement.account_masked.endswith("5670")
    assert entitlement.changes.get().source == ChangeSource.IMPORT


def test_members_are_stored_with_encrypted_id_numbers_found_by_hash(caseload):
    rows = three_households()
    run(caseload, rows)

    person = Person.objects.get(id_hash=keyed_hash(rows[0][6]))
    assert person.id_number == rows[0][6]
    assert person.birth_date == date(1970, 1, 1)


def test_the_next_review_follows_the_rule_from_the_last_review(caseload):
    run(caseload, three_households())

    volatile = ReviewSchedule.objects.get(household__import_key="H1")
    assert volatile.rule == ReviewRule.VOLATILE
    assert volatile.last_review_on == date(2025, 6, 30)
    assert volatile.next_review_on == date(2025, 12, 30)
    tekun = ReviewSchedule.objects.get(household__import_key="H2")
    assert tekun.rule == ReviewRule.STABLE
    assert tekun.last_review_on == date(2024, 1, 1)  # no review yet: from the start month
    assert tekun.next_review_on == date(2025, 1, 1)


def test_importing_the_same_file_again_changes_nothing(caseload):
    rows = three_households()
    run(caseload, rows)
    before = (
        Household.objects.count(),
        Person.objects.count(),
        Case.objects.count(),
        CaseEvent.objects.count(),
        EntitlementChange.objects.count(),
    )

    result = run(caseload, rows)

    assert result.counts["households_unchanged"] == 3
    assert result.counts["created"] == result.counts["updated"] == 0
    after = (
        Household.objects.count(),
        Person.objects.count(),
        Case.objects.count(),
        CaseEvent.objects.count(),
        EntitlementChange.objects.count(),
    )
    assert after == before


def test_a_later_file_changes_the_amount_through_a_recorded_adjustment(caseload):
    rows = three_households()
    run(caseload, rows)
    later = [r.copy() for r in rows]
    for r in later[:3]:
        r[9] = "1400"

    result = run(caseload, later, name="十二月更新.csv")

    assert result.counts["adjusted"] == 1
    entitlement = Entitlement.objects.get(household__import_key="H1")
    change = entitlement.changes.order_by("-id").first()
    assert change.kind == ChangeKind.DECREASE
    assert (change.old_amount, change.new_amount) == (Decimal("1500.00"), Decimal("1400.00"))
    assert "十二月更新.csv" in change.reason
    assert entitlement.monthly_amount == Decimal("1400.00")
    assert entitlement.case.events.filter(action="import_adjusted").exists()


def test_a_later_file_with_a_member_more_and_a_member_less_records_both(caseload):
    rows = household("H1", 2, amount="1200")
    run(caseload, rows)
    newborn = row("H1", size=2, amount="1200", relation="子女", name="张小", account="")
    later = [rows[0], newborn]

    result = run(caseload, later)

    assert (result.counts["joined"], result.counts["left"]) == (1, 1)
    household_ = Household.objects.get(import_key="H1")
    assert sorted(household_.members.active().values_list("name", flat=True)) == ["张三", "张小"]
    gone = household_.members.get(name="张1")
    assert gone.left_on is not None
    actions = set(household_.cases.get().events.values_list("action", flat=True))
    assert {"import_members_joined", "import_members_left"} <= actions


def fail_after_first_writes(monkeypatch) -> list[str]:
    """Make the import fail once it has written something: at the cases, after the households."""
    written: list[str] = []
    real_insert = caseload_import.insert_select

    def fail_at_cases(cursor, model, *args, **kwargs):
        if model is Case:
            raise RuntimeError("disk full")
        written.append(model.__name__)
        return real_insert(cursor, model, *args, **kwargs)

    monkeypatch.setattr(caseload_import, "insert_select", fail_at_cases)
    return written


def test_a_failure_during_the_import_writes_nothing(caseload, monkeypatch):
    written = fail_after_first_writes(monkeypatch)

    with pytest.raises(RuntimeError):
        run(caseload, three_households())

    assert written  # households had been written before the failure
    assert not Household.objects.exists()
    assert not Person.objects.exists()
    assert not Case.objects.exists()
    assert not Entitlement.objects.exists()


def test_a_failed_import_batch_says_so_and_writes_nothing(caseload, login, monkeypatch):
    client = login(caseload.handler)
    upload(client, "caseload", csv_file(three_households()))
    fail_after_first_writes(monkeypatch)

    page = confirm(client, latest_batch())

    assert latest_batch().state == ImportBatch.State.FAILED
    assert "未写入任何数据" in page.content.decode()
    assert not Household.objects.exists()


def test_the_first_roster_after_an_import_pays_exactly_the_imported_households(caseload):
    run(caseload, three_households())

    roster = generate_roster(unit=caseload.unit_a, month=next_month(), actor=caseload.handler)

    paid = {line.household.import_key: line.amount for line in roster.lines.all()}
    assert paid == {
        "H1": Decimal("1500.00"),
        "H2": Decimal("1515.00"),
        "H3": Decimal("800.00"),
    }
    assert roster.total_amount == Decimal("3815.00")
