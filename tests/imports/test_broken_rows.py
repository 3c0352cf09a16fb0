"""Broken rows a township's old spreadsheet really has: each is one line error, never a 500."""

from __future__ import annotations

from disbursement.imports.preview import check_caseload

from .conftest import csv_file, row


def test_a_blank_start_month_and_a_short_row_are_each_one_line_error(caseload):
    rows = [
        row("H1", start=""),  # line 2: 起始发放年月 left blank
        row("H2")[:6],  # line 3: the row stops after the name
        row("H3", amount="四千"),  # line 4: the amount in words
        row("H4", start="2024年13月"),  # line 5: no such month
        row("H5", amount="600"),  # line 6: good
    ]
    check = check_caseload(csv_file(rows), scope=caseload.unit_a)

    lines = sorted(e["line"] for e in check.errors)
    assert lines == [2, 3, 4, 5]
    assert all(e["reason"] for e in check.errors)
    assert check.counts()["households_create"] == 1  # H5 only
