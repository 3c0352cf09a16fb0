"""PDF documents from Django templates with WeasyPrint, and merging for archives."""

import io
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from pypdf import PdfReader, PdfWriter, Transformation

FONT_FAMILY = '"Noto Serif CJK SC", "Noto Sans CJK SC", serif'

# Margin boxes do not inherit from body, so each one names the CJK fonts again;
# without them WeasyPrint draws boxes for the Chinese page numbers.
BASE_CSS = f"""
@page {{
    size: A4;
    margin: 22mm 20mm 20mm 20mm;
    @top-center {{
        content: element(pdf-header);
        font-family: {FONT_FAMILY};
        font-size: 9pt;
        color: #444;
    }}
    @bottom-center {{
        content: "第 " counter(page) " 页 共 " counter(pages) " 页";
        font-family: {FONT_FAMILY};
        font-size: 9pt;
    }}
}}
html {{ font-family: {FONT_FAMILY}; }}
body {{ font-family: {FONT_FAMILY}; font-size: 12pt; line-height: 1.6; margin: 0; }}
h1, h2, h3 {{ font-family: "Noto Sans CJK SC", sans-serif; text-align: center; }}
h1 {{ font-size: 18pt; margin: 0 0 12pt; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 0.5pt solid #000; padding: 2pt 4pt; vertical-align: top; }}
thead {{ display: table-header-group; }}
tr {{ break-inside: avoid; }}
.pdf-running-header {{ position: running(pdf-header); font-size: 9pt; color: #444; }}
.pdf-signatures {{ break-inside: avoid; margin-top: 24pt; }}
"""

# Only local files and inline data: a template that shows user-entered text must
# never make the server fetch a URL.
_ALLOWED_PROTOCOLS = ("file", "data")


def render_pdf(
    template_name: str, context: Mapping[str, Any] | None = None, *, base_url: str | None = None
) -> bytes:
    """Render a Django template (usually extending pdf/base.html) to PDF bytes."""
    return html_to_pdf(render_to_string(template_name, dict(context or {})), base_url=base_url)


def html_to_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """Turn an HTML string into PDF bytes with the base stylesheet; relative URLs resolve in static/."""
    # Imported here: loading WeasyPrint (Pango, fonts) costs seconds, and every web and
    # Celery process imports this module while few of them ever render a PDF.
    from weasyprint import CSS, HTML, URLFetcher

    fetcher = URLFetcher(allowed_protocols=_ALLOWED_PROTOCOLS)
    document = HTML(string=html, base_url=base_url or _default_base_url(), url_fetcher=fetcher)
    stylesheet = CSS(string=BASE_CSS, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[stylesheet])


def warm_up() -> None:
    """Load WeasyPrint, Pango and the Chinese fonts once, at a web worker's boot (wsgi.py).

    The first PDF a process renders pays about a second for this; a clerk issuing a decision
    must not be the one who waits for it.
    """
    html_to_pdf("<p>磴口县</p>")


def merge_pdfs(documents: Iterable[bytes]) -> bytes:
    """Concatenate PDF documents in order into one PDF."""
    writer = PdfWriter()
    for document in documents:
        writer.append(io.BytesIO(document))
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _default_base_url() -> str:
    base_dir = getattr(settings, "BASE_DIR", None)
    return f"{base_dir}/static/" if base_dir else "."


# --- Bound volumes ---------------------------------------------------------------------------

A4_WIDTH_PT = 595.28


class UnreadablePdf(ValueError):
    """A PDF that cannot go into a volume; the message says why, in Chinese."""


def normalized_pdf(document: bytes) -> tuple[bytes, int]:
    """The document read and written again by pypdf, and its page count.

    Raises UnreadablePdf for a file pypdf cannot read (no startxref, broken objects), an
    encrypted one or one without pages, so a volume never fails half-way through a merge.
    """
    try:
        reader = PdfReader(io.BytesIO(document), strict=False)
        if reader.is_encrypted:
            raise UnreadablePdf("PDF文件已加密，无法读取")
        writer = PdfWriter()
        writer.append(reader)
        if not writer.pages:
            raise UnreadablePdf("PDF文件没有页面")
        output = io.BytesIO()
        writer.write(output)
    except UnreadablePdf:
        raise
    except Exception:  # pypdf raises many kinds on a broken file; all mean the same here
        raise UnreadablePdf("PDF文件已损坏或格式不正确，无法打开") from None
    data = output.getvalue()
    return data, len(PdfReader(io.BytesIO(data)).pages)


def bind_volume(parts: Iterable[tuple[str | None, bytes]]) -> bytes:
    """Concatenate readable PDFs into one, each titled part a bookmark, every page stamped
    "第N页 共M页" at the bottom right (the parts keep their own page footers)."""
    writer = PdfWriter()
    for title, document in parts:
        first = len(writer.pages)
        writer.append(io.BytesIO(document), import_outline=False)
        if title:
            writer.add_outline_item(title=title, page_number=first)
    total = len(writer.pages)
    stamps = PdfReader(io.BytesIO(_page_number_stamps(total)))
    for index, page in enumerate(writer.pages):
        box = page.mediabox
        shift = Transformation().translate(float(box.right) - A4_WIDTH_PT, float(box.bottom))
        page.merge_transformed_page(stamps.pages[index], shift)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _page_number_stamps(total: int) -> bytes:
    """A4 pages, transparent but for "第N页 共M页" near the bottom right corner."""
    from weasyprint import CSS, HTML

    pages = "".join(
        f'<div class="p"><span>第{n}页 共{total}页</span></div>' for n in range(1, total + 1)
    )
    css = CSS(
        string=(
            "@page { size: A4; margin: 0; }"
            f"body {{ margin: 0; font-family: {FONT_FAMILY}; font-size: 9pt; }}"
            ".p { height: 297mm; position: relative; break-after: page; }"
            ".p:last-child { break-after: auto; }"
            ".p span { position: absolute; right: 12mm; bottom: 8mm; }"
        )
    )
    return HTML(string=f"<html><body>{pages}</body></html>").write_pdf(stylesheets=[css])
