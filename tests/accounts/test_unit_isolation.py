"""Unit isolation for every role: a user of unit A lists and fetches nothing of unit B."""

import pytest
from django.http import Http404
from guardian.shortcuts import assign_perm

from accounts.models import AuditLog
from cases.permissions import case_for_user, cases_visible_to

from ..factories import CaseFactory, HouseholdFactory, PersonFactory


@pytest.fixture
def two_cases(people):
    case_a = CaseFactory(
        applicant=PersonFactory(household=HouseholdFactory(village=people.village_a))
    )
    case_b = CaseFactory(
        applicant=PersonFactory(household=HouseholdFactory(village=people.village_b))
    )
    return case_a, case_b


@pytest.mark.parametrize("who", ["handler", "direct", "first", "assistant"])
def test_unit_a_staff_see_their_unit_only(people, two_cases, who):
    user = getattr(people, who)
    case_a, case_b = two_cases
    assert list(cases_visible_to(user)) == [case_a]
    assert case_for_user(user, case_a.pk) == case_a
    with pytest.raises(Http404):
        case_for_user(user, case_b.pk)
    assert AuditLog.objects.filter(
        action="access_denied", user=user, detail=f"case#{case_b.pk}"
    ).exists()


@pytest.mark.parametrize("who", ["outsider", "outsider_direct", "outsider_assistant"])
def test_unit_b_staff_see_nothing_of_unit_a(people, two_cases, who):
    user = getattr(people, who)
    case_a, case_b = two_cases
    assert list(cases_visible_to(user)) == [case_b]
    with pytest.raises(Http404):
        case_for_user(user, case_a.pk)


def test_a_village_assistant_sees_only_their_village(people, two_cases):
    from ..factories import VillageFactory

    other_village = VillageFactory(unit=people.unit_a)
    case_other = CaseFactory(
        applicant=PersonFactory(household=HouseholdFactory(village=other_village))
    )
    visible = set(cases_visible_to(people.assistant))
    assert two_cases[0] in visible and case_other not in visible


@pytest.mark.parametrize("who", ["supervisor", "verifier", "finance"])
def test_county_staff_see_every_unit(people, two_cases, who):
    assert set(cases_visible_to(getattr(people, who))) == set(two_cases)


def test_a_third_party_investigator_sees_only_assigned_cases(people, two_cases):
    case_a, _case_b = two_cases
    assert list(cases_visible_to(people.investigator)) == []
    case_a.agency = people.agency
    case_a.save(update_fields=["agency"])
    assign_perm("cases.visit_case", people.investigator, case_a)
    assert list(cases_visible_to(people.investigator)) == [case_a]


def test_a_user_without_unit_or_role_sees_nothing(db, two_cases):
    from ..factories import UserFactory

    nobody = UserFactory(unit=None, roles=[])
    assert list(cases_visible_to(nobody)) == []


def test_the_case_list_is_one_query_whatever_the_data(people, two_cases, django_assert_num_queries):
    people.handler.role_codes  # noqa: B018  (roles are read once per request)
    with django_assert_num_queries(1):
        list(cases_visible_to(people.handler))
