"""Issue 13 walked as its users do, in Chromium: a township handler's uploads are checked by
content and the material is fetched through the download door; an outsider pasting the link
gets nothing; the system administrator cannot make himself 第一责任人; the audit reader sees
each of these in the audit log; a locked account opens again 30 minutes after the fifth
failure. Every page reads in Chinese and the browser reports no CSP violation."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Role, RoleGrant

from ..conftest import current_otp, make_user, service_missing
from ..e2e_support import browser, chromium_available
from ..factories import PASSWORD, CaseFactory, HouseholdFactory, PersonFactory
from ..files import pdf_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""

# What a Python object, a code name or an English error page looks like on a page.
LEAKS = re.compile(
    r"object \(|\{'|\bNone\b|\bTrue\b|\bFalse\b|Traceback|Not Found|Forbidden|Server Error"
    r"|\b[A-Za-z_]+\.[A-Z]\w+|\b[a-z_:]+#\d+"  # cases.CaseFile, case_file#3
)


@pytest.fixture
def chromium():
    if not chromium_available():
        service_missing("chromium")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with browser() as launched:
        yield launched


class Walk:
    """Browser contexts opened during the walk, with every console line and page checked."""

    def __init__(self, chromium, live_server):
        self.chromium = chromium
        self.url = live_server.url
        self.console: list[str] = []
        self.pages = []

    def new_page(self):
        page = self.chromium.new_context(locale="zh-CN").new_page()
        page.add_init_script(WATCH_VIOLATIONS)
        page.on("console", lambda message: self.console.append(message.text))
        self.pages.append(page)
        return page

    def sign_in_page(self):
        page = self.new_page()
        page.goto(f"{self.url}/accounts/login/")
        return page

    def sign_in(self, user, page=None):
        page = page or self.sign_in_page()
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", PASSWORD)
        if user.needs_two_factor:
            page.fill("input[name=otp_token]", current_otp(user))
        self.click(page, "main button[type=submit]")
        page.wait_for_url(f"{self.url}/home/")
        return page

    def click(self, page, selector_or_locator):
        locator = (
            page.locator(selector_or_locator)
            if isinstance(selector_or_locator, str)
            else selector_or_locator
        )
        locator.first.click()
        page.wait_for_load_state()
        self.reads_in_chinese(page)

    def reads_in_chinese(self, page) -> None:
        text = page.inner_text("body")
        leaks = LEAKS.findall(text)
        assert leaks == [], f"{page.url}: {leaks} in {text[:800]}"
        assert page.evaluate("window.__cspViolations || []") == [], page.url

    def csp_violations(self) -> list[str]:
        return [line for line in self.console if "Content Security Policy" in line]


def test_a_walk_through_the_security_rules(people, chromium, live_server):
    sysadmin = make_user(
        people.county,
        Role.ADMINISTRATOR,
        username="sysadmin",
        full_name="系统管理员",
        is_staff=True,
        is_superuser=True,
    )
    auditor = make_user(people.county, Role.AUDIT_READER, username="auditor", full_name="安审计")
    household = HouseholdFactory(village=people.village_a)
    case = CaseFactory(applicant=PersonFactory(household=household, name="样例申请人"))
    walk = Walk(chromium, live_server)

    # 1. The handler opens the case from the case list and uploads materials.
    handler_page = walk.sign_in(people.handler)
    walk.click(handler_page, handler_page.get_by_role("link", name="案件", exact=True))
    walk.click(handler_page, handler_page.get_by_role("link", name=case.number))
    materials = handler_page.get_by_test_id("materials")
    category = materials.locator("select[name=category]")
    options = category.locator("option").all()
    chosen = options[-1].get_attribute("value")

    def upload(name: str, content: bytes, mime: str):
        category.select_option(chosen)
        materials.locator("input[type=file]").set_input_files(
            {"name": name, "mimeType": mime, "buffer": content}
        )
        walk.click(handler_page, materials.get_by_role("button", name="上传"))

    upload("scan.html", b"%PDF-1.7\n<html><script>alert(1)</script></html>", "text/html")
    refusal = handler_page.get_by_test_id("file-error")
    assert re.search(r"[\u4e00-\u9fff]", refusal.inner_text())
    assert (
        handler_page.get_by_test_id("materials").locator("select[name=category]").input_value()
        == chosen
    )

    upload("scan.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage", "application/pdf")
    refusal = handler_page.get_by_test_id("file-error")
    assert re.search(r"[\u4e00-\u9fff]", refusal.inner_text())
    assert (
        handler_page.get_by_test_id("materials").locator("select[name=category]").input_value()
        == chosen
    )
    assert not materials.get_by_role("link", name="scan.html").count()

    upload("户口簿.pdf", pdf_bytes(), "application/pdf")
    assert "材料已上传" in handler_page.inner_text("main")
    material_link = handler_page.get_by_test_id("materials").get_by_role("link", name="户口簿.pdf")
    href = material_link.get_attribute("href")
    assert href.startswith("/files/material/")
    with handler_page.expect_response(lambda r: r.url.endswith(href)) as clicked:
        material_link.click()
    opened = clicked.value
    assert opened.status == 200
    assert opened.headers["content-type"] == "application/pdf"
    assert opened.headers["content-disposition"].startswith("inline")
    assert opened.headers["x-content-type-options"] == "nosniff"
    assert handler_page.url.endswith(href)  # Chromium's PDF viewer shows it in the tab
    assert handler_page.context.request.get(opened.url).body().startswith(b"%PDF")
    handler_page.go_back()
    handler_page.wait_for_load_state()
    walk.click(handler_page, handler_page.get_by_role("button", name="退出"))
    assert "/accounts/login/" in handler_page.url

    # 2. The link, pasted by an anonymous visitor and by another unit's handler.
    anonymous = walk.new_page()
    response = anonymous.goto(f"{walk.url}{href}")  # pasted: the attack under test
    assert "/accounts/login/" in anonymous.url
    assert b"%PDF" not in response.body()
    walk.reads_in_chinese(anonymous)

    outsider_page = walk.sign_in(people.outsider)
    response = outsider_page.goto(f"{walk.url}{href}")  # pasted: the attack under test
    assert response.status == 404
    assert b"%PDF" not in response.body()
    assert re.search(r"[\u4e00-\u9fff]", outsider_page.inner_text("body"))
    walk.reads_in_chinese(outsider_page)

    # 3. The system administrator tries to make himself 第一责任人.
    admin_page = walk.sign_in(sysadmin)
    walk.click(admin_page, admin_page.get_by_role("link", name="管理后台"))
    walk.click(admin_page, admin_page.locator("a[href$='/admin/accounts/user/']"))
    walk.click(admin_page, admin_page.get_by_role("link", name="sysadmin", exact=True))
    empty_row = admin_page.locator(
        "select[name^='role_grants-'][name$='-role']:not([name*='__prefix__'])"
    ).last
    empty_row.select_option(Role.FIRST_RESPONSIBLE.value)
    walk.click(admin_page, admin_page.locator("input[name=_continue]"))
    errors = admin_page.locator(".errornote, .errorlist").all_inner_texts()
    assert any(re.search(r"[\u4e00-\u9fff]", text) for text in errors), errors
    assert set(RoleGrant.objects.filter(user=sysadmin).values_list("role", flat=True)) == {
        Role.ADMINISTRATOR
    }

    # 4. The audit reader finds each of these in the audit log.
    audit_page = walk.sign_in(auditor)
    walk.click(audit_page, audit_page.get_by_role("link", name="审计日志"))
    events = audit_page.locator("table.list tbody tr td:nth-child(2)").all_inner_texts()
    users = audit_page.locator("table.list tbody tr td:nth-child(3)").all_inner_texts()
    rows = list(zip(events, users, strict=True))
    # Hand count: the handler's two fetches of the PDF (the click, and reading its bytes); the
    # outsider's one pasted link (the anonymous visitor never reached the door); the
    # administrator's one refused grant.
    assert rows.count(("查看敏感信息全文", "handler_a")) == 2
    assert rows.count(("越权访问被拒绝", "handler_b")) == 1
    assert rows.count(("越权访问被拒绝", "sysadmin")) == 1
    assert len([row for row in rows if row[0] in ("查看敏感信息全文", "越权访问被拒绝")]) == 4
    assert not [row for row in rows if row[0] == "授予角色"]

    # 5. Five wrong passwords lock the handler out; 31 minutes later the door opens again.
    start = timezone.now()
    with time_machine.travel(start, tick=True) as clock:
        locked_page = walk.sign_in_page()
        for _ in range(5):
            locked_page.fill("input[name=username]", people.handler.username)
            locked_page.fill("input[name=password]", "wrong-password")
            walk.click(locked_page, "main button[type=submit]")
        assert "锁定" in locked_page.inner_text("main")
        for minutes in (10, 20):  # trying during the lock does not extend it
            clock.move_to(start + timedelta(minutes=minutes))
            locked_page.fill("input[name=username]", people.handler.username)
            locked_page.fill("input[name=password]", PASSWORD)
            walk.click(locked_page, "main button[type=submit]")
            assert "锁定" in locked_page.inner_text("main")
        clock.move_to(start + timedelta(minutes=31))
        walk.sign_in(people.handler, page=locked_page)

    assert walk.csp_violations() == []
