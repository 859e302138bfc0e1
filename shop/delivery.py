"""Delivery options and their cost (SHIP-COST-BY-REGION, SHIP-METHODS, ORD-TERRITORY).

SHIP-COST-BY-REGION: the cost of delivery is a ``DeliveryRate`` looked up by region and method
alone; nothing about the parcel (weight, size, number of items) takes part. A region outside the
delivery territory (ORD-TERRITORY), an inactive method, or a pair without a rate has no option.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import ngettext
from djmoney.money import Money

from .calendar import BusinessCalendar
from .models import DeliveryMethod, DeliveryRate, Policy, Region


class DeliveryUnavailable(Exception):
    """No delivery by this method to this region; the message is shown to the customer."""


@dataclass(frozen=True)
class DeliveryOption:
    method: DeliveryMethod
    price: Money
    days_min: int
    days_max: int

    @property
    def is_default(self) -> bool:
        return self.method.is_default

    @property
    def window_label(self) -> str:
        if self.days_min == self.days_max:
            return ngettext("%(days)d business day", "%(days)d business days", self.days_max) % {"days": self.days_max}
        return ngettext("%(low)d–%(high)d business day", "%(low)d–%(high)d business days", self.days_max) % {
            "low": self.days_min,
            "high": self.days_max,
        }


def _rates(region: Region):
    return DeliveryRate.objects.filter(region=region, region__in_territory=True, method__is_active=True).select_related(
        "method"
    )


def delivery_options(*, region: Region | None) -> list[DeliveryOption]:
    """The ways to deliver to ``region``, default method (air mail, SHIP-METHODS) first.

    SHIP-COST-BY-REGION: each option's price depends only on (region, method).
    """
    if region is None or not region.in_territory:
        return []
    options = [
        DeliveryOption(
            method=rate.method,
            price=rate.price,
            days_min=rate.method.delivery_days_min,
            days_max=rate.method.delivery_days_max,
        )
        for rate in _rates(region)
    ]
    options.sort(key=lambda o: (not o.method.is_default, o.method.position, o.method.name))
    return options


def delivery_option(*, region: Region, method: DeliveryMethod | int | str) -> DeliveryOption:
    """The one option for (region, method); ``method`` is the instance or its pk (from a form)."""
    method_id = str(method.pk if isinstance(method, DeliveryMethod) else method)
    for option in delivery_options(region=region):
        if str(option.method.pk) == method_id:
            return option
    raise DeliveryUnavailable("That delivery method is not available for the chosen region.")


def delivery_cost(*, region: Region, method: DeliveryMethod | int | str) -> Money:
    """SHIP-COST-BY-REGION: the price of delivering to ``region`` by ``method``, whatever the parcel."""
    return delivery_option(region=region, method=method).price


@dataclass(frozen=True)
class DeliveryEstimate:
    """SHIP-PROCESSING-TIME and the delivery window, as dates in the shop's time zone."""

    processing_from: dt.date
    processing_to: dt.date
    delivery_from: dt.date
    delivery_to: dt.date
    processing_days_min: int
    processing_days_max: int


def delivery_estimate(
    *,
    start: dt.datetime,
    days_min: int,
    days_max: int,
    policy: Policy | None = None,
    calendar: BusinessCalendar | None = None,
) -> DeliveryEstimate:
    """Processing and delivery windows counted in business days from the next opening after ``start``.

    SHIP-PROCESSING-TIME: processing takes Policy.processing_days_min–max business days; the
    parcel then travels the method's days, counted after the longest processing time, so the
    window shown is one the shop can keep.
    """
    policy = policy or Policy.load()
    calendar = calendar or BusinessCalendar.current(policy)
    opening = calendar.next_opening(start)

    def day(n: int) -> dt.date:
        return calendar.local(calendar.add_business_days(opening, n)).date()

    p_min, p_max = policy.processing_days_min, policy.processing_days_max
    return DeliveryEstimate(
        processing_from=day(p_min),
        processing_to=day(p_max),
        delivery_from=day(p_max + days_min),
        delivery_to=day(p_max + days_max),
        processing_days_min=p_min,
        processing_days_max=p_max,
    )
