from datetime import date, timedelta

import chinese_calendar
import pytest

from dengkou_aid.lib.workdays import Countdown, WorkdayCalendar, WorkdayResult

calendar = WorkdayCalendar()


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(n) for n in range((end - start).days + 1)]


# 2026 Spring Festival per chinese_calendar 1.11.0 (the State Council's notice):
# off Sun 15 Feb – Mon 23 Feb, working on Sat 14 Feb and Sat 28 Feb.


def test_the_package_data_is_the_2026_spring_festival_schedule():
    for day in days(date(2026, 2, 15), date(2026, 2, 23)):
        assert chinese_calendar.get_holiday_detail(day) == (True, "Spring Festival")
    assert chinese_calendar.get_holiday_detail(date(2026, 2, 14)) == (False, "Spring Festival")
    assert chinese_calendar.get_holiday_detail(date(2026, 2, 28)) == (False, "Spring Festival")


def test_it_follows_the_package_through_february_and_october_2026():
    for day in days(date(2026, 2, 1), date(2026, 3, 31)) + days(
        date(2026, 9, 1), date(2026, 10, 31)
    ):
        assert calendar.is_workday(day) == chinese_calendar.is_workday(day), day
        assert calendar.is_known(day)


def test_spring_festival_2026_holidays_and_adjusted_saturdays():
    assert calendar.is_workday(date(2026, 2, 14))  # Saturday, adjusted working day
    assert not any(calendar.is_workday(day) for day in days(date(2026, 2, 15), date(2026, 2, 23)))
    assert calendar.is_workday(date(2026, 2, 24))
    assert calendar.is_workday(date(2026, 2, 28))  # Saturday, adjusted working day
    assert not calendar.is_workday(date(2026, 3, 1))  # an ordinary Sunday


def test_adding_working_days_across_the_spring_festival():
    assert calendar.add_workdays(date(2026, 2, 13), 1) == WorkdayResult(date(2026, 2, 14), False)
    assert calendar.add_workdays(date(2026, 2, 13), 2).date == date(2026, 2, 24)
    assert calendar.add_workdays(date(2026, 2, 12), 3).date == date(2026, 2, 24)
    assert calendar.add_workdays(date(2026, 2, 13), 10).date == date(2026, 3, 5)


def test_the_start_day_is_not_counted_even_when_it_is_a_holiday():
    assert calendar.add_workdays(date(2026, 2, 16), 1).date == date(2026, 2, 24)
    # chinese_calendar.find_workday counts differently from a holiday start.
    assert chinese_calendar.find_workday(1, date(2026, 2, 16)) == date(2026, 2, 25)


def test_adding_zero_or_negative_working_days():
    assert calendar.add_workdays(date(2026, 2, 16), 0) == WorkdayResult(date(2026, 2, 16), False)
    assert calendar.add_workdays(date(2026, 2, 24), -1).date == date(2026, 2, 14)


def test_national_day_2026_with_its_adjusted_working_days():
    assert calendar.is_workday(date(2026, 9, 20))  # Sunday, adjusted working day
    assert not calendar.is_workday(date(2026, 9, 25))  # Mid-autumn Festival, a Friday
    assert not any(calendar.is_workday(day) for day in days(date(2026, 10, 1), date(2026, 10, 7)))
    assert calendar.is_workday(date(2026, 10, 10))  # Saturday, adjusted working day
    assert calendar.add_workdays(date(2026, 9, 30), 1).date == date(2026, 10, 8)
    assert calendar.add_workdays(date(2026, 9, 30), 3).date == date(2026, 10, 10)
    assert calendar.add_workdays(date(2026, 9, 30), 4).date == date(2026, 10, 12)


def test_workdays_between_counts_after_a_up_to_and_including_b():
    assert calendar.workdays_between(date(2026, 2, 13), date(2026, 2, 24)) == 2
    assert calendar.workdays_between(date(2026, 2, 24), date(2026, 2, 13)) == -2
    assert calendar.workdays_between(date(2026, 2, 13), date(2026, 2, 13)) == 0
    assert calendar.workdays_between(date(2026, 9, 30), date(2026, 10, 10)) == 3


def test_a_year_the_package_does_not_know_falls_back_to_weekdays_provisionally():
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))
    assert not calendar.is_known(date(2027, 1, 1))
    assert calendar.is_workday(date(2027, 1, 1))  # a Friday: surely New Year's Day, not yet known
    assert not calendar.is_workday(date(2027, 1, 2))
    assert calendar.add_workdays(date(2026, 12, 30), 3) == WorkdayResult(date(2027, 1, 4), True)
    assert calendar.add_workdays(date(2026, 12, 28), 3) == WorkdayResult(date(2026, 12, 31), False)


def test_a_year_before_the_package_data_is_provisional_too():
    assert calendar.add_workdays(date(2003, 1, 3), 1) == WorkdayResult(date(2003, 1, 6), True)


def test_overrides_and_known_years_make_2027_definite():
    known = WorkdayCalendar(overrides={date(2027, 1, 1): False}, known_years={2027})
    assert known.is_known(date(2027, 6, 1))
    assert not known.is_workday(date(2027, 1, 1))
    assert known.add_workdays(date(2026, 12, 30), 3) == WorkdayResult(date(2027, 1, 5), False)


def test_an_override_alone_is_known_for_its_own_day_only():
    partial = WorkdayCalendar(overrides={date(2027, 1, 1): False})
    assert partial.is_known(date(2027, 1, 1))
    assert not partial.is_known(date(2027, 1, 4))
    assert partial.add_workdays(date(2026, 12, 31), 1) == WorkdayResult(date(2027, 1, 4), True)


def test_overrides_win_over_the_package():
    adjusted = WorkdayCalendar(overrides={date(2026, 2, 24): False, date(2026, 3, 1): True})
    assert not adjusted.is_workday(date(2026, 2, 24))
    assert adjusted.is_workday(date(2026, 3, 1))
    assert adjusted.add_workdays(date(2026, 2, 14), 1).date == date(2026, 2, 25)


def test_workdays_left_before_on_and_after_the_due_date():
    due = date(2026, 2, 24)
    assert calendar.workdays_left(date(2026, 2, 13), due) == Countdown(2, False, False)
    assert calendar.workdays_left(due, due) == Countdown(0, False, False)
    assert calendar.workdays_left(date(2026, 2, 25), due) == Countdown(-1, True, False)


def test_workdays_left_is_overdue_on_the_weekend_after_a_friday_due_date():
    friday = date(2026, 3, 6)
    assert calendar.workdays_left(date(2026, 3, 7), friday) == Countdown(0, True, False)
    assert calendar.workdays_left(date(2026, 3, 9), friday) == Countdown(-1, True, False)


def test_workdays_left_is_provisional_when_the_span_reaches_an_unknown_year():
    countdown = calendar.workdays_left(date(2026, 12, 30), date(2027, 1, 4))
    assert countdown == Countdown(3, False, True)
