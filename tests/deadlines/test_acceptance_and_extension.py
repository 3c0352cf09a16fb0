"""The 20-working-day limit from acceptance and the one 10-working-day extension, through the
case services (cases.services), on the real 2026 calendar."""

from datetime import date

import pytest
import time_machine

from cases import services
from cases.models import Case, State
from dengkou_aid.errors import Conflict, DomainError

from ..conftest import signing_otp


@pytest.fixture
def accepted(people, make_case):
    """Accepted on Tuesday 10 February 2026, before the Spring Festival holiday."""
    with time_machine.travel("2026-02-10 09:00 +0800", tick=False):
        case = make_case(due_date=None, accepted_on=None, state=State.SUBMITTED)
        return services.accept(actor=people.handler, case=case)


def test_acceptance_counts_20_working_days_across_the_spring_festival(accepted):
    assert accepted.accepted_on == date(2026, 2, 10)
    assert (accepted.due_date, accepted.deadline_provisional) == (date(2026, 3, 16), False)


def test_acceptance_late_in_the_year_gives_a_provisional_2027_deadline(people, make_case):
    with time_machine.travel("2026-12-15 09:00 +0800", tick=False):
        case = make_case(due_date=None, accepted_on=None, state=State.SUBMITTED)
        case = services.accept(actor=people.handler, case=case)
    assert (case.due_date, case.deadline_provisional) == (date(2027, 1, 12), True)


def test_an_extension_adds_10_working_days_once_with_a_reason(people, accepted):
    with time_machine.travel("2026-03-10 09:00 +0800", tick=False):
        case = services.extend(
            actor=people.direct,
            case=accepted,
            reason="需补充异地核对",
            otp_token=signing_otp(people.direct),
        )
    assert (case.due_date, case.extended) == (date(2026, 3, 30), True)
    with time_machine.travel("2026-03-11 09:00 +0800", tick=False), pytest.raises(Conflict):
        services.extend(
            actor=people.direct, case=case, reason="再次延期", otp_token=signing_otp(people.direct)
        )
    assert Case.objects.get(pk=case.pk).due_date == date(2026, 3, 30)


def test_an_extension_without_a_reason_is_refused(people, accepted):
    with (
        time_machine.travel("2026-03-10 09:00 +0800", tick=False),
        pytest.raises(DomainError, match="延期理由"),
    ):
        services.extend(
            actor=people.direct, case=accepted, reason="  ", otp_token=signing_otp(people.direct)
        )
    assert not Case.objects.get(pk=accepted.pk).extended


def test_an_extension_after_the_deadline_is_refused(people, accepted):
    with (
        time_machine.travel("2026-03-17 09:00 +0800", tick=False),
        pytest.raises(DomainError, match="已过"),
    ):
        services.extend(
            actor=people.direct,
            case=accepted,
            reason="需补充异地核对",
            otp_token=signing_otp(people.direct),
        )
    assert Case.objects.get(pk=accepted.pk).due_date == date(2026, 3, 16)
