"""The application form takes any household size, each member with their own relation, and a
refusal shows the whole form again with the message beside the field."""

from __future__ import annotations

from datetime import date

from cases.models import Case, Income

from ..factories import unique_id_number

RELATIONS = ["head", "spouse", "child", "child", "parent", "parent", "grandchild"]


def household(people, count: int = 7, **overrides) -> dict:
    body = {"kind": "dibao", "area": "rural", "village": people.village_a.pk}
    for n in range(count):
        i = n * 3 + 1  # rows added in the page are numbered as the page numbers them, with gaps
        body.update(
            {
                f"m{i}_name": f"成员{n + 1}号",
                f"m{i}_id": unique_id_number(date(1960 + n * 5, 1, 1)),
                f"m{i}_relation": RELATIONS[n],
                f"m{i}_work": "able",
            }
        )
    body.update(overrides)
    return body


def test_a_household_of_seven_is_filed_with_each_members_own_relation(people, login):
    response = login(people.handler).post("/cases/new/", household(people))
    assert response.status_code == 302, response.content.decode()[:1500]
    case = Case.objects.get()
    members = list(case.household.members.order_by("id").values_list("name", "relation"))
    assert members == [(f"成员{n + 1}号", RELATIONS[n]) for n in range(7)]
    assert case.applicant.name == "成员1号"


def test_a_bad_id_in_the_sixth_row_comes_back_beside_that_field_with_every_row_kept(people, login):
    body = household(people, m16_id="150822123", m19_income="1200", m19_income_source="放牧")
    response = login(people.handler).post("/cases/new/", body)
    page = response.content.decode()
    assert response.status_code == 400
    assert '<span class="error" data-testid="error-m16_id">' in page
    assert "第6位家庭成员的公民身份号码" in page
    for n in range(7):
        assert f'value="成员{n + 1}号"' in page
    assert 'value="150822123"' in page and 'value="1200"' in page and 'value="放牧"' in page
    assert '<option value="grandchild" selected>' in page
    assert "members[" not in page and "id_number" not in page
    assert not Case.objects.exists()


def test_a_negative_income_is_refused_beside_the_income_of_its_member(people, login):
    response = login(people.handler).post(
        "/cases/new/", household(people, count=2, m4_income="-300")
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="error-m4_income">' in page
    assert 'value="-300"' in page


def test_the_income_start_date_may_be_left_blank(people, login):
    response = login(people.handler).post(
        "/cases/new/",
        household(people, count=2, m1_income="500", m1_income_source="务工", m1_income_since=""),
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    assert Income.objects.get().period_start is None


def test_an_impossible_income_start_date_is_refused_in_chinese_beside_the_date(people, login):
    response = login(people.handler).post(
        "/cases/new/",
        household(people, count=2, m1_income="500", m1_income_since="2026-02-30"),
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="error-m1_income_since">' in page
    assert "period_start" not in page and "（kind）" not in page


def test_the_empty_form_offers_two_rows_and_a_button_to_add_more(people, login):
    page = login(people.handler).get("/cases/new/").content.decode()
    assert 'name="m0_name"' in page and 'name="m1_name"' in page
    assert "data-add-member" in page and 'id="member-row-template"' in page
    assert "js/member_rows.js" in page
