"""The case list, the case page and the case API answer with a fixed number of queries."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Household, State

from ..factories import CaseFactory, HouseholdFactory, PersonFactory
from .flow import load_materials

MAX_QUERIES = 30


def make_cases(village, n):
    for i in range(n):
        household = HouseholdFactory(village=village)
        person = PersonFactory(household=household)
        PersonFactory(household=household, relation="spouse")
        CaseFactory(
            applicant=person,
            household=household,
            state=State.ACCEPTED if i % 2 else State.SUBMITTED,
            due_date=timezone.localdate() if i % 2 else None,
        )


def count(client, url, assert_max):
    """Queries of one request, after a first one that warms per-process caches (the calendar)."""
    client.get(url)
    with assert_max(MAX_QUERIES), CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.fixture
def clients(people, login, api):
    load_materials()
    return {"page": login(people.handler, Client()), "api": api(people.handler)}


@pytest.mark.parametrize(
    "url",
    [
        "/cases/",
        "/cases/?order=due&kind=dibao",
        "/api/cases/",
        "/api/cases/households/",
        "/home/",
    ],
)
def test_lists_answer_with_the_same_number_of_queries_for_10_and_200_cases(
    clients, people, url, django_assert_max_num_queries
):
    client = clients["api" if url.startswith("/api/") else "page"]
    make_cases(people.village_a, 10)
    ten = count(client, url, django_assert_max_num_queries)
    make_cases(people.village_a, 190)
    two_hundred = count(client, url, django_assert_max_num_queries)
    assert ten == two_hundred


@pytest.mark.parametrize("prefix", ["/cases/{}/", "/api/cases/{}/", "/api/cases/{}/events/"])
def test_a_case_answers_with_the_same_number_of_queries_however_many_members_and_cases(
    clients, people, prefix, django_assert_max_num_queries
):
    client = clients["api" if prefix.startswith("/api/") else "page"]
    make_cases(people.village_a, 10)
    case = Household.objects.first().cases.get()
    few = count(client, prefix.format(case.pk), django_assert_max_num_queries)
    make_cases(people.village_a, 190)
    for _ in range(8):
        PersonFactory(household=case.household, relation="child")
    many = count(client, prefix.format(case.pk), django_assert_max_num_queries)
    assert few == many
