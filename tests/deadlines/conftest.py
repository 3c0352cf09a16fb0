"""Cases with a running clock for the deadline tests."""

from __future__ import annotations

from datetime import date

import pytest

from cases.deadlines import calendar
from cases.models import State

from ..factories import CaseFactory, HouseholdFactory, PersonFactory


@pytest.fixture(autouse=True)
def _fresh_calendar():
    calendar.invalidate()
    yield
    calendar.invalidate()


@pytest.fixture
def make_case(people):
    """A case of unit A in a clock state, handled by people.handler unless told otherwise."""

    def _make(*, due_date: date, accepted_on: date | None = None, **kwargs):
        applicant = PersonFactory(
            household=HouseholdFactory(village=kwargs.pop("village", people.village_a))
        )
        kwargs.setdefault("state", State.ACCEPTED)
        kwargs.setdefault("handler", people.handler)
        return CaseFactory(
            applicant=applicant,
            accepted_on=accepted_on or date(2026, 11, 2),
            due_date=due_date,
            **kwargs,
        )

    return _make
