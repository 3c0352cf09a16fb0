"""Spreadsheets: streaming .xlsx export and row-by-row import of .xlsx and .csv files.

Both directions keep memory flat: export uses openpyxl's write-only mode; import
reads one row at a time (an incremental XML parse of the first worksheet, or csv over
a decoding stream).
"""

import codecs
import csv
import io
import os
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, BinaryIO
from xml.etree.ElementTree import ParseError

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles import Font
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

from dengkou_aid.lib.uploads import format_size

MONEY_FORMAT = "#,##0.00"
DEFAULT_MAX_BYTES = 50 * 1024 * 1024

_BOLD = Font(bold=True)
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls (and .doc)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_CHUNK = 64 * 1024
_BLANKS = " \t\r\n\u3000\ufeff"
_SURROGATE = re.compile("[\udc80-\udcff]")
_ROW_TAG = f"{{{SHEET_MAIN_NS}}}row"
_SHEET_DATA_TAG = f"{{{SHEET_MAIN_NS}}}sheetData"


class TableError(ValueError):
    """An uploaded table that cannot be read; the message is for the user, in Chinese."""


@dataclass(frozen=True)
class Sheet:
    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    totals_row: Sequence[Any] | None = None
    column_widths: Sequence[float | None] | None = None


# Writing ---------------------------------------------------------------------------


def write_xlsx(target: str | os.PathLike[str] | IO[bytes], sheets: Iterable[Sheet]) -> None:
    """Stream sheets into an .xlsx file: bold header repeated on each printed page, A4 landscape."""
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        _write_sheet(workbook, sheet)
    workbook.save(target)


def _write_sheet(workbook: Workbook, sheet: Sheet) -> None:
    worksheet = workbook.create_sheet(_sheet_title(sheet.title))
    # Write-only sheets take their layout before the first row is appended.
    widths = sheet.column_widths or [None] * len(sheet.header)
    for index, header in enumerate(sheet.header, start=1):
        width = widths[index - 1] if index - 1 < len(widths) else None
        worksheet.column_dimensions[get_column_letter(index)].width = width or _auto_width(header)
    worksheet.freeze_panes = "A2"
    worksheet.print_title_rows = "1:1"
    worksheet.page_setup.orientation = "landscape"
    worksheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    worksheet.page_setup.fitToWidth = 1
    worksheet.page_setup.fitToHeight = 0
    worksheet.sheet_properties.pageSetUpPr.fitToPage = True

    worksheet.append([_cell(worksheet, value, bold=True) for value in sheet.header])
    for row in sheet.rows:
        worksheet.append([_cell(worksheet, value) for value in row])
    if sheet.totals_row is not None:
        worksheet.append([_cell(worksheet, value, bold=True) for value in sheet.totals_row])


def _cell(worksheet: Any, value: Any, *, bold: bool = False) -> Any:
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    elif isinstance(value, datetime) and timezone.is_aware(value):
        # Excel has no time zones: show the local wall-clock time.
        value = timezone.localtime(value).replace(tzinfo=None)
    is_text_formula = isinstance(value, str) and value.startswith("=")
    if not (bold or is_text_formula or isinstance(value, Decimal)):
        return value
    cell = WriteOnlyCell(worksheet, value=value)
    if is_text_formula:
        # Text typed by a user must never become a live formula in someone's Excel.
        cell.data_type = "s"
    if isinstance(value, Decimal):
        cell.number_format = MONEY_FORMAT
    if bold:
        cell.font = _BOLD
    return cell


def _sheet_title(title: str) -> str:
    cleaned = _SHEET_TITLE_FORBIDDEN.sub("_", title).strip("'") or "Sheet"
    return cleaned[:31]


def _auto_width(header: str) -> float:
    # CJK characters are about two Latin characters wide.
    display = sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(header))
    return max(10, display + 4)


# Reading ---------------------------------------------------------------------------


