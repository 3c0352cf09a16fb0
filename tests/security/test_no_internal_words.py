"""No internal words on screen: signed in as each role of the demo data, every page reachable by
links (and every PDF or Excel file they link to) shows no code, English identifier or Python
repr in what a person reads, and none answers HTTP 500."""

from __future__ import annotations

import io
import json
import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from dengkou_aid.lib.pdfcheck import pdf_text

DEMO_PASSWORD = "Demo#2026dengkou"
ROLES = (
    "handler1",
    "direct1",
    "first1",
    "assistant11",
    "verifier",
    "supervisor",
    "finance",
    "investigator",
    "auditor",
    "admin",
)
# Pages of one shape (the same path with other ids or filters) are read this many times.
PER_SHAPE = 1
MAX_PAGES = 400
# Not pages a person reads: the API (JSON for programs) and its documentation, sign-out.
SKIP = ("/api/", "/accounts/logout/", "/static/", "/media/", "/admin/jsi18n/")
APPS = ("accounts", "cases", "disbursement", "supervision")
REPRS = (
    re.compile(r"\bNone\b"),
    re.compile(r"\bTrue\b"),
    re.compile(r"\bFalse\b"),
    re.compile(r"<QuerySet"),
    re.compile(r"object at 0x"),
    re.compile(r"\b[A-Z][A-Za-z]+ object \(\d+\)"),
    re.compile(r"\{'[a-z_]+': "),
    re.compile(r"\['[a-z_]+'"),
)


def internal_codes() -> set[str]:
    """Every stored code of every choice in the apps (state names, kinds, income kinds …)."""
    codes = set()
    for model in apps.get_models():
        if model._meta.app_label not in APPS:
            continue
        for field in model._meta.get_fields():
            for value, _label in getattr(field, "choices", None) or []:
                if isinstance(value, str) and re.fullmatch(r"[a-z][a-z_]{3,}", value):
                    codes.add(value)
    return codes


class VisibleText(HTMLParser):
    """What a person sees: text outside script, style and template, plus titles and labels."""

    HIDDEN = {"script", "style", "template"}

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.HIDDEN:
            self._hidden += 1
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        for name in ("title", "placeholder", "aria-label"):
            if attrs.get(name):
                self.text.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.text.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)


def words_found(text: str, codes_pattern: re.Pattern) -> list[str]:
    found = [m.group(0) for m in codes_pattern.finditer(text)]
    found += [m.group(0) for pattern in REPRS for m in pattern.finditer(text)]
    return found


def xlsx_text(content: bytes) -> str:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True)
    return "\n".join(
        str(cell)
        for sheet in book
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    )


def shape(url: str) -> str:
    parts = urlsplit(url)
    keys = sorted(k.split("=")[0] for k in parts.query.split("&") if k)
    return re.sub(r"\d+", "N", parts.path) + "?" + "&".join(keys)


def signed_in(username: str) -> Client:
    user = User.objects.get(username=username)
    client = Client()
    data = {"username": username, "password": DEMO_PASSWORD}
    if user.needs_two_factor:
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        # The demo leaders signed the demo cases moments ago: let this window's code sign in.
        TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
        code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
        data["otp_token"] = f"{code:0{device.digits}d}"
    response = client.post("/accounts/login/", data)
    assert response.status_code == 302, (username, response.content.decode()[:300])
    return client


def crawl(client: Client, codes_pattern: re.Pattern) -> tuple[dict[str, list[str]], list[str], int]:
    """Follow every link from the home page; return the words found per page, the 500s, pages."""
    queue, seen, shapes = deque(["/home/"]), {"/home/"}, {}
    findings, errors, pages = {}, [], 0
    while queue and pages < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url)
        pages += 1
        if response.status_code >= 500:
            errors.append(url)
            continue
        if response.status_code != 200:
            continue
        kind = response.get("Content-Type", "")
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if "pdf" in kind:
            text = pdf_text(body)
        elif "spreadsheet" in kind:
            text = xlsx_text(body)
        elif "html" in kind:
            parser = VisibleText()
            parser.feed(body.decode())
            text = "\n".join(parser.text)
            for href in parser.links:
                target = urljoin(url, href).split("#")[0]
                parts = urlsplit(target)
                if parts.scheme and parts.netloc not in ("", "testserver"):
                    continue
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                if not target.startswith("/") or target.startswith(SKIP) or target in seen:
                    continue
                key = shape(target)
                if shapes.get(key, 0) >= PER_SHAPE:
                    continue
                shapes[key] = shapes.get(key, 0) + 1
                seen.add(target)
                queue.append(target)
        else:
            continue
        found = words_found(text, codes_pattern)
        if found:
            findings[url] = sorted(set(found))
    return findings, errors, pages


@pytest.fixture
def demo(db, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    call_command("seed_demo", stdout=io.StringIO())


def test_no_page_or_document_shows_an_internal_word_to_any_role(demo):
    # One seeding of the demo data, then each role's crawl (seeding is the slow part).
    # A username is what a person types to sign in, not a code (the demo's "investigator").
    usernames = set(User.objects.values_list("username", flat=True))
    codes_pattern = codes_pattern_of(internal_codes() - usernames)
    report = {}
    for username in ROLES:
        findings, errors, pages = crawl(signed_in(username), codes_pattern)
        assert pages > 1, username
        if findings or errors:
            report[username] = {"500": errors, "words": findings}
    assert not report, json.dumps(report, ensure_ascii=False, indent=1)


def codes_pattern_of(codes: set[str]) -> re.Pattern:
    return re.compile(
        r"(?<![A-Za-z0-9_/])("
        + "|".join(sorted(codes, key=len, reverse=True))
        + r")(?![A-Za-z0-9_/])"
    )


def test_the_crawler_sees_codes_and_reprs_but_not_chinese_or_numbers(db):
    codes = internal_codes()
    assert {"submitted", "in_publicity", "wage", "marginal", "agree"} <= codes
    pattern = codes_pattern_of(codes)
    parser = VisibleText()
    parser.feed(
        '<p title="in_payment">状态：submitted，None</p><script>var s="approved"</script>'
        '<a href="/x/">Revocation object (1)</a><p>第3页 共12页 handler1 2026</p>'
    )
    text = "\n".join(parser.text)
    assert sorted(words_found(text, pattern)) == sorted(
        ["in_payment", "submitted", "None", "Revocation object (1)"]
    )
