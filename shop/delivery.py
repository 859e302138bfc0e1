"""Delivery options and their cost (SHIP-COST-BY-REGION, SHIP-METHODS, ORD-TERRITORY).

SHIP-COST-BY-REGION: the cost of delivery is a ``DeliveryRate`` looked up by region and method
alone; nothing about the parcel (weight, size, number of items) takes part. A region outside the
delivery territory (ORD-TERRITORY), an inactive method, or a pair without a rate has no option.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext, ngettext
from djmoney.money import Money

from .calendar import BusinessCalendar
from .models import Address, DeliveryMethod, DeliveryRate, Policy, Region


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


# --- the delivery promise on product pages and in the cart --------------------------------------
#: Where the storefront remembers the customer's delivery region (set by the checkout's contact step).
REGION_SESSION_KEY = "delivery_region"


def remember_region(request, region: Region | int) -> None:
    request.session[REGION_SESSION_KEY] = getattr(region, "pk", region)


@dataclass(frozen=True)
class DeliveryPromise:
    """ "Order in the next 2 h 10 min → ships by Tue 15 Dec → arrives 24 Dec – 7 Jan by air mail".

    ``order_by``: until when an order placed now keeps this promise (the end of business hours of
    the day it would be processed); ``left``: how long until then.
    """

    order_by: dt.datetime
    left: dt.timedelta
    ships_by: dt.date
    arrives_from: dt.date
    arrives_to: dt.date
    method: DeliveryMethod
    region: Region | None

    @property
    def left_label(self) -> str:
        minutes = max(1, int(self.left.total_seconds() // 60))
        hours, minutes = divmod(minutes, 60)
        if hours:
            return gettext("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
        return gettext("%(minutes)d min") % {"minutes": minutes}

    @property
    def is_soon(self) -> bool:
        """The cut-off is less than a day away: say "in the next …" rather than the date."""
        return self.left < dt.timedelta(hours=24)


def _promise_method(region: Region | None) -> DeliveryMethod | None:
    if region is not None:
        options = delivery_options(region=region)
        if options:
            return options[0].method
    return DeliveryMethod.objects.filter(is_active=True).order_by("-is_default", "position", "name").first()


def customer_region(request) -> Region | None:
    """The region the customer last chose at checkout in this session, else their default address's
    region (address book), if it is in the territory; None when not known."""
    region_id = request.session.get(REGION_SESSION_KEY) if hasattr(request, "session") else None
    if region_id:
        return Region.objects.filter(pk=region_id, in_territory=True).first()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Region.objects.filter(
            in_territory=True, pk__in=Address.objects.filter(user=user, is_default=True).values("region")
        ).first()
    return None


def delivery_promise(
    *,
    now: dt.datetime,
    region: Region | None = None,
    policy: Policy | None = None,
    calendar: BusinessCalendar | None = None,
) -> DeliveryPromise | None:
    """What an order placed ``now`` is promised, from the business calendar and the Policy.

    SHIP-WITHIN-2BD: it ships by Policy.ship_within_days business days after it is placed (counted
    from the next opening when the shop is closed, SHIP-BUSINESS-HOURS). The arrival window is the
    one the order acknowledgement gives (``delivery_estimate``: processing, then the method's days)
    for the region's default method (air mail, SHIP-METHODS), or the shop's default method when the
    region is not known. None when no delivery method is active.
    """
    policy = policy or Policy.load()
    calendar = calendar or BusinessCalendar.current(policy)
    method = _promise_method(region)
    if method is None:
        return None
    opening = calendar.local(calendar.next_opening(now))
    order_by = dt.datetime.combine(opening.date(), calendar.closes, tzinfo=calendar.tz)
    ships_by = calendar.local(calendar.add_business_days(now, policy.ship_within_days)).date()
    estimate = delivery_estimate(
        start=now,
        days_min=method.delivery_days_min,
        days_max=method.delivery_days_max,
        policy=policy,
        calendar=calendar,
    )
    return DeliveryPromise(
        order_by=order_by,
        left=order_by - now,
        ships_by=ships_by,
        arrives_from=max(estimate.delivery_from, ships_by),
        arrives_to=estimate.delivery_to,
        method=method,
        region=region,
    )