def read_table(
    source: str | os.PathLike[str] | BinaryIO,
    expected_header: Sequence[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, {column: stripped text}) per non-empty data row; the header is line 1.

    The type comes from the content (an .xlsx file is a zip), not from the file name.
    Size, type, encoding and header are checked before this returns, so a TableError
    for them is raised by the call itself; a malformed row raises while iterating.
    """
    rows = _read_table(source, expected_header, max_bytes)
    next(rows)  # run the checks up to the header now
    return rows


def _read_table(
    source: str | os.PathLike[str] | BinaryIO, expected_header: Sequence[str], max_bytes: int
) -> Iterator[Any]:
    if isinstance(source, str | os.PathLike):
        with Path(source).open("rb") as handle:
            yield from _read_stream(handle, expected_header, max_bytes)
    else:
        yield from _read_stream(source, expected_header, max_bytes)


def _read_stream(stream: BinaryIO, expected_header: Sequence[str], max_bytes: int) -> Iterator[Any]:
    size = _stream_size(stream)
    if size == 0:
        raise TableError("文件为空")
    if size > max_bytes:
        raise TableError(f"文件过大：超过{format_size(max_bytes)}")
    stream.seek(0)
    head = stream.read(8)
    stream.seek(0)
    if head.startswith(_ZIP_MAGIC):
        rows = _xlsx_rows(stream)
    elif head.startswith(_OLE_MAGIC):
        raise TableError("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 后上传")
    else:
        rows = _csv_rows(stream)
    header = _read_header(rows, expected_header)
    yield None
    yield from _data_rows(rows, header)


def _stream_size(stream: BinaryIO) -> int:
    size = getattr(stream, "size", None)
    if isinstance(size, int):
        return size
    stream.seek(0, io.SEEK_END)
    return stream.tell()


def _read_header(
    rows: Iterator[tuple[int, list[str]]], expected_header: Sequence[str]
) -> list[str]:
    for _line_no, values in rows:
        if any(values):
            while not values[-1]:
                values.pop()
            _check_header(values, expected_header)
            return values
    raise TableError("文件为空：没有表头行")


# A row with more values than the header (often an unquoted comma) is a bad row, not a bad
# file: it is yielded with its surplus under this key, and the reader refuses that row alone.
OVERFLOW = "（表头以外的列）"
OVERFLOW_REASON = "该行的列数多于表头（可能含有未加引号的逗号）"


MISENCODED = "（编码有误的行）"
MISENCODED_REASON = (
    "该行的文字编码与文件其余各行不同（可能是从其他文件粘贴的GBK文字），无法读取，请重新录入该行"
)


def overflow_reason(values: dict[str, str]) -> str | None:
    """The reason to refuse a row read with more values than the header, or with bytes that
    are not in the file's encoding; None for a readable row."""
    if values.get(MISENCODED):
        return MISENCODED_REASON
    return OVERFLOW_REASON if values.get(OVERFLOW) else None


def _data_rows(
    rows: Iterator[tuple[int, list[str]]], header: list[str]
) -> Iterator[tuple[int, dict[str, str]]]:
    width = len(header)
    for line_no, values in rows:
        if not any(values):
            continue
        misencoded = any(_SURROGATE.search(v) for v in values)
        if misencoded:
            values = [_SURROGATE.sub("", v) for v in values]
        padded = values[:width] + [""] * (width - len(values))
        row = dict(zip(header, padded, strict=True))
        if misencoded:
            row[MISENCODED] = "1"
        surplus = [v for v in values[width:] if v]
        if surplus:
            row[OVERFLOW] = ",".join(surplus)
        yield line_no, row


def _check_header(header: list[str], expected_header: Sequence[str]) -> None:
    duplicated = sorted({name for name in header if header.count(name) > 1})
    missing = [name for name in expected_header if name not in header]
    unexpected = [name or "（空白列）" for name in header if name not in expected_header]
    problems = []
    if missing:
        problems.append("缺少列：" + "、".join(missing))
    if unexpected:
        problems.append("多余列：" + "、".join(unexpected))
    if duplicated:
        problems.append("重复列：" + "、".join(duplicated))
    if problems:
        raise TableError("表头不符合模板。" + "；".join(problems))


def _xlsx_rows(stream: BinaryIO) -> Iterator[tuple[int, list[str]]]:
    # openpyxl's read-only worksheets are bypassed: opening one parses a sheet that
    # lacks a <dimension> element (openpyxl's own exports) completely, and iterating
    # one keeps every emptied <row> element in the tree (about 80 bytes a row). This
    # relies on openpyxl internals (pinned to 3.1.x); the shared-strings table is
    # still loaded whole, so memory grows with the number of distinct strings only.
    try:
        reader = ExcelReader(stream, read_only=True, data_only=True)
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        target = _first_worksheet_path(reader)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        raise TableError("不是有效的 .xlsx 文件") from error
    try:
        with reader.archive.open(target) as source:
            parser = _RowParser(
                source,
                reader.shared_strings,
                data_only=True,
                epoch=reader.wb.epoch,
                date_formats=reader.wb._date_formats,
                timedelta_formats=reader.wb._timedelta_formats,
            )
            for row_number, cells in parser.parse():
                values = [""] * max((cell["column"] for cell in cells), default=0)
                for cell in cells:
                    values[cell["column"] - 1] = _text(cell["value"])
                yield row_number, values
    except (ParseError, ValueError, IndexError, zipfile.BadZipFile) as error:
        raise TableError("不是有效的 .xlsx 文件：工作表内容已损坏") from error
    finally:
        reader.archive.close()


def _first_worksheet_path(reader: ExcelReader) -> str:
    for _sheet, rel in reader.parser.find_sheets():
        if "chartsheet" not in rel.Type and rel.target in reader.valid_files:
            return rel.target
    raise TableError("文件为空：没有工作表")


class _RowParser(WorkSheetParser):
    """openpyxl's worksheet parser reduced to rows, keeping no parsed row in memory."""

    def parse(self) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        sheet_data = None
        for event, element in iterparse(self.source, events=("start", "end")):
            if event == "start":
                if element.tag == _SHEET_DATA_TAG:
                    sheet_data = element
            elif element.tag == _ROW_TAG:
                row = self.parse_row(element)
                self.row_dimensions.clear()
                element.clear()
                if sheet_data is not None:
                    sheet_data.remove(element)
                yield row


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip(_BLANKS)


def _csv_rows(stream: BinaryIO) -> Iterator[tuple[int, list[str]]]:
    encoding = _detect_encoding(stream)
    stream.seek(0)
    buffered = io.BufferedReader(_NonClosing(stream), _CHUNK)
    # Undecodable bytes (only in a mostly-UTF-8 file, see _detect_encoding) become lone
    # surrogates, which _data_rows turns into a refused row.
    text = io.TextIOWrapper(buffered, encoding=encoding, errors="surrogateescape", newline="")
    try:
        reader = csv.reader(text)
        while True:
            line_no = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise TableError(f"第{line_no}行不是有效的 CSV 格式") from error
            yield line_no, [value.strip(_BLANKS) for value in row]
    finally:
        text.close()  # closes only the wrappers: the caller owns the stream


def _detect_encoding(stream: BinaryIO) -> str:
    stream.seek(0)
    head = stream.read(4)
    if head.startswith(_UTF16_BOMS) or b"\x00" in _peek(stream):
        raise TableError("无法识别的文件：请上传 .xlsx 文件或 UTF-8/GBK 编码的 CSV 文件")
    # Decode the whole file once per candidate so that a GBK character far down
    # a file cannot break the import after rows have already been accepted.
    for encoding in ("utf-8-sig", "gb18030"):
        if _decodes(stream, encoding):
            return encoding
    if _mostly_utf8(stream):
        # A UTF-8 file with a few lines pasted in another encoding: those lines are read with
        # their bad bytes escaped and refused one by one, the rest of the file is read.
        return "utf-8-sig"
    raise TableError("CSV 文件编码无法识别，请另存为 UTF-8 或 GBK 编码后上传")


def _mostly_utf8(stream: BinaryIO) -> bool:
    """More than half of the lines with non-ASCII bytes decode as UTF-8."""
    stream.seek(0)
    good = bad = 0
    for line in stream:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad += 1
        else:
            good += 1
    return good > bad


def _peek(stream: BinaryIO) -> bytes:
    stream.seek(0)
    return stream.read(_CHUNK)


def _decodes(stream: BinaryIO, encoding: str) -> bool:
    stream.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := stream.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


class _NonClosing(io.RawIOBase):
    """A raw view of a binary stream that TextIOWrapper may use without closing it."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
