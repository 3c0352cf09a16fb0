import hashlib
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dengkou_aid.lib.uploads import UploadRejected, check_upload, format_size
from tests.files import jpeg_bytes, pdf_bytes, png_bytes

PDF = pdf_bytes()
PNG = png_bytes()
JPG = jpeg_bytes()


@pytest.mark.parametrize(
    ("content", "mime", "extension"),
    [(PDF, "application/pdf", "pdf"), (PNG, "image/png", "png"), (JPG, "image/jpeg", "jpg")],
)
def test_it_accepts_pdf_png_and_jpg_by_content(content, mime, extension):
    upload = SimpleUploadedFile("扫描件", content, content_type="application/octet-stream")
    checked = check_upload(upload)
    assert (checked.mime, checked.extension) == (mime, extension)
    assert checked.sha256 == hashlib.sha256(checked.content.read()).hexdigest()
    assert re.fullmatch(rf"[0-9a-f]{{32}}\.{extension}", checked.content.name)


def test_a_pdf_is_kept_byte_for_byte():
    checked = check_upload(SimpleUploadedFile("a.pdf", PDF))
    assert checked.content.read() == PDF
    assert (checked.size, checked.sha256) == (len(PDF), hashlib.sha256(PDF).hexdigest())


def test_it_rewinds_the_file():
    upload = SimpleUploadedFile("a.pdf", PDF)
    check_upload(upload)
    assert upload.read() == PDF


def test_the_client_name_is_kept_for_display_only():
    checked = check_upload(SimpleUploadedFile("../../申请书\x00.PDF", PDF))
    assert checked.original_name == "申请书.PDF"
    assert "申请书" not in checked.content.name


def test_a_renamed_file_is_judged_by_its_content():
    upload = SimpleUploadedFile(
        "户口本.pdf", b"GIF89a" + b"\x00" * 64, content_type="application/pdf"
    )
    with pytest.raises(UploadRejected, match="文件类型不允许：gif"):
        check_upload(upload)


def test_an_unrecognised_file_is_refused():
    with pytest.raises(UploadRejected, match="文件类型不允许：无法识别（仅允许 PDF、JPG、PNG）"):
        check_upload(SimpleUploadedFile("说明.pdf", "这不是PDF".encode()))


def test_the_allowed_types_can_be_narrowed():
    with pytest.raises(UploadRejected, match="文件类型不允许：png（仅允许 PDF）"):
        check_upload(io.BytesIO(PNG), allowed=("pdf",))


def test_an_empty_file_is_refused():
    with pytest.raises(UploadRejected, match="文件为空"):
        check_upload(SimpleUploadedFile("a.pdf", b""))


def test_a_file_over_10mb_is_refused_by_default(settings):
    del settings.UPLOAD_MAX_BYTES
    content = PDF + b"\x00" * (10 * 1024 * 1024)
    with pytest.raises(UploadRejected, match="文件过大：超过10MB"):
        check_upload(io.BytesIO(content))


def test_the_limit_comes_from_the_argument_or_the_setting(settings):
    settings.UPLOAD_MAX_BYTES = 200 * 1024
    content = PNG + b"\x00" * (300 * 1024)
    with pytest.raises(UploadRejected, match="文件过大：超过200KB"):
        check_upload(io.BytesIO(content))
    assert check_upload(io.BytesIO(content), max_bytes=1024 * 1024).size < len(content)


def test_the_real_size_counts_when_the_declared_size_lies():
    upload = SimpleUploadedFile("a.pdf", PDF + b"\x00" * 5000)
    upload.size = 10
    with pytest.raises(UploadRejected, match="文件过大"):
        check_upload(upload, max_bytes=1000)


def test_a_too_large_declared_size_is_refused_before_reading():
    upload = SimpleUploadedFile("a.pdf", PDF)
    upload.size = 11 * 1024 * 1024
    with pytest.raises(UploadRejected, match="文件过大：超过10MB"):
        check_upload(upload, max_bytes=10 * 1024 * 1024)


def test_sizes_are_written_as_limits_are_announced():
    assert format_size(10 * 1024 * 1024) == "10MB"
    assert format_size(1536 * 1024) == "1.5MB"
    assert format_size(512 * 1024) == "512KB"
    assert format_size(50) == "50B"
