"""In a real browser, without signing in: the sign-in page links to the public pages, which
show a unit's service guide and its standing publicity list (masked names only)."""

from __future__ import annotations

import os

import pytest

from cases.models import State

from ..conftest import service_missing
from ..e2e_support import browser_page, chromium_available
from .builders import make_case, set_state

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.mark.django_db(transaction=True)
def test_a_visitor_reads_the_guide_and_the_publicity_list_without_signing_in(live_server, people):
    if not chromium_available():
        service_missing("chromium")
    case = make_case(people, State.APPROVED)
    set_state(case, State.IN_PAYMENT)

    with browser_page() as page:
        page.goto(f"{live_server.url}/accounts/login/")
        page.click("a[href='/public/']")
        assert page.url.endswith("/public/")

        page.click(f"a[href='/public/{people.unit_a.code}/guide/']")
        assert "巴彦高勒镇社会救助办事指南" in page.inner_text("h1")
        assert "20个工作日" in page.inner_text("[data-testid=guide-dibao]")

        page.click(f"a[href='/public/{people.unit_a.code}/publicity/']")
        listing = page.inner_text("[data-testid=standing-list]")
        assert "张*国" in listing and "样例嘎查A" in listing and "1190.00" in listing
        assert "张建国" not in page.content()
        assert case.applicant.id_number not in page.content()
        assert "/accounts/login" not in page.url
