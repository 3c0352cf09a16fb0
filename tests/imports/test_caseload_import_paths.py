"""On PostgreSQL new households are written set-based (COPY and INSERT … SELECT); elsewhere
with bulk_create. Both must leave exactly the same rows, so the same files are imported both
ways and every written field compared, ids and timestamps aside."""

from __future__ import annotations

import io

import pytest
from django.db import connection, transaction

from cases.models import Case, CaseEvent, Household, Person
from disbursement import caseload_import
from disbursement.models import Entitlement, EntitlementChange, ReviewSchedule

from ..factories import unique_id_number
from .conftest import csv_file, household, row

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the set-based write runs on PostgreSQL only"
)

TIMES = {"created_at", "updated_at", "submitted_at", "at"}
NATURAL_KEYS = {
    Household: lambda h: h.import_key,
    Person: lambda p: p.id_hash,
    Case: lambda c: c.number,
    Entitlement: lambda e: e.case.number,
}


def files():
    """A first file with every kind of household, then a later one that changes some."""
    heads = {no: unique_id_number() for no in ("H1", "H3", "H6", "H7")}
    h1 = household("H1", 3, amount="1500", id_number=heads["H1"], irregular="是")
    h6 = household("H6", 2, amount="1000", id_number=heads["H6"])
    h7 = [
        row("H7", size=2, amount="900", account="", bank="", id_number=heads["H7"]),
        row("H7", size=2, amount="900", relation="配偶", name='李"四,\t五', bank="某社保卡"),
    ]
    first = [
        *h1,
        row("H2", kind="特困", tier="半护理", amount="1515", review=""),
        row("H3", kind="城市低保", amount="800", id_number=heads["H3"]),
        row("H4", kind="低保边缘", amount="0", account="", bank=""),
        *household("H5", 2, amount="1000")[:1],  # a member short: held back
        h6[0],
        row("H8", amount="600"),  # completes before H6: written first
        h6[1],
        *h7,
    ]
    later = [
        *[[*r[:8], "2", "1300", *r[10:]] for r in h1[:2]],  # a member less, a new amount
        first[3],
        row("H3", kind="城市低保", amount="800", id_number=heads["H3"], size=2),
        row("H3", kind="城市低保", amount="800", size=2, relation="子女", name="王新", account=""),
        row("H9", amount="650"),
    ]
    return first, later


def imported(caseload, files_, *, set_based: bool, monkeypatch) -> dict:
    monkeypatch.setattr(caseload_import, "SET_BASED", set_based)
    assert caseload_import.set_based() is set_based
    with transaction.atomic():
        for number, rows in enumerate(files_):
            data = csv_file(rows).getvalue()
            caseload_import.import_caseload(
                open_source=lambda data=data: io.BytesIO(data),
                file_name=f"第{number}批.csv",
                sha256="test",
                batch_id=None,
                scope=caseload.unit_a,
                actor=caseload.handler,
            )
        written = snapshot()
        transaction.set_rollback(True)
    return written


def snapshot() -> dict:
    events = CaseEvent.objects.all()
    return {
        "households": rows_of(Household.objects.all()),
        "people": rows_of(Person.objects.all()),
        "cases": rows_of(Case.objects.all()),
        "events": rows_of(events),
        "imported_at": [e.data["imported_at"] for e in events.filter(seq=1)],
        "entitlements": rows_of(Entitlement.objects.all()),
        "changes": rows_of(EntitlementChange.objects.all()),
        "schedules": rows_of(ReviewSchedule.objects.all()),
    }


def rows_of(queryset) -> list[dict]:
    rows = []
    for obj in queryset:
        values = {}
        for field in obj._meta.concrete_fields:
            if field.primary_key:
                continue
            value = getattr(obj, field.attname)
            if field.name in TIMES:
                assert value is not None, field.name
                continue
            if field.is_relation and field.related_model in NATURAL_KEYS:
                related = getattr(obj, field.name)
                value = related and NATURAL_KEYS[field.related_model](related)
            if field.name == "data":
                value = {k: v for k, v in value.items() if k != "imported_at"}
            values[field.name] = value
        rows.append(values)
    return sorted(rows, key=repr)


def test_the_set_based_write_leaves_the_same_rows_as_bulk_create(caseload, monkeypatch):
    files_ = files()

    by_sets = imported(caseload, files_, set_based=True, monkeypatch=monkeypatch)
    by_instances = imported(caseload, files_, set_based=False, monkeypatch=monkeypatch)

    assert sorted(h["import_key"] for h in by_sets["households"]) == [
        "H1",
        "H2",
        "H3",
        "H4",
        "H6",
        "H7",
        "H8",
        "H9",
    ]
    assert len(by_sets["entitlements"]) == 7  # not the marginal household paid nothing
    assert {c["number"][-5:] for c in by_sets["cases"]} == {f"{n:05d}" for n in range(1, 9)}
    assert len(by_sets["imported_at"]) == 8 and all(by_sets["imported_at"])
    by_sets.pop("imported_at"), by_instances.pop("imported_at")
    assert by_sets == by_instances
