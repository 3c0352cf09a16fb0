"""Binding PDFs into one volume: each part read and written again first (refused with the
reason when it cannot be), every page stamped 第N页 共M页 whatever its size, a bookmark per
titled part."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader, PdfWriter

from dengkou_aid.lib.pdf import UnreadablePdf, bind_volume, normalized_pdf
from tests.files import pdf_bytes


def _pdf(width: float, height: float, pages: int = 1, password: str | None = None) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=width, height=height)
    if password:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "已损坏"),
        (pdf_bytes()[:-60], "已损坏"),
        (_pdf(595, 842, password="x"), "已加密"),
    ],
)
def test_a_part_that_cannot_be_read_is_refused_with_the_reason(data, reason):
    with pytest.raises(UnreadablePdf, match=reason):
        normalized_pdf(data)


def test_a_readable_part_comes_back_with_its_page_count():
    data, pages = normalized_pdf(pdf_bytes(3))

    assert pages == 3 and len(PdfReader(io.BytesIO(data)).pages) == 3


def test_every_page_of_the_volume_is_numbered_and_each_part_bookmarked():
    volume = bind_volume(
        [("封面", pdf_bytes(2)), ("横向扫描件", _pdf(842, 595)), (None, _pdf(200, 300))]
    )

    reader = PdfReader(io.BytesIO(volume))
    assert len(reader.pages) == 4
    for n, page in enumerate(reader.pages, start=1):
        assert f"第{n}页共4页" in "".join(page.extract_text().split())
    marks = [(o.title, reader.get_destination_page_number(o)) for o in reader.outline]
    assert marks == [("封面", 0), ("横向扫描件", 2)]
