"""Session rules of MLPS 2.0 level 3 applied to every browser request."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.contrib.auth import logout
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

SESSION_REFRESHED_KEY = "_refreshed_at"
EXEMPT_PREFIXES = (
    "/static/",
    "/favicon.ico",
    "/accounts/login/",
    "/accounts/logout/",
    "/public/",
    "/api/",
)
# The audit reader reads the audit log and nothing else (三员分立).
AUDIT_READER_PREFIXES = (
    "/accounts/",
    "/home/",
    "/static/",
    "/favicon.ico",
    "/public/",
    "/api/auth/",
)


class SecurityPolicyMiddleware:
    """Enforce the second factor for signing roles, force expired passwords to be changed,
    and keep the audit reader to the audit log."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if _audit_reader_outside_the_log(user, request.path):
            raise PermissionDenied("安全审计员只能查阅审计日志。")
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(EXEMPT_PREFIXES)
        ):
            if user.needs_two_factor and not user.is_verified():
                logout(request)
                return redirect(reverse("accounts:login") + "?otp=required")
            change_url = reverse("accounts:password_change")
            if user.password_change_reason and request.path != change_url:
                return redirect(change_url)
        return self.get_response(request)


def _audit_reader_outside_the_log(user, path: str) -> bool:
    if user is None or not user.is_authenticated or not user.is_audit_reader:
        return False
    return path != "/" and not path.startswith(AUDIT_READER_PREFIXES)


class IdleSessionMiddleware(SessionMiddleware):
    """Slide the 30-minute idle expiry without writing the session row on every request.

    Saving every request (SESSION_SAVE_EVERY_REQUEST) costs a database write and a commit
    per page; refreshing at most once a minute keeps the idle limit within a minute of
    30 and lets read-only pages write nothing.
    """

    REFRESH_SECONDS = 60

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.accessed and not session.is_empty():
            now = int(time.time())
            if now - session.get(SESSION_REFRESHED_KEY, 0) >= self.REFRESH_SECONDS:
                session[SESSION_REFRESHED_KEY] = now
        return super().process_response(request, response)
