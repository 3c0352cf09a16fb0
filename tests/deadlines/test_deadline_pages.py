"""Working days left on the pages: the county's overdue list across units, the township's
case list, and the selectors they use."""

from datetime import date

import pytest
import time_machine

from cases.deadlines.services import deadline_badge, filter_deadline, order_by_deadline
from cases.models import Case, State

TODAY = date(2026, 11, 27)  # a Friday


@pytest.fixture
def frozen():
    with time_machine.travel("2026-11-27 10:00 +0800", tick=False):
        yield


@pytest.fixture
def three_cases(people, make_case):
    late = make_case(due_date=date(2026, 11, 24), number="A-LATE")
    soon = make_case(due_date=date(2026, 12, 1), number="A-SOON")
    later = make_case(due_date=date(2026, 12, 4), number="A-LATER")
    other = make_case(due_date=date(2026, 11, 20), number="B-LATE", village=people.village_b)
    return late, soon, later, other


def test_the_county_sees_overdue_cases_of_every_unit_with_days_overdue(
    frozen, people, three_cases, login
):
    client = login(people.supervisor)
    page = client.get("/cases/deadlines/").content.decode()
    assert "A-LATE" in page and "B-LATE" in page
    assert "A-SOON" not in page
    assert "已超期3个工作日" in page  # due Tuesday 24th: Wed, Thu, Fri
    assert "已超期5个工作日" in page
    assert page.index("B-LATE") < page.index("A-LATE")  # longest overdue first
    assert "隆盛合镇" in page and "巴彦高勒镇" in page


def test_the_county_filters_soon_due_cases_and_by_unit(frozen, people, three_cases, login):
    client = login(people.supervisor)
    page = client.get("/cases/deadlines/", {"bucket": "2"}).content.decode()
    assert "A-SOON" in page and "剩余2个工作日" in page
    assert "A-LATER" not in page and "A-LATE<" not in page
    page = client.get("/cases/deadlines/", {"unit": people.unit_b.pk}).content.decode()
    assert "B-LATE" in page and "A-LATE" not in page


def test_township_staff_may_not_open_the_county_list(frozen, people, three_cases, login):
    assert login(people.handler).get("/cases/deadlines/").status_code == 403


def test_the_township_case_list_shows_working_days_left(frozen, people, three_cases, login):
    page = login(people.handler).get("/cases/").content.decode()
    assert "A-SOON" in page and "B-LATE" not in page
    row = page[page.index("A-SOON") :].split("</tr>")[0]
    assert ">2<" in row


def test_the_buckets_and_the_order_follow_working_days_left(db, people, three_cases):
    late, soon, later, other = three_cases
    everything = Case.objects.all()
    assert set(filter_deadline(everything, "overdue", today=TODAY)) == {late, other}
    assert set(filter_deadline(everything, "2", today=TODAY)) == {soon}
    assert set(filter_deadline(everything, "5", today=TODAY)) == {soon, later}
    stopped = type(late).objects.create(
        **{
            f.name: getattr(later, f.name)
            for f in Case._meta.concrete_fields
            if f.name not in ("id", "number", "state")
        },
        number="A-DONE",
        state=State.CONFIRMED,
    )
    assert list(order_by_deadline(everything)) == [other, late, soon, later, stopped]


def test_the_badge_is_gone_once_the_clock_stops(db, make_case):
    running = make_case(due_date=date(2026, 12, 4))
    assert deadline_badge(running, today=TODAY).label == "剩余5个工作日"
    assert deadline_badge(running, today=date(2026, 12, 4)).label == "今日到期"
    assert deadline_badge(running, today=date(2026, 12, 5)).label == "已超期1个工作日"
    for state in (State.WITHDRAWN, State.REFUSED, State.CONFIRMED):
        assert deadline_badge(make_case(due_date=date(2026, 12, 4), state=state)) is None


def test_a_provisional_deadline_says_so(db, make_case):
    case = make_case(due_date=date(2027, 1, 12), deadline_provisional=True)
    badge = deadline_badge(case, today=TODAY)
    assert badge.provisional and badge.label.endswith("（暂定）")
