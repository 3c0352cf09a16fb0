"""Writing the security audit log, and the receivers for Django's and axes' sign-in signals."""

from __future__ import annotations

import ipaddress
from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from .models import AuditLog


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: REMOTE_ADDR, or X-Forwarded-For when the peer is a trusted proxy.

    Walk X-Forwarded-For from the right: each trusted proxy appended the address it saw,
    so the first address that is not a trusted proxy is the client. A client that writes
    the header itself cannot move its address past our own proxy's entry.
    """
    if request is None:
        return None
    peer = request.META.get("REMOTE_ADDR") or None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not forwarded or not _is_trusted_proxy(peer):
        return peer
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _valid_ip(hop):
            return peer
        if not _is_trusted_proxy(hop):
            return hop
    return hops[0] if hops else peer


def _trusted_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(entry, strict=False)
        for entry in getattr(settings, "TRUSTED_PROXIES", [])
    ]


def _is_trusted_proxy(address: str | None) -> bool:
    if not address or not _valid_ip(address):
        return False
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in _trusted_networks())


def _valid_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def record(
    action: str,
    *,
    request: HttpRequest | None = None,
    user: Any = None,
    username: str = "",
    obj: Any = None,
    detail: str = "",
) -> AuditLog:
    """Append one row to the audit log."""
    if user is None and request is not None and getattr(request, "user", None) is not None:
        user = request.user if request.user.is_authenticated else None
    return AuditLog.objects.create(
        action=action,
        user=user,
        username=username or (user.get_username() if user is not None else ""),
        ip_address=client_ip(request),
        path=(request.get_full_path()[:300] if request is not None else ""),
        object_type=(obj._meta.label if obj is not None else ""),
        object_id=(str(obj.pk) if obj is not None else ""),
        detail=detail[:500],
    )


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs) -> None:
    record(AuditLog.Action.LOGIN, request=request, user=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        record(AuditLog.Action.LOGOUT, request=request, user=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    record(
        AuditLog.Action.LOGIN_FAILED,
        request=request,
        username=str(credentials.get("username", ""))[:150],
        detail=str(kwargs.get("reason", "")),
    )


@receiver(user_locked_out)
def _locked_out(sender, request, username=None, ip_address=None, **kwargs) -> None:
    record(AuditLog.Action.LOCKED_OUT, request=request, username=username or "")
