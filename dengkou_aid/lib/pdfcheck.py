"""Read PDFs back with poppler-utils, for tests: text and embedded fonts."""

import subprocess
import tempfile


def pdf_text(document: bytes) -> str:
    """Return the text `pdftotext` extracts, in UTF-8."""
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"],
        input=document,
        capture_output=True,
        check=True,
    )
    return result.stdout.decode()


def pdf_fonts(document: bytes) -> list[dict[str, str]]:
    """Return the rows of `pdffonts` as dicts with name, type, encoding, emb, sub, uni."""
    # pdffonts cannot read standard input.
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(document)
        handle.flush()
        result = subprocess.run(
            ["pdffonts", handle.name], capture_output=True, check=True, text=True
        )
    return _parse_pdffonts(result.stdout)


def has_embedded_cjk_font(document: bytes) -> bool:
    """True when some embedded font's name contains 'CJK'."""
    return any(font["emb"] == "yes" and "CJK" in font["name"] for font in pdf_fonts(document))


def _parse_pdffonts(output: str) -> list[dict[str, str]]:
    lines = output.splitlines()
    # The dashes under the heading give the column widths; the type column has spaces.
    rule = lines[1]
    spans, start = [], 0
    for width in (len(part) for part in rule.split(" ")):
        spans.append((start, start + width))
        start += width + 1
    keys = ("name", "type", "encoding", "emb", "sub", "uni", "object", "id")
    fonts = []
    for line in lines[2:]:
        cells = [line[a:b].strip() for a, b in spans[:-1]] + [line[spans[-1][0] :].strip()]
        fonts.append(dict(zip(keys, cells, strict=False)))
    return fonts
