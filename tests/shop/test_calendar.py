"""The business calendar (SHIP-BUSINESS-HOURS): weekends, RU public holidays, moved working days,
staff closures, and the 15:00 cut-off. Every moment is an aware datetime in Europe/Moscow."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from shop import calendar
from shop.calendar import BusinessCalendar
from shop.models import Closure

MSK = ZoneInfo("Europe/Moscow")

pytestmark = pytest.mark.django_db


def msk(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=MSK)


@pytest.fixture
def cal(policy) -> BusinessCalendar:
    return BusinessCalendar.current()


def test_ship_business_hours_calendar_reads_the_policy(policy):
    policy.business_hours_start = dt.time(10, 0)
    policy.business_hours_end = dt.time(18, 0)
    policy.save()

    cal = BusinessCalendar.current()

    assert (cal.country, cal.tz, cal.opens, cal.closes) == ("RU", MSK, dt.time(10), dt.time(18))
    assert cal.is_open(msk(2026, 3, 10, 17, 30))


def test_ship_business_hours_weekend_is_not_a_business_day(cal):
    assert cal.is_business_day(dt.date(2026, 3, 13))  # Friday
    assert not cal.is_business_day(dt.date(2026, 3, 14))  # Saturday
    assert not cal.is_business_day(dt.date(2026, 3, 15))  # Sunday
    assert not cal.is_open(msk(2026, 3, 14, 11, 0))


def test_ship_business_hours_new_year_holidays_are_closed(cal):
    for day in range(1, 9):
        assert not cal.is_business_day(dt.date(2026, 1, day)), f"2026-01-0{day} is a RU public holiday"
    assert not cal.is_open(msk(2026, 1, 5, 11, 0))  # a Monday, but a holiday


def test_ship_business_hours_moved_working_saturday_is_a_business_day(cal):
    # RU moved a working day to Saturday 2025-11-01 (for the 3 November bridge day).
    assert dt.date(2025, 11, 1).weekday() == 5
    assert cal.is_business_day(dt.date(2025, 11, 1))
    assert cal.is_open(msk(2025, 11, 1, 10, 0))
    assert not cal.is_business_day(dt.date(2025, 11, 3))  # the bridge Monday is a day off


def test_ship_business_hours_staff_closure_is_not_a_business_day(policy):
    Closure.objects.create(date=dt.date(2026, 3, 16), reason="Stocktaking")

    cal = BusinessCalendar.current()

    assert not cal.is_business_day(dt.date(2026, 3, 16))
    # Friday 14:00 + 1 business day skips the weekend and the closed Monday.
    assert cal.add_business_days(msk(2026, 3, 13, 14, 0), 1) == msk(2026, 3, 17, 14, 0)
    assert cal.next_opening(msk(2026, 3, 13, 16, 0)) == msk(2026, 3, 17, 9, 0)


def test_ship_business_hours_friday_1459_plus_two_days_is_tuesday_1459(cal):
    assert cal.add_business_days(msk(2026, 3, 13, 14, 59), 2) == msk(2026, 3, 17, 14, 59)


def test_ship_business_hours_friday_1501_counts_from_monday_opening(cal):
    assert cal.add_business_days(msk(2026, 3, 13, 15, 1), 2) == msk(2026, 3, 18, 9, 0)


def test_ship_business_hours_closing_time_itself_is_outside_hours(cal):
    assert cal.is_open(msk(2026, 3, 13, 14, 59, 59))
    assert not cal.is_open(msk(2026, 3, 13, 15, 0))
    assert cal.is_open(msk(2026, 3, 13, 9, 0))
    assert not cal.is_open(msk(2026, 3, 13, 8, 59))


def test_ship_business_hours_add_days_accepts_utc_and_answers_in_shop_time(cal):
    paid_at = dt.datetime(2026, 3, 13, 11, 59, tzinfo=dt.UTC)  # 14:59 in Moscow
    assert cal.add_business_days(paid_at, 2) == msk(2026, 3, 17, 14, 59)
    late = dt.datetime(2026, 3, 13, 12, 1, tzinfo=dt.UTC)  # 15:01 in Moscow
    assert cal.add_business_days(late, 2) == msk(2026, 3, 18, 9, 0)


def test_ship_business_hours_deadline_across_new_year_holidays(cal):
    # Paid on Tuesday 30 Dec 2025 at noon: 31 Dec and 1–9 Jan 2026 are days off in RU.
    assert cal.add_business_days(msk(2025, 12, 30, 12, 0), 2) == msk(2026, 1, 13, 12, 0)


def test_ship_business_hours_zero_days_is_the_next_opening(cal):
    assert cal.add_business_days(msk(2026, 3, 14, 12, 0), 0) == msk(2026, 3, 16, 9, 0)
    assert cal.add_business_days(msk(2026, 3, 16, 12, 0), 0) == msk(2026, 3, 16, 12, 0)


def test_ship_business_hours_next_opening_before_opening_time_is_same_day(cal):
    assert cal.next_opening(msk(2026, 3, 10, 7, 30)) == msk(2026, 3, 10, 9, 0)


def test_ship_business_hours_next_opening_while_open_is_now(cal):
    assert cal.next_opening(msk(2026, 3, 10, 12, 0)) == msk(2026, 3, 10, 12, 0)


def test_ship_business_hours_next_opening_after_closing_is_next_business_day(cal):
    assert cal.next_opening(msk(2026, 3, 10, 15, 30)) == msk(2026, 3, 11, 9, 0)
    assert cal.next_opening(msk(2026, 3, 13, 18, 0)) == msk(2026, 3, 16, 9, 0)  # Friday evening → Monday


def test_ship_business_hours_next_opening_on_a_holiday(cal):
    # 1 Jan 2026 morning: the holidays run to 8 Jan and 9 Jan is a moved day off.
    assert cal.next_opening(msk(2026, 1, 1, 8, 0)) == msk(2026, 1, 12, 9, 0)


def test_ship_business_hours_business_days_between(cal):
    # Counts days d with start < d <= end.
    assert cal.business_days_between(dt.date(2026, 3, 13), dt.date(2026, 3, 17)) == 2  # Mon, Tue
    assert cal.business_days_between(dt.date(2026, 3, 17), dt.date(2026, 3, 13)) == -2
    assert cal.business_days_between(dt.date(2026, 3, 13), dt.date(2026, 3, 13)) == 0
    assert cal.business_days_between(dt.date(2025, 12, 30), dt.date(2026, 1, 12)) == 1
    # Aware datetimes are compared by their date in the shop's time zone (22:30 UTC is the next day).
    late_utc = dt.datetime(2026, 3, 12, 22, 30, tzinfo=dt.UTC)  # Friday 01:30 in Moscow
    assert cal.business_days_between(late_utc, msk(2026, 3, 16, 10, 0)) == 1


def test_ship_business_hours_add_business_days_to_date(cal):
    assert cal.add_business_days_to_date(dt.date(2026, 3, 13), 1) == dt.date(2026, 3, 16)
    assert cal.add_business_days_to_date(dt.date(2026, 3, 14), 0) == dt.date(2026, 3, 16)
    assert cal.add_business_days_to_date(dt.date(2026, 3, 16), 0) == dt.date(2026, 3, 16)


def test_ship_business_hours_rejects_naive_datetimes(cal):
    with pytest.raises(ValueError, match="Naive"):
        cal.is_open(dt.datetime(2026, 3, 10, 12, 0))


def test_ship_business_hours_module_helpers_read_closures_each_call(policy):
    assert calendar.is_open(msk(2026, 3, 16, 10, 0))
    Closure.objects.create(date=dt.date(2026, 3, 16))
    assert not calendar.is_open(msk(2026, 3, 16, 10, 0))
    assert calendar.next_opening(msk(2026, 3, 16, 10, 0)) == msk(2026, 3, 17, 9, 0)
    assert calendar.add_business_days(msk(2026, 3, 13, 10, 0), 1) == msk(2026, 3, 17, 10, 0)
    assert calendar.business_days_between(dt.date(2026, 3, 13), dt.date(2026, 3, 17)) == 1
