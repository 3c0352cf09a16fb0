import io
import tracemalloc
import zipfile

from openpyxl import Workbook

from dengkou_aid.lib.spreadsheets import read_table

HEADER = ["姓名", "身份证号", "金额"]
SHEET_PATH = "xl/worksheets/sheet1.xml"


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def big_xlsx(rows: int) -> bytes:
    """A workbook whose first sheet has `rows` data rows, built without openpyxl's slow writer."""
    template = io.BytesIO()
    Workbook().save(template)
    lines = [
        f'<row r="1">{"".join(inline(f"{c}1", h) for c, h in zip("ABC", HEADER, strict=True))}</row>'
    ]
    for n in range(2, rows + 2):
        lines.append(
            f'<row r="{n}">{inline(f"A{n}", "张三")}{inline(f"B{n}", f"{n:018d}")}<c r="C{n}"><v>{n}.5</v></c></row>'
        )
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(lines)}</sheetData></worksheet>"
    )
    output = io.BytesIO()
    with (
        zipfile.ZipFile(template) as source,
        zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            target.writestr(item, sheet if item.filename == SHEET_PATH else source.read(item))
    return output.getvalue()


def big_gbk_csv(rows: int) -> bytes:
    body = "".join(f"张三,{n:018d},{n}.5\r\n" for n in range(rows))
    return (",".join(HEADER) + "\r\n" + body).encode("gbk")


def peak_while_reading(data: bytes) -> tuple[int, int]:
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_table(io.BytesIO(data), HEADER))
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reading_xlsx_keeps_memory_flat_as_rows_grow():
    small_count, small_peak = peak_while_reading(big_xlsx(200))
    large_count, large_peak = peak_while_reading(big_xlsx(6_000))
    assert (small_count, large_count) == (200, 6_000)
    # openpyxl's own iteration keeps about 80 bytes a row: 460 KB more here.
    assert large_peak - small_peak < 150_000


def test_reading_csv_keeps_memory_flat_as_rows_grow():
    # Both files are larger than the 64 KiB chunk the encoding check reads at a time.
    # Past the first few buffers the peak must not move: 20,000 and 100,000 rows alike.
    small_count, small_peak = peak_while_reading(big_gbk_csv(20_000))
    large_count, large_peak = peak_while_reading(big_gbk_csv(100_000))
    assert (small_count, large_count) == (20_000, 100_000)
    assert large_peak - small_peak < 100_000


def test_the_generated_workbook_reads_back_row_by_row():
    rows = list(read_table(io.BytesIO(big_xlsx(3)), HEADER))
    assert rows[0] == (2, {"姓名": "张三", "身份证号": "000000000000000002", "金额": "2.5"})
    assert [line for line, _ in rows] == [2, 3, 4]
