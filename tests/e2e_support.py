"""Shared browser launch for end-to-end tests: Debian's Chromium through Playwright's sync API.

Use with pytest-django's `live_server`; set DJANGO_ALLOW_ASYNC_UNSAFE=true in the test module
(Playwright runs an event loop in the test thread).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_available() -> bool:
    return os.path.exists(CHROMIUM) or shutil.which("chromium") is not None


@contextmanager
def browser_page(*, locale: str = "zh-CN") -> Iterator:
    """Yield a fresh Playwright page in headless Chromium; closes everything afterwards.

    Callers check `chromium_available()` first and call `service_missing` when it is not.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale=locale)
            yield context.new_page()
        finally:
            browser.close()


TABLET = {"width": 820, "height": 1180}  # a 10-inch tablet held upright, as village assistants do


@contextmanager
def browser() -> Iterator:
    """Yield a headless Chromium browser for tests that open several signed-in pages."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def signed_in(chromium, live_server, user, viewport=None):
    """A new page in its own context, signed in as `user` (with the OTP where the role needs it)."""
    from .conftest import PASSWORD, current_otp

    page = chromium.new_context(locale="zh-CN", viewport=viewport).new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    if user.needs_two_factor:
        page.fill("input[name=otp_token]", current_otp(user))
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/home/")
    return page


def open_case_from_home(page, case) -> None:
    """Reach the case as its user does: the home page lists it under what waits for them."""
    with page.expect_navigation():
        page.click("header >> text=工作台")
    with page.expect_navigation():
        page.locator(f"[data-testid=home-block] a:has-text('{case.number}')").first.click()
