"""Files refused at once, with the reason: not a spreadsheet, wrong header, empty, too big."""

from __future__ import annotations

import io

from disbursement.models import ImportBatch

from .conftest import upload


def named(data: bytes, name: str) -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file


def refused(caseload, login, file, **extra):
    client = login(caseload.handler)
    response = upload(client, "caseload", file, **extra)
    assert response.status_code == 400
    assert not ImportBatch.objects.exists()
    return response.content.decode()


def test_a_file_that_is_not_a_spreadsheet_is_refused(caseload, login):
    page = refused(caseload, login, named(b"%PDF-1.7\n\x00\x01\x02binary", "名单.pdf"))
    assert "无法识别的文件" in page


def test_an_old_xls_file_is_refused_with_what_to_do(caseload, login):
    page = refused(
        caseload, login, named(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "a.xls")
    )
    assert "另存为 .xlsx" in page


def test_a_wrong_header_is_refused_naming_the_columns(caseload, login):
    page = refused(caseload, login, named("姓名,身份证号\n张三,1\n".encode(), "a.csv"))
    assert "表头不符合模板" in page
    assert "缺少列：户编号" in page


def test_an_empty_file_is_refused(caseload, login):
    assert "文件为空" in refused(caseload, login, named(b"", "a.csv"))


def test_a_200_mb_upload_is_refused_from_its_declared_size_before_it_is_read(caseload, login):
    page = refused(
        caseload, login, named(b"whatever", "big.csv"), CONTENT_LENGTH=str(200 * 1024 * 1024)
    )
    assert "文件过大" in page


def test_a_file_over_the_limit_is_refused_by_its_real_size_too(caseload, login, settings):
    settings.IMPORT_MAX_BYTES = 1024
    page = refused(caseload, login, named(b"x" * 2048, "a.csv"))
    assert "文件过大" in page
