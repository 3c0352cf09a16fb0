"""In-app notifications: each warning has a key, so a rerun never repeats it."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import Notification, Role, User


def notify(
    user: User, *, key: str, title: str, body: str = "", url: str = ""
) -> Notification | None:
    """Create the notification once per (user, key); e-mail it after commit if the user has an address."""
    notice, created = Notification.objects.get_or_create(
        user=user, key=key, defaults={"title": title[:200], "body": body, "url": url}
    )
    if not created:
        return None
    if user.email and settings.EMAIL_BACKEND:
        transaction.on_commit(lambda: _email(notice.pk))
    return notice


def _email(notification_id: int) -> None:
    notice = Notification.objects.select_related("user").get(pk=notification_id)
    if notice.emailed_at is not None:
        return
    send_mail(
        notice.title, notice.body or notice.title, None, [notice.user.email], fail_silently=True
    )
    Notification.objects.filter(pk=notice.pk, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )


def staff_with_role(role: str, *, unit_id: int | None = None) -> QuerySet[User]:
    """Active staff holding a role, optionally in one unit."""
    users = User.objects.filter(is_active=True, role_grants__role=role)
    if unit_id is not None:
        users = users.filter(unit_id=unit_id)
    return users.distinct()


def county_supervisors() -> QuerySet[User]:
    return staff_with_role(Role.COUNTY_SUPERVISOR)
