"""The one door to cases: pages, API, exports, dashboards and tasks fetch cases through here.

"Not yours" and "not there" both answer 404.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from guardian.shortcuts import get_objects_for_user

from accounts.access import not_found, scope_for
from accounts.models import Role, User
from dengkou_aid.errors import NotAllowed

from .models import Case


def cases_visible_to(user: User) -> QuerySet[Case]:
    """Cases a user may see: all for county staff, the unit's, the village's, or those assigned."""
    scope = scope_for(user)
    if scope.everything or scope.unit_id or scope.village_id:
        return scope.filter(Case.objects.all())
    if user.is_authenticated and user.has_role(Role.INVESTIGATOR):
        return get_objects_for_user(user, "cases.visit_case", klass=Case, accept_global_perms=False)
    return Case.objects.none()


def case_for_user(
    user: User, case_id: object, *, request: HttpRequest | None = None, for_update: bool = False
) -> Case:
    """Fetch one case the user may see, or raise 404 (and audit the refusal)."""
    queryset = cases_visible_to(user)
    if for_update:
        queryset = queryset.select_for_update()
    try:
        return queryset.get(pk=int(case_id))
    except (Case.DoesNotExist, TypeError, ValueError):
        raise not_found(request, user, "case", case_id) from None


def acting_role(user: User, case: Case, *roles: str) -> str:
    """The role in which `user` may act on `case`, or NotAllowed naming what is required."""
    for role in roles:
        if not user.has_role(role):
            continue
        if _acts_in_scope(user, case, role):
            return role
    labels = "、".join(Role(r).label for r in roles)
    raise NotAllowed(f"此操作须由本案件所属单位的{labels}办理。")


def _acts_in_scope(user: User, case: Case, role: str) -> bool:
    if role in (Role.HANDLER, Role.DIRECT_RESPONSIBLE, Role.FIRST_RESPONSIBLE):
        return user.unit_id == case.unit_id
    if role == Role.VILLAGE_ASSISTANT:
        return user.village_id == case.village_id
    if role in (Role.VERIFICATION_OFFICER, Role.COUNTY_SUPERVISOR, Role.COUNTY_FINANCE):
        return user.is_county_staff
    if role == Role.INVESTIGATOR:
        return (
            case.agency_id is not None
            and user.unit_id == case.agency_id
            and user.has_perm("cases.visit_case", case)
        )
    return False
