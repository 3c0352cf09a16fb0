"""Session rules of MLPS 2.0 level 3 applied to every browser request."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

EXEMPT_PREFIXES = ("/static/", "/accounts/login/", "/accounts/logout/", "/public/", "/api/")


class SecurityPolicyMiddleware:
    """Enforce the second factor for signing roles and force expired passwords to be changed."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(EXEMPT_PREFIXES)
        ):
            if user.needs_two_factor and not user.is_verified():
                logout(request)
                return redirect(reverse("accounts:login") + "?otp=required")
            change_url = reverse("accounts:password_change")
            if (user.must_change_password or user.password_expired) and request.path != change_url:
                return redirect(change_url)
        return self.get_response(request)
