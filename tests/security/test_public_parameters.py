"""The public pages answer 400 for any malformed parameter, never 500."""

import pytest

from cases.models import State

from ..factories import CaseFactory, HouseholdFactory, PersonFactory

MALFORMED_VILLAGES = ["²", "١", "1.5", "-1", "abc", "\x00", "1\x00", " 1", "1e3", "0x10", "9" * 20]


def test_every_malformed_village_answers_400(people, client):
    url = f"/public/{people.unit_a.code}/publicity/"
    statuses = [client.get(url, {"village": value}).status_code for value in MALFORMED_VILLAGES]
    assert statuses == [400] * len(MALFORMED_VILLAGES)
    response = client.get(url, {"village": "²"})
    assert "嘎查村/社区参数格式不正确" in response.content.decode()


@pytest.mark.parametrize("code", ["%C2%B2", "a%00b", "1" * 13, "150822100%20"])
def test_a_malformed_unit_code_answers_400(client, people, code):
    assert client.get(f"/public/{code}/publicity/").status_code == 400
    assert client.get(f"/public/{code}/guide/").status_code == 400


def test_well_formed_but_unknown_values_answer_404_and_good_ones_200(people, client):
    household = HouseholdFactory(village=people.village_a)
    CaseFactory(
        applicant=PersonFactory(household=household), household=household, state=State.IN_PAYMENT
    )
    url = f"/public/{people.unit_a.code}/publicity/"
    assert client.get(url, {"village": "987654"}).status_code == 404
    assert client.get(url, {"village": "9999999999"}).status_code == 404
    assert client.get(url, {"village": str(people.village_b.pk)}).status_code == 404
    assert client.get(url, {"village": str(people.village_a.pk)}).status_code == 200
    assert client.get(url, {"village": ""}).status_code == 200
    assert client.get("/public/999999999/guide/").status_code == 404
