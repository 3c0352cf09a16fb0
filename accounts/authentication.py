"""Expiring API tokens for tablets (kept apart from the API views to avoid an import cycle)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from .audit import record
from .models import AuditLog


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF tokens that expire API_TOKEN_TTL after they were issued."""

    def authenticate_credentials(self, key: str):
        try:
            token = Token.objects.select_related("user", "user__unit").get(key=key)
        except Token.DoesNotExist:
            record(AuditLog.Action.TOKEN_REJECTED, detail="unknown token")
            raise exceptions.AuthenticationFailed("令牌无效，请重新登录。") from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("该账户已停用。")
        if token.created < timezone.now() - settings.API_TOKEN_TTL:
            record(AuditLog.Action.TOKEN_REJECTED, user=token.user, detail="expired token")
            token.delete()
            raise exceptions.AuthenticationFailed("令牌已过期，请重新登录。")
        return token.user, token
