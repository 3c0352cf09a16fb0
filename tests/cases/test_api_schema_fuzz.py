"""The OpenAPI schema is valid, and schemathesis finds no server error on the case endpoints."""

import pytest
import schemathesis
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..factories import CaseFactory, HouseholdFactory, PersonFactory
from .flow import load_materials

EXAMPLES_PER_OPERATION = 8


@pytest.fixture
def openapi(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_valid_openapi_3(openapi):
    validate_schema(openapi)
    assert openapi["openapi"].startswith("3.")
    assert "/api/cases/{id}/transitions/{name}/" in openapi["paths"]


@pytest.mark.django_db(transaction=True)
def test_the_case_endpoints_answer_fuzzed_requests_without_a_server_error(
    api, people, standards, live_server
):
    # Over HTTP to a live server: the server thread has its own database connection.
    load_materials()
    household = HouseholdFactory(village=people.village_a)
    case = CaseFactory(applicant=PersonFactory(household=household), household=household)
    token = api(people.handler)._credentials["HTTP_AUTHORIZATION"]
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")
    operations = [
        result.ok() for result in schema.include(path_regex=r"^/api/cases/").get_all_operations()
    ]
    assert len(operations) >= 8
    statuses = set()
    for operation in operations:
        fuzz(operation, case.pk, token, statuses, live_server.url)
    # The token worked: real answers came back, not only 401s.
    assert {200, 400} <= statuses, statuses


def fuzz(operation, case_id, token, statuses, base_url):
    @given(case=operation.as_strategy(), real_id=st.booleans())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case, real_id):
        if real_id and case.path_parameters and "id" in case.path_parameters:
            case.path_parameters["id"] = case_id
        response = case.call(base_url=base_url, headers={"Authorization": token})
        statuses.add(response.status_code)
        assert response.status_code < 500, (
            operation.label,
            case.path_parameters,
            case.query,
            case.body,
            response.text[:500],
        )

    run()
