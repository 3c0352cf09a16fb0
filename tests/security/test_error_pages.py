"""Refusals and missing pages answer in Chinese on the site's own pages, never Django's
English defaults: a pasted link to another unit's material, a page the role may not open,
a malformed request and a server error."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import Client

from cases.services import upload_material

from ..factories import CaseFactory
from ..files import PDF_BYTES

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_another_units_material_answers_a_chinese_not_found_page(people, login):
    case = CaseFactory(applicant__household__village=people.village_b)
    upload_material(
        actor=people.outsider,
        case=case,
        file=SimpleUploadedFile("scan.pdf", PDF_BYTES, content_type="application/pdf"),
    )
    client = login(people.handler)
    response = client.get(f"/files/material/{case.files.get().pk}/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "未找到" in text
    assert "Not Found" not in text


def test_a_page_the_role_may_not_open_says_why_in_chinese(people, login):
    client = login(people.handler)
    response = client.get("/accounts/audit-log/")
    assert response.status_code == 403
    text = response.content.decode()
    assert "只有安全审计员可以查阅审计日志。" in text
    assert "Forbidden" not in text


@pytest.mark.parametrize("name", ["400.html", "500.html"])
def test_the_bad_request_and_server_error_pages_read_in_chinese(name):
    text = render_to_string(name)
    assert CHINESE.search(text)
    assert "Server Error" not in text and "Bad Request" not in text


def test_an_unknown_address_answers_the_chinese_page(db):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert "未找到" in response.content.decode()
