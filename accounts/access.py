"""The one door to per-unit visibility: every list and fetch of a unit's records passes here.

"Not yours" and "not there" answer the same (404), and each refusal is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from .audit import record
from .models import COUNTY_ROLES, SYSTEM_ROLES, UNIT_ROLES, AuditLog, Role, User


@dataclass(frozen=True)
class Scope:
    """What part of the county a user may see: everything, one unit, or one village."""

    everything: bool = False
    unit_id: int | None = None
    village_id: int | None = None

    def filter(
        self, queryset: QuerySet, *, unit_field: str = "unit", village_field: str = "village"
    ) -> QuerySet:
        """Restrict a queryset of unit-owned records to this scope (one WHERE clause)."""
        if self.everything:
            return queryset
        if self.village_id is not None:
            return queryset.filter(**{f"{village_field}_id": self.village_id})
        if self.unit_id is not None:
            return queryset.filter(**{f"{unit_field}_id": self.unit_id})
        return queryset.none()

    def q(self, *, unit_field: str = "unit", village_field: str = "village") -> Q:
        if self.everything:
            return Q()
        if self.village_id is not None:
            return Q(**{f"{village_field}_id": self.village_id})
        if self.unit_id is not None:
            return Q(**{f"{unit_field}_id": self.unit_id})
        return Q(pk__in=[])


NOTHING = Scope()


def scope_for(user: User) -> Scope:
    """The records a user may see, by unit and role."""
    if not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.unit_id is None:
        return NOTHING
    if user.is_county_staff:
        return Scope(everything=True)
    if user.has_role(*UNIT_ROLES) and user.unit.is_approval_unit:
        return Scope(unit_id=user.unit_id)
    if user.has_role(Role.VILLAGE_ASSISTANT) and user.village_id is not None:
        return Scope(village_id=user.village_id)
    return NOTHING


def require_staff_role(user: User) -> None:
    """Refuse a signed-in user with no unit or no role any case screen."""
    if user.unit_id is None:
        raise PermissionDenied("您的账户尚未分配所在单位，请联系系统管理员。")
    if not user.role_codes - SYSTEM_ROLES:
        raise PermissionDenied("您的账户没有业务角色，无法办理救助事项。")


def require_audit_reader(user: User) -> None:
    """Only the audit reader reads the audit log: not the system administrator (三员分立)."""
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied("请先登录。")
    if not user.is_audit_reader:
        raise PermissionDenied("只有安全审计员可以查阅审计日志。")


def not_found(request: HttpRequest | None, user: User, obj_label: str, obj_id: object) -> Http404:
    """Audit a refused fetch and return the 404 to raise."""
    record(
        AuditLog.Action.ACCESS_DENIED,
        request=request,
        user=user,
        detail=f"{obj_label}#{obj_id}",
    )
    return Http404("未找到该记录。")


def is_county(user: User) -> bool:
    return user.is_county_staff and user.has_role(*COUNTY_ROLES)
