"""Business time (SHIP-WITHIN-2BD's "at risk"): hours inside business hours on business days only.

Business hours are the Policy's 09:00–15:00 Moscow; 2026-06-12 (Friday) and 2026-11-04 (Wednesday)
are RU public holidays.
"""

import datetime as dt

import pytest

from shop import calendar
from shop.calendar import BusinessCalendar
from shop.models import Closure
from tests.shop.test_calendar import msk

H = dt.timedelta(hours=1)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cal(policy) -> BusinessCalendar:
    return BusinessCalendar.current()


def test_ship_within_2bd_business_day_length_follows_the_policy(policy):
    assert BusinessCalendar.current().day_length == 6 * H
    policy.business_hours_end = dt.time(18, 0)
    policy.save()
    assert BusinessCalendar.current().day_length == 9 * H


def test_ship_within_2bd_business_time_within_one_day_and_outside_hours(cal):
    assert cal.business_time_between(msk(2026, 3, 10, 10, 0), msk(2026, 3, 10, 12, 30)) == 2.5 * H
    assert cal.business_time_between(msk(2026, 3, 10, 7, 0), msk(2026, 3, 10, 20, 0)) == 6 * H
    assert cal.business_time_between(msk(2026, 3, 10, 15, 0), msk(2026, 3, 11, 9, 0)) == dt.timedelta(0)
    assert cal.business_time_between(msk(2026, 3, 10, 14, 59), msk(2026, 3, 10, 15, 1)) == dt.timedelta(minutes=1)


def test_ship_within_2bd_business_time_skips_the_weekend(cal):
    # Friday 14:00 → Monday 10:00: one hour on Friday, one on Monday.
    assert cal.business_time_between(msk(2026, 3, 13, 14, 0), msk(2026, 3, 16, 10, 0)) == 2 * H


def test_ship_within_2bd_business_time_skips_public_holidays_and_closures(cal, policy):
    # Thursday 11 June 14:00 → Monday 15 June 10:00 (Russia Day Friday, then the weekend).
    assert cal.business_time_between(msk(2026, 6, 11, 14, 0), msk(2026, 6, 15, 10, 0)) == 2 * H
    # Tuesday 3 November 12:00 → Thursday 5 November 12:00 (Unity Day Wednesday).
    assert cal.business_time_between(msk(2026, 11, 3, 12, 0), msk(2026, 11, 5, 12, 0)) == 6 * H
    Closure.objects.create(date=dt.date(2026, 3, 11), reason="Stocktaking")
    with_closure = BusinessCalendar.current()
    assert with_closure.business_time_between(msk(2026, 3, 10, 12, 0), msk(2026, 3, 12, 12, 0)) == 6 * H


def test_ship_within_2bd_business_time_is_negative_backwards(cal):
    assert cal.business_time_between(msk(2026, 3, 16, 10, 0), msk(2026, 3, 13, 14, 0)) == -2 * H
    assert calendar.business_time_between(msk(2026, 3, 16, 10, 0), msk(2026, 3, 13, 14, 0)) == -2 * H


@pytest.mark.parametrize(
    ("start", "amount", "expected"),
    [
        (msk(2026, 3, 10, 10, 0), 3 * H, msk(2026, 3, 10, 13, 0)),
        (msk(2026, 3, 10, 12, 0), 3 * H, msk(2026, 3, 10, 15, 0)),  # ends exactly at closing
        (msk(2026, 3, 10, 12, 0), 4 * H, msk(2026, 3, 11, 10, 0)),
        (msk(2026, 3, 13, 14, 0), 3 * H, msk(2026, 3, 16, 11, 0)),  # across the weekend
        (msk(2026, 3, 13, 15, 1), 3 * H, msk(2026, 3, 16, 12, 0)),  # Friday after 15:00
        (msk(2026, 3, 13, 14, 59), 3 * H, msk(2026, 3, 16, 11, 59)),  # Friday before 15:00
        (msk(2026, 6, 11, 14, 0), 3 * H, msk(2026, 6, 15, 11, 0)),  # Russia Day and the weekend
        (msk(2026, 11, 3, 14, 0), 3 * H, msk(2026, 11, 5, 11, 0)),  # Unity Day
        (msk(2026, 3, 14, 12, 0), dt.timedelta(0), msk(2026, 3, 14, 12, 0)),
    ],
)
def test_ship_within_2bd_add_business_time_is_the_inverse(cal, start, amount, expected):
    end = cal.add_business_time(start, amount)
    assert end == expected
    assert cal.business_time_between(start, end) == amount
    # Just before it, less than ``amount`` has passed (the digest's "less than" is one comparison).
    if amount:
        assert cal.business_time_between(start, end - dt.timedelta(seconds=1)) < amount


def test_add_business_time_refuses_a_negative_amount(cal):
    with pytest.raises(ValueError):
        cal.add_business_time(msk(2026, 3, 10, 10, 0), -H)
