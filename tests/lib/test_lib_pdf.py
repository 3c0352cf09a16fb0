import io
import time

from django.template import engines
from pypdf import PdfReader

from dengkou_aid.lib.pdf import html_to_pdf, merge_pdfs, render_pdf
from dengkou_aid.lib.pdfcheck import has_embedded_cjk_font, pdf_fonts, pdf_text

DOCUMENT = (
    '{% extends "pdf/base.html" %}'
    "{% block content %}<h1>{{ title }}</h1>"
    "{% for i in paragraphs %}<p>申请人{{ name }}的家庭人均收入低于磴口县低保标准。第{{ i }}段。</p>{% endfor %}"
    "{% endblock %}"
    "{% block signatures %}<p>审批人（签字）：李四</p>{% endblock %}"
)


def render(**context) -> bytes:
    html = engines["django"].from_string(DOCUMENT).render(context)
    return html_to_pdf(html)


def page_count(document: bytes) -> int:
    return len(PdfReader(io.BytesIO(document)).pages)


def test_chinese_text_comes_back_out_of_the_pdf():
    text = pdf_text(render(title="最低生活保障审核确认表", name="张三", paragraphs=[1]))
    assert "最低生活保障审核确认表" in text
    assert "申请人张三的家庭人均收入低于磴口县低保标准。第1段。" in text
    assert "审批人（签字）：李四" in text


def test_a_noto_cjk_font_is_embedded():
    document = render(title="审核确认表", name="张三", paragraphs=[1])
    fonts = pdf_fonts(document)
    assert any(
        font["emb"] == "yes" and "Noto" in font["name"] and "CJK" in font["name"] for font in fonts
    )
    assert all(font["emb"] == "yes" for font in fonts)
    assert has_embedded_cjk_font(document)


def test_every_page_is_numbered_and_carries_the_header():
    document = render(title="审核确认表", name="张三", paragraphs=range(80), header="磴口县民政局")
    pages = PdfReader(io.BytesIO(document)).pages
    assert len(pages) > 1
    for number, page in enumerate(pages, start=1):
        text = page.extract_text().replace(" ", "")
        assert f"第{number}页共{len(pages)}页" in text
        assert "磴口县民政局" in text


def test_the_header_is_optional():
    text = pdf_text(render(title="审核确认表", name="张三", paragraphs=[1]))
    assert "第1页共1页" in text.replace(" ", "")


def test_render_pdf_loads_templates_by_name():
    document = render_pdf("pdf/base.html", {"title": "空白文书", "header": "磴口县民政局"})
    assert document.startswith(b"%PDF")
    assert "磴口县民政局" in pdf_text(document)


def test_remote_urls_are_not_fetched():
    html = '<html lang="zh-CN"><body><img src="http://127.0.0.1:9/x.png"><p>正文</p></body></html>'
    started = time.monotonic()
    assert "正文" in pdf_text(html_to_pdf(html))
    assert time.monotonic() - started < 5


def test_merge_keeps_every_page_in_order():
    first = render(title="第一份", name="张三", paragraphs=[1])
    second = render(title="第二份", name="李四", paragraphs=range(80))
    merged = merge_pdfs([first, second])
    assert page_count(merged) == page_count(first) + page_count(second)
    text = pdf_text(merged)
    assert text.index("第一份") < text.index("第二份")
