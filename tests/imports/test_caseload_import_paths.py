"""New households are written set-based (COPY and INSERT … SELECT), known ones through the
recorded services: two files, the second changing some households, must leave exactly the
rows a township would expect, household by household."""

from __future__ import annotations

import io

from django.db import transaction

from cases.models import Case, CaseEvent, Household, Person
from disbursement.imports import write as caseload_import
from disbursement.models import Entitlement, EntitlementChange, ReviewSchedule

from ..factories import unique_id_number
from .conftest import csv_file, household, row

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


def imported(caseload, files_) -> dict:
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


def by_household(written: dict) -> dict:
    """The written rows that matter to the township, keyed by 户编号."""
    out = {}
    for h in written["households"]:
        key = h["import_key"]
        case = next(c for c in written["cases"] if c["household"] == key)
        entitlement = next((e for e in written["entitlements"] if e["household"] == key), None)
        out[key] = {
            "people": sorted(
                (p["name"], p["relation"], p["left_on"] is None)
                for p in written["people"]
                if p["household"] == key
            ),
            "case": (
                case["kind"],
                case["area"],
                case["care_tier"],
                str(case["monthly_amount"]),
                case["state"],
            ),
            "events": sorted(e["action"] for e in written["events"] if e["case"] == case["number"]),
        }
        if entitlement is not None:
            out[key]["entitlement"] = (
                str(entitlement["monthly_amount"]),
                entitlement["category"],
                str(entitlement["start_month"]),
                entitlement["holder_name"],
                entitlement["bank_name"],
            )
            out[key]["changes"] = sorted(
                (c["kind"], str(c["old_amount"]), str(c["new_amount"]))
                for c in written["changes"]
                if c["entitlement"] == case["number"]
            )
            out[key]["schedule"] = next(
                (s["rule"], str(s["last_review_on"]), str(s["next_review_on"]))
                for s in written["schedules"]
                if s["entitlement"] == case["number"]
            )
    return out


BANK = "中国农业银行磴口县支行"


def paid(amount, category, *, bank=BANK, schedule=("stable", "2025-06-30", "2026-06-30")):
    """A household paid from its start month (2024-01), to the head unless told otherwise."""
    return {
        "entitlement": (amount, category, "2024-01-01", "张三", bank),
        "changes": [("start", "0.00", amount)],
        "schedule": schedule,
    }


HEAD = ("张三", "head", True)
EXPECTED = {
    # Three members, one left in the later file, whose amount also went down; irregular income.
    "H1": {
        # The case keeps the amount decided at its import (the database refuses to rewrite a
        # decided amount); the second file's lower amount lives in the entitlement and its change.
        "case": ("dibao", "rural", "", "1500.00", "in_payment"),
        "events": ["import_adjusted", "import_members_left", "imported"],
        "people": [("张1", "child", True), ("张2", "child", False), HEAD],
        **paid("1300.00", "dibao_rural", schedule=("volatile", "2025-06-30", "2025-12-30")),
        "changes": [("decrease", "1500.00", "1300.00"), ("start", "0.00", "1500.00")],
    },
    # Tekun without a last review: reviewed a year after the start month.
    "H2": {
        "case": ("tekun", "rural", "partial", "1515.00", "in_payment"),
        "events": ["imported"],
        "people": [HEAD],
        **paid("1515.00", "tekun_partial", schedule=("stable", "2024-01-01", "2025-01-01")),
    },
    # A child joined in the later file.
    "H3": {
        "case": ("dibao", "urban", "", "800.00", "in_payment"),
        "events": ["import_members_joined", "imported"],
        "people": [HEAD, ("王新", "child", True)],
        **paid("800.00", "dibao_urban"),
    },
    # Marginal and paid nothing: a case, no entitlement.
    "H4": {
        "case": ("marginal", "rural", "", "0.00", "in_payment"),
        "events": ["imported"],
        "people": [HEAD],
    },
    "H6": {
        "case": ("dibao", "rural", "", "1000.00", "in_payment"),
        "events": ["imported"],
        "people": [("张1", "child", True), HEAD],
        **paid("1000.00", "dibao_rural"),
    },
    # The head has no account: the spouse's social security card is paid.
    "H7": {
        "case": ("dibao", "rural", "", "900.00", "in_payment"),
        "events": ["imported"],
        "people": [HEAD, ('李"四,\t五', "spouse", True)],
        **paid("900.00", "dibao_rural", bank="某社保卡"),
    },
    "H8": {
        "case": ("dibao", "rural", "", "600.00", "in_payment"),
        "events": ["imported"],
        "people": [HEAD],
        **paid("600.00", "dibao_rural"),
    },
    # New in the later file.
    "H9": {
        "case": ("dibao", "rural", "", "650.00", "in_payment"),
        "events": ["imported"],
        "people": [HEAD],
        **paid("650.00", "dibao_rural"),
    },
}


def test_two_files_leave_the_expected_rows(caseload):
    written = imported(caseload, files())

    assert sorted(h["import_key"] for h in written["households"]) == [
        "H1",
        "H2",
        "H3",
        "H4",
        "H6",
        "H7",
        "H8",
        "H9",
    ]
    assert len(written["entitlements"]) == 7  # not the marginal household paid nothing
    assert {c["number"][-5:] for c in written["cases"]} == {f"{n:05d}" for n in range(1, 9)}
    assert len(written["imported_at"]) == 8 and all(written["imported_at"])
    assert by_household(written) == EXPECTED
