"""Every page carries the Content-Security-Policy and holds no inline script or handler.

The pages are each role's home page, every entry of its menu and a case page; the sign-in,
password and public pages; the API documentation. The API docs need sign-in in production.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from cases.models import Kind

from ..factories import CaseFactory, PersonFactory

REQUIRED_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}


class InlineCode(HTMLParser):
    """Collect what a strict policy would refuse: inline scripts, on…= handlers, style code."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.nav: list[str] = []
        self._in_nav = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and not names.get("src") and names.get("type") != "application/json":
            self.found.append(f"<script> without src: {self.getpos()}")
        if tag == "style":
            self.found.append(f"<style> element: {self.getpos()}")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{name}= on <{tag}> at {self.getpos()}")
            if name == "style":
                self.found.append(f"style= on <{tag}> at {self.getpos()}")
            if name in ("href", "src", "action") and (value or "").lower().startswith(
                "javascript:"
            ):
                self.found.append(f"javascript: URL on <{tag}> at {self.getpos()}")
        if tag == "nav" and "mainnav" in (names.get("class") or ""):
            self._in_nav = True
        if tag == "a" and self._in_nav and names.get("href", "").startswith("/"):
            self.nav.append(names["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self._in_nav = False


def policy(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy", "")
    return {
        part.split()[0]: " ".join(part.split()[1:])
        for part in (p.strip() for p in header.split(";"))
        if part
    }


def assert_strict_page(response, path: str) -> InlineCode:
    assert response.status_code == 200, path
    directives = policy(response)
    for name, value in REQUIRED_DIRECTIVES.items():
        assert directives.get(name) == value, (path, name, directives)
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"], path
    parsed = InlineCode()
    parsed.feed(response.content.decode())
    assert parsed.found == [], (path, parsed.found)
    return parsed


@pytest.fixture
def case_a(people, standards):
    applicant = PersonFactory(household__village=people.village_a)
    return CaseFactory(applicant=applicant, kind=Kind.DIBAO)


@pytest.mark.parametrize("who", ["handler", "first", "direct", "supervisor", "assistant"])
def test_each_roles_pages_carry_the_policy_and_no_inline_script(who, client, people, login, case_a):
    user = getattr(people, who)
    login(user)
    home = assert_strict_page(client.get("/home/"), "/home/")
    pages = [*dict.fromkeys(home.nav), "/accounts/password/", "/accounts/notifications/"]
    if who in ("handler", "first", "direct"):
        pages.append(reverse("cases:detail", args=[case_a.pk]))
    assert len(pages) >= 3, pages
    for path in pages:
        response = client.get(path, follow=True)
        assert_strict_page(response, path)


def test_the_dashboard_passes_its_chart_data_as_json_not_as_script(client, people, login):
    login(people.supervisor)
    page = client.get("/supervision/").content.decode()
    assert re.search(r'<script id="dashboard-charts" type="application/json">', page)
    assert re.search(r'<script src="/static/js/dashboard\.js">', page)


def test_the_sign_in_and_public_pages_carry_the_policy(client, people):
    for path in ("/accounts/login/", "/public/"):
        assert_strict_page(client.get(path, follow=True), path)


def test_the_api_docs_load_their_scripts_from_files(client, people, login, settings):
    settings.API_DOCS_PUBLIC = True
    for path in ("/api/docs/", "/api/redoc/"):
        response = client.get(path)
        assert response.status_code == 200
        parsed = InlineCode()
        parsed.feed(response.content.decode())
        scripts = [f for f in parsed.found if f.startswith(("<script", "on", "javascript"))]
        assert scripts == [], (path, scripts)
        assert "script-src 'self';" in response.headers["Content-Security-Policy"] + ";"
    assert (
        client.get("/api/docs/?script=")
        .headers["Content-Type"]
        .startswith("application/javascript")
    )


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/", "/api/redoc/"])
def test_api_docs_need_sign_in_when_not_public(path, client, people, login, settings):
    settings.API_DOCS_PUBLIC = False
    refused = client.get(path)
    assert refused.status_code == 401
    assert "请先登录。" in refused.content.decode()
    assert "Unauthorized" not in refused.content.decode()
    login(people.handler)
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_api_docs_are_open_when_public(path, client, db, settings):
    settings.API_DOCS_PUBLIC = True
    assert client.get(path).status_code == 200


def page_templates():
    """Every template a browser may receive: all but those printed to PDF (WeasyPrint)."""
    from django.conf import settings

    root = settings.BASE_DIR
    folders = [root / "templates", *root.glob("*/templates")]
    for path in sorted(p for folder in folders for p in folder.rglob("*.html")):
        head = path.read_text(encoding="utf-8")[:200]
        if "/pdf/" in str(path) or 'extends "pdf/' in head or 'extends "documents/_layout' in head:
            continue
        yield path


def test_no_template_a_browser_receives_holds_inline_code():
    found = {}
    templates = list(page_templates())
    assert len(templates) > 50
    for path in templates:
        text = path.read_text(encoding="utf-8")
        problems = re.findall(r"<script(?![^>]*\b(?:src|type=\"application/json\"))[^>]*>", text)
        problems += re.findall(r"<style\b|\sstyle=|\son[a-z]+=|javascript:", text)
        if problems:
            found[str(path)] = problems
    assert found == {}
