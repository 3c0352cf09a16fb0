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


def test_a_file_with_every_kind_of_broken_row_gets_one_line_error_each(caseload):
    import csv
    import io

    from disbursement.imports.reading import HEADER

    good = row("H6", amount="600")
    misencoded = row("H4", name="王五")
    broken = [
        row("H1", start=""),  # line 2: blank 起始发放年月
        row("H2")[:6],  # line 3: short
        [*row("H3"), "多出来的列"],  # line 4: long
        None,  # line 5: pasted from a GBK file into this UTF-8 one
        row("H5", amount="四千"),  # line 6: the amount in words
        good,  # line 7
    ]

    def line(values) -> str:
        text = io.StringIO()
        csv.writer(text).writerow(values)
        return text.getvalue()

    data = line(HEADER).encode("utf-8")
    for values in broken:
        data += line(misencoded).encode("gbk") if values is None else line(values).encode("utf-8")
    file = io.BytesIO(data)
    file.name = "caseload.csv"

    check = check_caseload(file, scope=caseload.unit_a)

    reasons = {e["line"]: e["reason"] for e in check.errors}
    assert sorted(reasons) == [2, 3, 4, 5, 6]
    assert len(check.errors) == 5
    assert "起始发放年月" in reasons[2]
    assert "列数多于表头" in reasons[4]
    assert "编码" in reasons[5]
    assert "金额" in reasons[6]
    assert all("\\u" not in r and "Error" not in r for r in reasons.values())
    assert check.counts()["households_create"] == 1  # H6 only
