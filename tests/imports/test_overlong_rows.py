"""A row with more values than the header (an unquoted comma, say) is one bad row with its line
and reason; the rest of the file is previewed and imported as usual."""

from __future__ import annotations

from disbursement.imports.preview import check_caseload

from .conftest import csv_file, household, row


def test_an_overlong_row_holds_back_its_household_only(caseload):
    rows = [*household("H1", 2), row("H2"), [*row("H3"), "多出来的列"]]

    check = check_caseload(csv_file(rows), scope=caseload.unit_a)

    reasons = {e["line"]: e["reason"] for e in check.errors}
    assert "列数多于表头" in reasons[5]
    assert check.counts()["households_create"] == 2
    assert check.counts()["bad_rows"] == 1
