"""Demo cases are made through the services, in several states, once."""

from cases.demo import seed_cases
from cases.models import Case, State

from .flow import load_materials


def test_demo_cases_cover_the_workflow_and_are_seeded_once(people, standards):
    load_materials()
    users = {
        "handler": people.handler,
        "direct": people.direct,
        "first": people.first,
        "assistant": people.assistant,
        "verifier": people.verifier,
    }
    made = seed_cases(people.unit_a, people.village_a, users)
    states = set(Case.objects.filter(pk__in=[c.pk for c in made]).values_list("state", flat=True))
    assert {
        State.SUBMITTED,
        State.ACCEPTED,
        State.VERIFICATION_REQUESTED,
        State.APPROVED,
        State.REJECTED,
    } <= states
    assert seed_cases(people.unit_a, people.village_a, users) == []
