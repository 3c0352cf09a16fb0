"""The working-day calendar on real dates: the State Council's 2026 schedule from the
chinese_calendar package, weekdays (provisional) for 2027, and the administrator's table."""

from datetime import date

from accounts.models import Notification, Role
from cases.deadlines import calendar
from cases.models import CalendarYear, WorkdayOverride

from ..conftest import make_user


def test_the_2026_spring_festival_is_skipped_and_its_adjusted_saturdays_count(db):
    assert calendar.is_workday(date(2026, 2, 14))  # Saturday, adjusted working day
    assert not calendar.is_workday(date(2026, 2, 17))  # Spring Festival, a Tuesday
    assert calendar.is_workday(date(2026, 2, 28))  # Saturday, adjusted working day
    # Accepted 10 February: weekdays alone would give 10 March.
    assert calendar.add_workdays(date(2026, 2, 10), 20) == (date(2026, 3, 16), False)


def test_the_2026_national_day_holiday_moves_the_deadline(db):
    assert calendar.is_workday(date(2026, 9, 20))  # Sunday, adjusted working day
    assert not calendar.is_workday(date(2026, 10, 5))
    assert calendar.is_workday(date(2026, 10, 10))  # Saturday, adjusted working day
    assert calendar.add_workdays(date(2026, 9, 21), 20) == (date(2026, 10, 26), False)
    assert calendar.workdays_between(date(2026, 9, 30), date(2026, 10, 12)) == 4


def test_the_acceptance_day_itself_is_not_counted(db):
    assert calendar.add_workdays(date(2026, 11, 27), 1).date == date(2026, 11, 30)


def test_a_2027_deadline_is_counted_on_weekdays_and_marked_provisional(db):
    result = calendar.add_workdays(date(2026, 12, 15), 20)
    assert result == (date(2027, 1, 12), True)


def test_a_provisional_deadline_alerts_each_administrator_once_per_year(db, unit_a):
    admin = make_user(unit_a, Role.ADMINISTRATOR, username="admin1")
    handler = make_user(unit_a, Role.HANDLER, username="h1")
    calendar.add_workdays(date(2026, 12, 15), 20)
    calendar.add_workdays(date(2026, 12, 20), 20)
    alerts = Notification.objects.filter(key="calendar:unknown-year:2027")
    assert [n.user for n in alerts] == [admin]
    assert "2027年" in alerts.get().title
    assert not handler.notifications.exists()


def test_2027_entered_by_the_administrator_is_no_longer_provisional(db):
    WorkdayOverride.objects.create(date=date(2027, 1, 1), is_workday=False, name="元旦")
    assert calendar.add_workdays(date(2026, 12, 15), 20) == (date(2027, 1, 13), True)
    CalendarYear.objects.create(year=2027, complete=True)
    assert calendar.add_workdays(date(2026, 12, 15), 20) == (date(2027, 1, 13), False)


def test_the_table_wins_over_the_package_for_a_local_correction(db):
    assert calendar.is_workday(date(2026, 12, 1))
    WorkdayOverride.objects.create(date=date(2026, 12, 1), is_workday=False, name="本地调整")
    assert not calendar.is_workday(date(2026, 12, 1))


def test_a_change_made_elsewhere_is_seen_on_the_next_call(db):
    override = WorkdayOverride.objects.create(date=date(2027, 1, 4), is_workday=True)
    assert calendar.is_workday(date(2027, 1, 4))
    # Another process changes the table: no save() here, so only the fingerprint notices.
    WorkdayOverride.objects.filter(pk=override.pk).update(is_workday=False)
    assert not calendar.is_workday(date(2027, 1, 4))
    WorkdayOverride.objects.filter(pk=override.pk).delete()
    assert calendar.is_workday(date(2027, 1, 4))


def test_the_calendar_is_read_once_while_the_table_is_unchanged(db, django_assert_max_num_queries):
    calendar.current_calendar()
    with django_assert_max_num_queries(1):
        calendar.workdays_between(date(2026, 1, 1), date(2026, 12, 31))


def test_confirmations_after_the_20th_are_paid_from_the_month_after_next(db):
    assert calendar.first_payable_month(date(2026, 11, 20)) == date(2026, 12, 1)
    assert calendar.first_payable_month(date(2026, 11, 21)) == date(2027, 1, 1)
    assert calendar.first_payable_month(date(2026, 12, 28)) == date(2027, 2, 1)


def test_the_administrator_home_says_which_years_are_missing(db, unit_a, login):
    import time_machine

    admin = make_user(unit_a, Role.ADMINISTRATOR, username="admin1")
    with time_machine.travel("2026-11-27 10:00 +0800", tick=False):
        page = login(admin).get("/home/").content.decode()
        assert "2026年节假日安排" in page and "已确定" in page
        assert "2027年节假日安排" in page and "尚未录入" in page
        CalendarYear.objects.create(year=2027, complete=True)
        page = login(admin).get("/home/").content.decode()
        assert "尚未录入" not in page
