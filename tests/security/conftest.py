"""The system administrator and the audit reader, and a reader of /admin/ change forms."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from accounts.models import Role

from ..conftest import make_user


@pytest.fixture
def sysadmin(people):
    """The county's system administrator: /admin/ access and the administrator role only."""
    return make_user(
        people.county,
        Role.ADMINISTRATOR,
        username="sysadmin",
        full_name="系统管理员",
        is_staff=True,
        is_superuser=True,
    )


@pytest.fixture
def auditor(people):
    return make_user(people.county, Role.AUDIT_READER, username="auditor", full_name="安审计")


class _FormReader(HTMLParser):
    """The values a browser would submit from the page's main form."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.setdefault(name, []).append(a.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select].append(a.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_data(self, data) -> None:
        if self._textarea:
            self.data[self._textarea][0] += data

    def handle_endtag(self, tag) -> None:
        if tag == "select":
            self._select = None
        if tag == "textarea":
            self._textarea = None


def form_data(html: str) -> dict[str, list[str]]:
    reader = _FormReader()
    reader.feed(html)
    return {k: v for k, v in reader.data.items() if k != "csrfmiddlewaretoken"}
