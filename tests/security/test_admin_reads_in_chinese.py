"""The admin site reads in Chinese: signed in as the system administrator, every page linked
from the admin index (each list, each add form, one record's change form) shows no English word
in what a person reads; the audit reader is refused the admin site altogether."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from axes.models import AccessLog
from django.contrib import admin
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

from .test_no_internal_words import VisibleText

ENGLISH = re.compile(r"[A-Za-z]{3,}")
# Names a Chinese office uses as they are.
ALLOWED = {"PDF", "CSV", "Excel"}
URL_LIKE = re.compile(r"\S*/\S*")


def visible(body: str) -> tuple[str, list[str]]:
    parser = VisibleText()
    parser.feed(body)
    return "\n".join(parser.text), parser.links


def english_words(text: str, own: set[str]) -> list[str]:
    text = URL_LIKE.sub(" ", text)
    return sorted({w for w in ENGLISH.findall(text) if w not in ALLOWED and w not in own})


def admin_pages(client) -> list[str]:
    """The index, every link on it (lists and add forms), and the first record of each list."""
    index = client.get("/admin/").content.decode()
    _, links = visible(index)
    linked = {urlsplit(urljoin("/admin/", href)).path for href in links}
    pages = ["/admin/", *sorted(p for p in linked if p.startswith("/admin/") and "logout" not in p)]
    for model in admin.site._registry:
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            opts = model._meta
            pages.append(f"/admin/{opts.app_label}/{opts.model_name}/{obj.pk}/change/")
    return pages


def test_every_admin_page_reads_in_chinese(sysadmin, people, login, client):
    login(sysadmin)
    # What people typed or their browsers sent (usernames, device names) is data, not words
    # of the interface.
    data = list(User.objects.values_list("username", flat=True))
    data += list(TOTPDevice.objects.values_list("name", flat=True))
    data += list(AccessLog.objects.values_list("user_agent", flat=True))
    own = {word for value in data for word in ENGLISH.findall(value or "")}
    findings = {}
    pages = admin_pages(client)
    for url in pages:
        response = client.get(url)
        assert response.status_code in (200, 403), url
        if response.status_code != 200:
            continue
        text, _ = visible(response.content.decode())
        if words := english_words(text, own):
            findings[url] = words
    assert findings == {}
    assert len(pages) > 40


def test_the_audit_reader_is_refused_the_admin_site(auditor, login, client):
    login(auditor)
    assert client.get("/admin/").status_code == 403
