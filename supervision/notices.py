"""Who may act for the county, and telling a unit's people of a county act."""

from __future__ import annotations

from collections.abc import Iterable

from accounts.models import Role, User
from accounts.notify import notify
from dengkou_aid.errors import NotAllowed

LEADER_ROLES = (Role.FIRST_RESPONSIBLE, Role.DIRECT_RESPONSIBLE)


def require_supervisor(actor: User) -> None:
    if not (actor.is_county_staff and actor.has_role(Role.COUNTY_SUPERVISOR)):
        raise NotAllowed("此操作须由县民政局监管人员办理。")


def notify_unit(
    unit_id: int,
    *,
    key: str,
    title: str,
    url: str = "",
    body: str = "",
    roles: Iterable[str] = LEADER_ROLES,
) -> None:
    """Tell the unit's active staff holding any of the roles (its leaders by default)."""
    people = User.objects.filter(
        is_active=True, unit_id=unit_id, role_grants__role__in=list(roles)
    ).distinct()
    for person in people:
        notify(person, key=key, title=title, url=url, body=body)
