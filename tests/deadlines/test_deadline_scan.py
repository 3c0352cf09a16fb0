"""The daily deadline scan: 5- and 2-day warnings to the handler and the direct-responsible
leader, overdue cases flagged to the county, each warning once however often it runs."""

from datetime import date

from django.core import mail

from accounts.models import Notification
from cases.deadlines.services import scan_deadlines
from cases.models import State

TODAY = date(2026, 11, 27)  # a Friday
IN_5 = date(2026, 12, 4)  # five working days after TODAY
IN_2 = date(2026, 12, 1)


def keys_of(user):
    return sorted(user.notifications.values_list("key", flat=True))


def test_five_working_days_left_warns_the_handler_and_the_direct_leader(people, make_case):
    case = make_case(due_date=IN_5)
    scan_deadlines(today=TODAY)
    key = f"deadline:{case.pk}:2026-12-04:5"
    assert keys_of(people.handler) == [key]
    assert keys_of(people.direct) == [key]
    assert "剩余5个工作日" in people.handler.notifications.get().title
    assert not people.handler2.notifications.exists()
    assert not people.outsider_direct.notifications.exists()
    assert not people.supervisor.notifications.filter(key__startswith="deadline:").exists()


def test_running_the_scan_twice_warns_once(people, make_case):
    make_case(due_date=IN_5)
    first = scan_deadlines(today=TODAY)
    second = scan_deadlines(today=TODAY)
    assert (first.notices, second.notices) == (2, 0)
    assert Notification.objects.filter(key__startswith="deadline:").count() == 2


def test_the_two_day_warning_follows_the_five_day_one(people, make_case):
    case = make_case(due_date=IN_5)
    scan_deadlines(today=TODAY)
    scan_deadlines(today=date(2026, 12, 1))  # three working days left: nothing new
    scan_deadlines(today=date(2026, 12, 2))
    assert keys_of(people.handler) == [
        f"deadline:{case.pk}:2026-12-04:2",
        f"deadline:{case.pk}:2026-12-04:5",
    ]


def test_six_working_days_left_is_not_yet_warned(people, make_case):
    make_case(due_date=date(2026, 12, 7))
    assert scan_deadlines(today=TODAY).notices == 0


def test_a_case_without_a_named_handler_warns_every_handler_of_the_unit(people, make_case):
    make_case(due_date=IN_2, handler=None)
    scan_deadlines(today=TODAY)
    assert people.handler.notifications.count() == 1
    assert people.handler2.notifications.count() == 1


def test_an_overdue_case_is_flagged_to_the_county_supervisors_once(people, make_case):
    case = make_case(due_date=date(2026, 11, 25))
    scan_deadlines(today=TODAY)
    scan_deadlines(today=date(2026, 11, 30))
    flag = people.supervisor.notifications.get()
    assert flag.key == f"deadline:{case.pk}:2026-11-25:overdue"
    assert "已超期2个工作日" in flag.title
    assert people.handler.notifications.filter(key=flag.key).exists()


def test_cases_whose_clock_has_stopped_are_not_warned(people, make_case):
    for state in (State.WITHDRAWN, State.REFUSED, State.CONFIRMED, State.APPROVED):
        make_case(due_date=date(2026, 11, 25), state=state)
    make_case(due_date=IN_2, state=State.SUBMITTED)
    assert scan_deadlines(today=TODAY).notices == 0
    assert not Notification.objects.exists()


def test_an_extension_re_arms_the_warnings_for_the_new_due_date(people, make_case):
    case = make_case(due_date=IN_2)
    scan_deadlines(today=TODAY)
    type(case).objects.filter(pk=case.pk).update(due_date=date(2026, 12, 15), extended=True)
    scan_deadlines(today=date(2026, 12, 8))
    assert keys_of(people.handler) == [
        f"deadline:{case.pk}:2026-12-01:2",
        f"deadline:{case.pk}:2026-12-15:5",
    ]


def test_a_warning_is_e_mailed_to_a_user_with_an_address(
    people, make_case, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    people.handler.email = "li@example.org"
    people.handler.save(update_fields=["email"])
    make_case(due_date=IN_5)
    with django_capture_on_commit_callbacks(execute=True):
        scan_deadlines(today=TODAY)
        scan_deadlines(today=TODAY)
    assert [m.to for m in mail.outbox] == [["li@example.org"]]
    assert people.handler.notifications.get().emailed_at is not None
