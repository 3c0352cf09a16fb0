import io
import zipfile
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from openpyxl import Workbook

from dengkou_aid.lib.spreadsheets import Sheet, TableError, overflow_reason, read_table, write_xlsx

HEADER = ["姓名", "身份证号", "金额"]
CSV_TEXT = (
    "姓名,身份证号,金额\r\n张三,150822198001010017,1234.50\r\n\r\n李四,150822198001010025,\r\n"
)
EXPECTED = [
    (2, {"姓名": "张三", "身份证号": "150822198001010017", "金额": "1234.50"}),
    (4, {"姓名": "李四", "身份证号": "150822198001010025", "金额": ""}),
]


def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_it_reads_a_chinese_csv_in_each_accepted_encoding(encoding):
    data = CSV_TEXT.encode(encoding)
    assert list(read_table(io.BytesIO(data), HEADER)) == EXPECTED


def test_it_reads_a_gbk_csv_upload_whose_chinese_starts_late():
    # The first 64 KiB are plain ASCII and valid UTF-8; the GBK bytes come after.
    filler = "".join(f"R{n},{n:018d},1\r\n" for n in range(4000))
    data = (
        "姓名,身份证号,金额\r\n".encode("gbk")
        + filler.encode("ascii")
        + "王五,1,2\r\n".encode("gbk")
    )
    upload = SimpleUploadedFile("名单.csv", data, content_type="text/csv")
    rows = list(read_table(upload, HEADER))
    assert rows[-1] == (4002, {"姓名": "王五", "身份证号": "1", "金额": "2"})


def test_line_numbers_follow_the_file_with_quoted_line_breaks():
    data = '姓名,身份证号,金额\n"张\n三",1,2\n李四,3,4\n'.encode()
    assert [line for line, _ in read_table(io.BytesIO(data), HEADER)] == [2, 4]


def test_it_reads_xlsx_and_turns_cells_into_text():
    data = xlsx_bytes(
        [
            HEADER,
            ["张三", "150822198001010017", 1234.5],
            [None, None, None],
            ["李四", 42, datetime(2026, 12, 1)],
        ]
    )
    assert list(read_table(io.BytesIO(data), HEADER)) == [
        (2, {"姓名": "张三", "身份证号": "150822198001010017", "金额": "1234.5"}),
        (4, {"姓名": "李四", "身份证号": "42", "金额": "2026-12-01"}),
    ]


def test_it_reads_what_write_xlsx_wrote(tmp_path):
    path = tmp_path / "roster.xlsx"
    write_xlsx(path, [Sheet("花名册", HEADER, [["张三", "150822198001010017", 12]])])
    assert list(read_table(path, HEADER)) == [
        (2, {"姓名": "张三", "身份证号": "150822198001010017", "金额": "12"})
    ]
    assert next(read_table(str(path), HEADER))[0] == 2


def test_the_type_comes_from_the_content_not_the_name():
    upload = SimpleUploadedFile("名单.csv", xlsx_bytes([HEADER, ["张三", "1", "2"]]))
    assert next(read_table(upload, HEADER))[1]["姓名"] == "张三"


def test_it_reads_a_temporary_upload_and_leaves_it_open():
    upload = TemporaryUploadedFile("名单.csv", "text/csv", 0, "utf-8")
    upload.write(CSV_TEXT.encode("gbk"))
    upload.size = upload.tell()
    assert list(read_table(upload, HEADER)) == EXPECTED
    assert not upload.closed
    upload.close()


def test_header_columns_may_come_in_any_order_with_surrounding_spaces():
    data = " 金额 ,姓名,身份证号,,\n1,张三,2,,\n".encode()
    assert list(read_table(io.BytesIO(data), HEADER)) == [
        (2, {"金额": "1", "姓名": "张三", "身份证号": "2"})
    ]


def test_it_names_missing_and_unexpected_columns():
    data = "姓名,身份证,备注\n张三,1,2\n".encode()
    with pytest.raises(TableError) as error:
        read_table(io.BytesIO(data), HEADER)
    assert "缺少列：身份证号、金额" in str(error.value)
    assert "多余列：身份证、备注" in str(error.value)


def test_it_names_duplicated_columns():
    with pytest.raises(TableError, match="重复列：姓名"):
        read_table(io.BytesIO("姓名,身份证号,金额,姓名\n".encode()), HEADER)


def test_the_header_is_checked_before_the_first_row_is_asked_for():
    with pytest.raises(TableError, match="缺少列"):
        read_table(io.BytesIO(b"a,b\n1,2\n"), HEADER)


def test_a_row_longer_than_the_header_comes_with_the_reason_to_refuse_it():
    rows = read_table(io.BytesIO("姓名,身份证号,金额\n张三,1,2\n李四,1,2,多余\n".encode()), HEADER)
    line, values = next(rows)
    assert line == 2 and overflow_reason(values) is None
    line, values = next(rows)
    assert line == 3 and values["姓名"] == "李四"
    assert "列数多于表头" in overflow_reason(values)


def test_an_empty_file_is_refused():
    with pytest.raises(TableError, match="文件为空"):
        read_table(io.BytesIO(b""), HEADER)
    with pytest.raises(TableError, match="没有表头"):
        read_table(io.BytesIO(b"\r\n,,\r\n"), HEADER)
    with pytest.raises(TableError, match="没有表头"):
        read_table(io.BytesIO(xlsx_bytes([])), HEADER)


def test_a_header_only_file_has_no_rows():
    assert list(read_table(io.BytesIO("姓名,身份证号,金额\n".encode()), HEADER)) == []


def test_a_file_over_the_limit_is_refused():
    data = CSV_TEXT.encode()
    with pytest.raises(TableError, match="文件过大：超过50B"):
        read_table(io.BytesIO(data), HEADER, max_bytes=50)
    upload = SimpleUploadedFile("big.csv", b"x" * 10)
    upload.size = 51 * 1024 * 1024  # the declared size is enough to refuse
    with pytest.raises(TableError, match="文件过大：超过50MB"):
        read_table(upload, HEADER)


def test_files_that_are_not_spreadsheets_are_refused():
    with pytest.raises(TableError, match=r"不支持旧版 \.xls"):
        read_table(io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600), HEADER)
    with pytest.raises(TableError, match="无法识别的文件"):
        read_table(io.BytesIO(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), HEADER)
    with pytest.raises(TableError, match="无法识别的文件"):
        read_table(io.BytesIO("姓名,身份证号,金额\n".encode("utf-16")), HEADER)


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(TableError, match=r"不是有效的 \.xlsx 文件"):
        read_table(io.BytesIO(buffer.getvalue()), HEADER)


def test_an_unknown_text_encoding_is_refused():
    data = "姓名,身份证号,金额\n".encode() + b"\x81\x30\xff\xfe\x80\n"
    with pytest.raises(TableError, match="编码无法识别"):
        read_table(io.BytesIO(data), HEADER)


def test_a_workbook_with_a_damaged_sheet_is_refused_while_reading():
    source = io.BytesIO(xlsx_bytes([HEADER, ["张三", "1", "2"]]))
    damaged = io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(damaged, "w") as copy:
        for item in original.infolist():
            content = original.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]
            copy.writestr(item, content)
    with pytest.raises(TableError, match="工作表内容已损坏"):
        list(read_table(io.BytesIO(damaged.getvalue()), HEADER))
