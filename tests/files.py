"""Small real files for upload tests: a one-page PDF, a JPEG and a PNG that open cleanly."""

from __future__ import annotations

import io

from PIL import Image
from pypdf import PdfWriter


def pdf_bytes(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def image_bytes(format: str = "PNG", size: tuple[int, int] = (40, 30), color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=format)
    return buffer.getvalue()


def jpeg_bytes(**kwargs) -> bytes:
    return image_bytes("JPEG", **kwargs)


def png_bytes(**kwargs) -> bytes:
    return image_bytes("PNG", **kwargs)


PDF_BYTES = pdf_bytes()
