"""Reads for training: who a session is for, each person's record, a unit's coverage in a
year and the yearly assessment's training figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q, QuerySet

from accounts.models import Role, Unit, User

from ..models import Attendance, Audience, TrainingMaterial, TrainingSession

STAFF_ROLES = (Role.HANDLER, Role.DIRECT_RESPONSIBLE, Role.FIRST_RESPONSIBLE)
AUDIENCE_ROLES = {Audience.STAFF: STAFF_ROLES, Audience.ASSISTANTS: (Role.VILLAGE_ASSISTANT,)}
LIBRARY_ROLES = (
    *STAFF_ROLES,
    Role.VILLAGE_ASSISTANT,
    Role.COUNTY_SUPERVISOR,
    Role.VERIFICATION_OFFICER,
    Role.COUNTY_FINANCE,
    Role.INVESTIGATOR,
)


def _roles(audiences) -> list[str]:
    return [role for a in audiences if a in AUDIENCE_ROLES for role in AUDIENCE_ROLES[a]]


def trainees(units, audiences=tuple(Audience.values)) -> QuerySet[User]:
    """Active people of the units whom an audience covers (township staff, village assistants)."""
    return (
        User.objects.filter(is_active=True, unit__in=units, role_grants__role__in=_roles(audiences))
        .distinct()
        .order_by("unit_id", "username")
    )


def in_audience(session: TrainingSession, person: User) -> bool:
    return trainees(session.units.all(), session.audiences).filter(pk=person.pk).exists()


def audience_of(session: TrainingSession) -> QuerySet[User]:
    return trainees(session.units.all(), session.audiences).select_related("unit")


def may_read_library(user) -> bool:
    return user.has_role(*LIBRARY_ROLES)


def library() -> QuerySet[TrainingMaterial]:
    return TrainingMaterial.objects.prefetch_related("versions")


def sessions_visible_to(user) -> QuerySet[TrainingSession]:
    """County staff see every session; a unit's people see the sessions their unit is in."""
    sessions = TrainingSession.objects.prefetch_related("units")
    if user.is_county_staff:
        return sessions
    if user.unit_id and user.has_role(*STAFF_ROLES, Role.VILLAGE_ASSISTANT):
        return sessions.filter(units=user.unit_id).distinct()
    return sessions.none()


def record_of(person: User) -> QuerySet[Attendance]:
    """A person's training record: every session attended, newest first."""
    return person.trainings_attended.select_related("session").order_by("-session__held_on")


@dataclass
class Coverage:
    """Who of a unit's township staff and village assistants was trained in a year."""

    unit: Unit
    year: int
    trained: list[User] = field(default_factory=list)
    untrained: list[User] = field(default_factory=list)
    sessions: int = 0  # sessions of the year the unit was in

    @property
    def people(self) -> int:
        return len(self.trained) + len(self.untrained)

    @property
    def rate(self):
        from decimal import Decimal

        if not self.people:
            return None
        return (Decimal(len(self.trained) * 100) / self.people).quantize(Decimal("0.1"))


def _year(year: int) -> Q:
    return Q(held_on__gte=date(year, 1, 1), held_on__lte=date(year, 12, 31))


def unit_coverage(unit: Unit, year: int) -> Coverage:
    people = list(trainees([unit]))
    attended = set(
        Attendance.objects.filter(
            trainee__in=people,
            session__held_on__gte=date(year, 1, 1),
            session__held_on__lte=date(year, 12, 31),
        ).values_list("trainee_id", flat=True)
    )
    coverage = Coverage(unit=unit, year=year)
    coverage.sessions = TrainingSession.objects.filter(_year(year), units=unit).count()
    for person in people:
        (coverage.trained if person.pk in attended else coverage.untrained).append(person)
    return coverage


def coverage_by_unit(year: int) -> dict[int, Coverage]:
    """Every approval unit's coverage in a year (a few queries per unit; ten units)."""
    return {unit.pk: unit_coverage(unit, year) for unit in Unit.objects.approval_units()}


def signing_role(user) -> str:
    """The role a person signs an attendance in: the first they hold of the training roles."""
    for role in (Role.COUNTY_SUPERVISOR, *STAFF_ROLES, Role.VILLAGE_ASSISTANT):
        if user.has_role(role):
            return role
    return ""
