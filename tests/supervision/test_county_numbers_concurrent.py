"""Two county documents numbered at the same moment take distinct numbers from the locked
yearly counter; the first number of a year starts at 1 whichever document takes it."""

from __future__ import annotations

import threading

import pytest
from django.db import connections, transaction

from supervision.models import CountyNumber
from supervision.numbering import next_number

ROUNDS = 10


def number_in_thread(barrier, results):
    try:
        barrier.wait()
        with transaction.atomic():
            results.append(next_number("bulletin"))
    except Exception as exc:  # noqa: BLE001 - the test counts anything else as an error
        results.append(exc)
    finally:
        connections.close_all()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_numbers_are_distinct_and_consecutive():
    numbers = []
    for _ in range(ROUNDS):
        barrier, results = threading.Barrier(2), []
        threads = [
            threading.Thread(target=number_in_thread, args=(barrier, results)) for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert all(isinstance(r, str) for r in results), results
        numbers += results
    assert len(set(numbers)) == 2 * ROUNDS
    year = CountyNumber.objects.get(series="bulletin").year
    assert sorted(numbers, key=lambda n: int(n.split("〕")[1][:-1])) == [
        f"磴民政通〔{year}〕{i}号" for i in range(1, 2 * ROUNDS + 1)
    ]
