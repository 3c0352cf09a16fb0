"""A refused application names the bad field in the form's own words, never by its code path."""

from __future__ import annotations

from ..factories import unique_id_number
from ..security.test_decided_case_and_county_records import application


def test_a_bad_id_of_the_second_member_is_named_as_the_form_names_it(people, login):
    members = [("张三", unique_id_number()), ("李四", "150822123")]
    response = login(people.handler).post("/cases/new/", application(people, *members))
    page = response.content.decode()
    assert response.status_code == 400
    assert "第2位家庭成员的公民身份号码" in page
    assert "members[" not in page and "id_number" not in page
    # What was typed comes back.
    assert "李四" in page and "150822123" in page
