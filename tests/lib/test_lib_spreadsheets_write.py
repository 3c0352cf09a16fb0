import io
from datetime import UTC, datetime
from decimal import Decimal

from openpyxl import load_workbook

from dengkou_aid.lib.spreadsheets import MONEY_FORMAT, Sheet, write_xlsx

HEADER = ["姓名", "身份证号", "金额", "发放时间"]


def written(*sheets: Sheet):
    buffer = io.BytesIO()
    write_xlsx(buffer, sheets)
    buffer.seek(0)
    return load_workbook(buffer)


def roster(**overrides) -> Sheet:
    fields = {
        "title": "2026年12月花名册",
        "header": HEADER,
        "rows": [["张三", "150822198001010017", Decimal("1234.50"), None]],
        "totals_row": ["合计", "", Decimal("1234.50"), None],
    }
    return Sheet(**(fields | overrides))


def test_header_and_totals_are_bold_and_money_is_formatted():
    sheet = written(roster()).active
    assert [cell.value for cell in sheet[1]] == HEADER
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet["C2"].value == 1234.5
    assert sheet["C2"].number_format == MONEY_FORMAT
    assert not sheet["A2"].font.bold
    assert sheet["A3"].value == "合计"
    assert sheet["A3"].font.bold
    assert sheet["C3"].number_format == MONEY_FORMAT


def test_id_numbers_stay_text():
    sheet = written(roster()).active
    assert sheet["B2"].value == "150822198001010017"
    assert sheet["B2"].data_type == "s"


def test_print_settings_fit_a4_landscape_and_repeat_the_header():
    sheet = written(roster()).active
    assert sheet.page_setup.orientation == "landscape"
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToWidth == 1
    assert sheet.page_setup.fitToHeight == 0
    assert sheet.print_title_rows == "$1:$1"
    assert sheet.freeze_panes == "A2"


def test_column_widths_given_or_estimated_from_the_header():
    sheet = written(roster(column_widths=[8, 22, None])).active
    assert sheet.column_dimensions["A"].width == 8
    assert sheet.column_dimensions["B"].width == 22
    assert sheet.column_dimensions["C"].width >= 10
    assert sheet.column_dimensions["D"].width >= 12


def test_text_that_looks_like_a_formula_stays_text():
    sheet = written(roster(rows=[['=HYPERLINK("http://x","点我")', "", 0, None]])).active
    assert sheet["A2"].data_type == "s"
    assert sheet["A2"].value.startswith("=HYPERLINK")


def test_control_characters_are_dropped_and_aware_datetimes_become_local_time():
    paid_at = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    sheet = written(roster(rows=[["张\x07三", "", 0, paid_at]])).active
    assert sheet["A2"].value == "张三"
    assert sheet["D2"].value == datetime(2026, 12, 1, 10, 0)  # Asia/Shanghai


def test_several_sheets_with_titles_made_safe():
    workbook = written(
        roster(title="汇总"), roster(title="乡镇/苏木:明细[一]"), roster(title="很长" * 20)
    )
    assert workbook.sheetnames[:2] == ["汇总", "乡镇_苏木_明细_一_"]
    assert len(workbook.sheetnames[2]) == 31


def test_rows_are_consumed_lazily_from_a_generator(tmp_path):
    path = tmp_path / "big.xlsx"
    rows = (["张三", str(n), Decimal(n), None] for n in range(3_000))
    write_xlsx(path, [roster(rows=rows, totals_row=None)])
    sheet = load_workbook(path, read_only=True).worksheets[0]
    assert sum(1 for _ in sheet.iter_rows()) == 3_001
