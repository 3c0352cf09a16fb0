"""Two leaders confirming the same case at the same moment: exactly one succeeds, every time."""

import threading

import pytest
from django.db import connections

from accounts.models import Role
from cases import services
from cases.models import Case, State
from dengkou_aid.errors import Conflict

from ..conftest import make_user, signing_otp
from ..factories import CaseFactory, HouseholdFactory, PersonFactory

TRIALS = 50


def confirm_in_thread(user, case_id, barrier, results, code):
    try:
        barrier.wait()
        services.confirm(actor=user, case=Case(pk=case_id), outcome="approve", otp_token=code)
        results.append("ok")
    except Conflict:
        results.append("conflict")
    except Exception as exc:  # noqa: BLE001 - the test reports anything else
        results.append(repr(exc))
    finally:
        connections.close_all()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_fifty_double_confirmations_each_succeed_exactly_once(people):
    other_first = make_user(people.unit_a, Role.FIRST_RESPONSIBLE, username="first_a2")
    for trial in range(TRIALS):
        household = HouseholdFactory(village=people.village_a)
        case = CaseFactory(
            applicant=PersonFactory(household=household),
            household=household,
            state=State.OPINION_SIGNED,
        )
        barrier, results = threading.Barrier(2), []
        threads = [
            threading.Thread(
                target=confirm_in_thread,
                args=(user, case.pk, barrier, results, signing_otp(user)),
            )
            for user in (people.first, other_first)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(results) == ["conflict", "ok"], (trial, results)
        case = Case.objects.get(pk=case.pk)
        assert case.state == State.CONFIRMED
        assert case.signatures.count() == 1
        assert case.events.filter(action="confirm").count() == 1
