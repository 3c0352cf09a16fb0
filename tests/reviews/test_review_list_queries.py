"""The review list costs the same few queries whether it shows 10 reviews or 50."""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext

from disbursement.models import Review
from disbursement.reviews import services as reviews

from .conftest import at


def _list_queries(client) -> tuple[int, str]:
    client.get("/reviews/")  # the session's own writes happen once, not on every page
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/reviews/").content.decode()
    return len(queries), page


def _open_reviews(paid, n: int) -> None:
    for _ in range(n):
        paid(volatile=True)
    with at(date(2026, 7, 10)):
        reviews.open_due_reviews()


def test_the_review_list_does_not_query_per_household(paid, people, login, client):
    login(people.handler)
    _open_reviews(paid, 10)
    with at(date(2026, 7, 10)):
        ten, page = _list_queries(client)
    assert Review.objects.count() == 10
    assert all(f"{r.household.head.name}户" in page for r in Review.objects.all())

    _open_reviews(paid, 40)
    with at(date(2026, 7, 10)):
        fifty, page = _list_queries(client)
    assert Review.objects.count() == 50
    assert all(f"{r.household.head.name}户" in page for r in Review.objects.all())
    assert fifty == ten, f"{ten} queries for 10 reviews, {fifty} for 50"
