"""API sign-in checks: expiring tokens and the password rules of the pages.

Kept apart from the API views to avoid an import cycle (settings name these classes).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.authentication import SessionScheme
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.request import Request

from .audit import record
from .models import ApiToken, AuditLog, User

# Writing the last use at most once a minute keeps the idle limit within a minute of 30
# without a database write on every API call.
LAST_USE_REFRESH = timedelta(minutes=1)


class PasswordChangeRequired(exceptions.PermissionDenied):
    """A must-change or expired password: the API refuses everything but the change itself."""

    default_code = "password_change_required"


def require_current_password(request: Request, user: User) -> None:
    """Refuse every API call but the password change while the password must be changed."""
    reason = user.password_change_reason
    if reason and request.path != reverse("api-password-change"):
        raise PasswordChangeRequired(reason + "修改密码前不能使用其他功能。")


def token_problem(token: ApiToken) -> tuple[str, str]:
    """Why a token no longer signs its user in: (message for the user, audit detail)."""
    now = timezone.now()
    if token.created < token.user.password_changed_at:
        return "密码已修改，原令牌已失效，请重新登录。", "token revoked by password change"
    if token.created < now - settings.API_TOKEN_TTL:
        return "令牌已过期，请重新登录。", "expired token"
    if token.last_used_at < now - settings.API_TOKEN_IDLE_TIMEOUT:
        return "令牌长时间未使用已失效，请重新登录。", "idle token"
    return "", ""


class ExpiringTokenAuthentication(TokenAuthentication):
    """Tokens that end after API_TOKEN_TTL, API_TOKEN_IDLE_TIMEOUT unused, or a password change."""

    model = ApiToken

    def authenticate(self, request: Request):
        result = super().authenticate(request)
        if result is not None:
            require_current_password(request, result[0])
        return result

    def authenticate_credentials(self, key: str):
        try:
            token = ApiToken.objects.select_related("user", "user__unit").get(key=key)
        except ApiToken.DoesNotExist:
            record(AuditLog.Action.TOKEN_REJECTED, detail="unknown token")
            raise exceptions.AuthenticationFailed("令牌无效，请重新登录。") from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("该账户已停用。")
        message, detail = token_problem(token)
        if message:
            record(AuditLog.Action.TOKEN_REJECTED, user=token.user, detail=detail)
            token.delete()
            raise exceptions.AuthenticationFailed(message)
        now = timezone.now()
        if now - token.last_used_at >= LAST_USE_REFRESH:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token


class PasswordCheckedSessionAuthentication(SessionAuthentication):
    """The browser session on the API, with the same password rules as the pages."""

    def authenticate(self, request: Request):
        result = super().authenticate(request)
        if result is not None:
            require_current_password(request, result[0])
        return result


class PasswordCheckedSessionScheme(SessionScheme):
    """Describe the session in the API schema like DRF's own."""

    target_class = PasswordCheckedSessionAuthentication
