"""The business clock (SHIP-BUSINESS-HOURS): business days, business hours, deadlines.

A business day is a weekday that is not a public holiday of the Policy's country (the
``holidays`` package, which also knows moved working days such as a working Saturday) and not a
staff-entered Closure. Business hours are the Policy's [start, end) in the Policy's time zone. A
deadline of N business days after a moment outside business hours counts from the next opening.

Use ``BusinessCalendar.current()`` (reads the Policy and the closures once) or the module-level
helpers, which do the same per call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

from .models import Closure, Policy, request_memo

_MAX_SCAN_DAYS = 3660  # a decade of closures would be a configuration error, not a calendar


def _closures() -> frozenset[dt.date]:
    """The closure dates; within a request read once (issue #14: "Confirm order" read them six times)."""
    memo = request_memo()
    if memo is not None and "closures" in memo:
        return memo["closures"]
    closures = frozenset(Closure.objects.values_list("date", flat=True))
    if memo is not None:
        memo["closures"] = closures
    return closures


@dataclass
class BusinessCalendar:
    country: str
    tz: ZoneInfo
    opens: dt.time
    closes: dt.time
    closures: frozenset[dt.date] = field(default_factory=frozenset)

    @classmethod
    def current(cls, policy: Policy | None = None) -> BusinessCalendar:
        """The calendar of the Policy (``policy``: one the caller already loaded) and today's closures."""
        policy = policy or Policy.load()
        return cls(
            country=policy.country,
            tz=ZoneInfo(policy.time_zone),
            opens=_as_time(policy.business_hours_start),
            closes=_as_time(policy.business_hours_end),
            closures=_closures(),
        )

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        return holidays.country_holidays(self.country)

    # --- days -----------------------------------------------------------------------------
    def is_business_day(self, day: dt.date) -> bool:
        if day in self.closures:
            return False
        # is_working_day knows weekends, public holidays and moved working days (RU Saturdays).
        return self._holidays.is_working_day(day)

    def next_business_day(self, day: dt.date, *, include: bool = False) -> dt.date:
        candidate = day if include else day + dt.timedelta(days=1)
        for _ in range(_MAX_SCAN_DAYS):
            if self.is_business_day(candidate):
                return candidate
            candidate += dt.timedelta(days=1)
        raise ValueError("No business day within ten years; check the closures.")

    def add_business_days_to_date(self, day: dt.date, n: int) -> dt.date:
        """The n-th business day after ``day`` (n=0: ``day`` itself if a business day, else the next)."""
        current = self.next_business_day(day, include=True) if n == 0 else day
        for _ in range(n):
            current = self.next_business_day(current)
        return current

    def business_days_between(self, start: dt.datetime | dt.date, end: dt.datetime | dt.date) -> int:
        """Business days d with start < d <= end, by local date (negative if end is before start)."""
        a, b = self._local_date(start), self._local_date(end)
        sign = 1
        if b < a:
            a, b, sign = b, a, -1
        count, day = 0, a + dt.timedelta(days=1)
        while day <= b:
            count += self.is_business_day(day)
            day += dt.timedelta(days=1)
        return sign * count

    # --- moments --------------------------------------------------------------------------
    def local(self, moment: dt.datetime) -> dt.datetime:
        if moment.tzinfo is None:
            raise ValueError("Naive datetime: the calendar only takes aware moments.")
        return moment.astimezone(self.tz)

    def is_open(self, moment: dt.datetime) -> bool:
        """Inside business hours: a business day and opens <= local time < closes."""
        local = self.local(moment)
        return self.is_business_day(local.date()) and self.opens <= local.time() < self.closes

    def next_opening(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` itself when open, else the start of the next business hours."""
        if self.is_open(moment):
            return moment
        local = self.local(moment)
        day = local.date()
        if not (self.is_business_day(day) and local.time() < self.opens):
            day = self.next_business_day(day)
        return dt.datetime.combine(day, self.opens, tzinfo=self.tz)

    def add_business_days(self, moment: dt.datetime, n: int) -> dt.datetime:
        """N business days after ``moment``, counting from the next opening when outside hours.

        Friday 14:59 + 2 → Tuesday 14:59; Friday 15:01 + 2 → Wednesday opening time.
        """
        start = self.local(self.next_opening(moment))
        day = self.add_business_days_to_date(start.date(), n) if n else start.date()
        return dt.datetime.combine(day, start.timetz().replace(tzinfo=None), tzinfo=self.tz)

    # --- business time (hours within business hours) ---------------------------------------------
    @property
    def day_length(self) -> dt.timedelta:
        """One business day's hours (opens → closes), the unit of "a share of a business day"."""
        return dt.datetime.combine(dt.date.min, self.closes) - dt.datetime.combine(dt.date.min, self.opens)

    def _hours_of(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        combine = dt.datetime.combine
        return combine(day, self.opens, tzinfo=self.tz), combine(day, self.closes, tzinfo=self.tz)

    def business_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Time inside business hours on business days from ``start`` to ``end`` (negative if end is earlier).

        SHIP-WITHIN-2BD: what is left before a ship-by moment, counted only while the shop works
        (Friday 14:00 → Monday 10:00 is two hours with hours 09:00–15:00).
        """
        if end < start:
            return -self.business_time_between(end, start)
        start, end = self.local(start), self.local(end)
        total, day = dt.timedelta(0), start.date()
        while day <= end.date():
            if self.is_business_day(day):
                opens, closes = self._hours_of(day)
                total += max(dt.timedelta(0), min(closes, end) - max(opens, start))
            day += dt.timedelta(days=1)
        return total

    def add_business_time(self, moment: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        """The earliest moment by which ``amount`` of business time has passed since ``moment``.

        The inverse of ``business_time_between``: ``business_time_between(moment, t) < amount`` exactly
        when ``t`` is before the returned moment (a periodic task turns "less than half a business day
        left" into one indexed comparison on ``ship_by``).
        """
        if amount < dt.timedelta(0):
            raise ValueError("Only a positive amount of business time can be added.")
        current, left = self.local(moment), amount
        if not left:
            return current
        day = current.date()
        for _ in range(_MAX_SCAN_DAYS):
            if self.is_business_day(day):
                opens, closes = self._hours_of(day)
                begin = max(opens, current)
                if begin < closes:
                    if closes - begin >= left:
                        return begin + left
                    left -= closes - begin
            day += dt.timedelta(days=1)
        raise ValueError("No business day within ten years; check the closures.")

    def _local_date(self, value: dt.datetime | dt.date) -> dt.date:
        return self.local(value).date() if isinstance(value, dt.datetime) else value


def _as_time(value) -> dt.time:
    if isinstance(value, dt.time):
        return value
    return dt.time.fromisoformat(str(value))


# Module-level helpers for one-off use (each reads the Policy and closures).
def is_open(moment: dt.datetime) -> bool:
    return BusinessCalendar.current().is_open(moment)


def next_opening(moment: dt.datetime) -> dt.datetime:
    return BusinessCalendar.current().next_opening(moment)


def add_business_days(moment: dt.datetime, n: int) -> dt.datetime:
    return BusinessCalendar.current().add_business_days(moment, n)


def business_days_between(start, end) -> int:
    return BusinessCalendar.current().business_days_between(start, end)


def business_time_between(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    return BusinessCalendar.current().business_time_between(start, end)
