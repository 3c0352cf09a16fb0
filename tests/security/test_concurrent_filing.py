"""Two applications filed at the same moment in one unit: both succeed with distinct numbers."""

import importlib
import threading

import pytest
from django.db import connection, connections

from cases import services
from cases.models import Case, CaseNumberCounter

from ..conftest import service_missing
from ..factories import CaseFactory, HouseholdFactory, PersonFactory, unique_id_number

ROUNDS = 20


def file_in_thread(people, id_number, barrier, results):
    try:
        barrier.wait()
        case = services.file_application(
            actor=people.handler,
            kind="dibao",
            village=people.village_a,
            area="rural",
            members=[{"name": "张明东", "id_number": id_number}],
        )
        results.append(case.number)
    except Exception as exc:  # noqa: BLE001 - the test counts anything else as an error
        results.append(exc)
    finally:
        connections.close_all()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_twenty_rounds_of_two_concurrent_filings_give_forty_distinct_numbers(people):
    if connection.vendor != "postgresql":
        service_missing("PostgreSQL (set DATABASE_URL=postgres://...)")
    numbers, errors = [], []
    for _ in range(ROUNDS):
        barrier, results = threading.Barrier(2), []
        threads = [
            threading.Thread(
                target=file_in_thread, args=(people, unique_id_number(), barrier, results)
            )
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        errors += [r for r in results if not isinstance(r, str)]
        numbers += [r for r in results if isinstance(r, str)]
    assert errors == []
    assert len(numbers) == 2 * ROUNDS
    assert len(set(numbers)) == 2 * ROUNDS
    assert Case.objects.filter(unit=people.unit_a).count() == 2 * ROUNDS


def test_numbers_count_up_per_unit_and_start_again_in_each_unit(people):
    def file(village):
        clerk = people.handler if village == people.village_a else people.outsider
        return services.file_application(
            actor=clerk,
            kind="dibao",
            village=village,
            area="rural",
            members=[{"name": "张明东", "id_number": unique_id_number()}],
        ).number

    first, second, elsewhere = (
        file(people.village_a),
        file(people.village_a),
        file(people.village_b),
    )
    assert first.startswith(f"{people.unit_a.code}-") and first.endswith("-00001")
    assert second.endswith("-00002")
    assert elsewhere.startswith(f"{people.unit_b.code}-") and elsewhere.endswith("-00001")


def test_the_migration_starts_each_counter_after_the_highest_number_issued(people):
    household = HouseholdFactory(village=people.village_a)
    for number in (f"{people.unit_a.code}-2025-00007", f"{people.unit_a.code}-2025-00012"):
        CaseFactory(applicant=PersonFactory(household=household), number=number)
    CaseFactory(applicant=PersonFactory(household=household), number="T-2025-099999")
    migration = importlib.import_module("cases.migrations.0007_case_number_counter")
    with connection.cursor() as cursor:
        cursor.execute(migration.INITIAL_COUNTERS)
    counters = {(c.unit_id, c.year): c.last for c in CaseNumberCounter.objects.all()}
    assert counters == {(people.unit_a.pk, 2025): 12}
