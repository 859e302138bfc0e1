"""The staff work queue and the ship-by digest (SHIP-BUSINESS-HOURS, SHIP-WITHIN-2BD).

Open orders (``orders.models.OPEN_FOR_FULFILMENT``: processing, packed, partially shipped) are read
in ship-by order on the partial index ``order_open_ship_by_idx``. Where each stands against its
ship-by moment is counted in business time (``shop.calendar``): *overdue* once the moment has
passed, *at risk* when less than ``Policy.at_risk_share_of_day`` of a business day is left, *due
today* when the moment falls on today's date, else on track.

``ship_by_digest_send`` is the one writer here: the periodic task (config/celery.py) e-mails
``Policy.staff_email`` the orders that became at risk or overdue, during business hours only, each
order at most once per state (``ShipByAlert``, unique per order and state).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone, translation

from orders.models import OPEN_FOR_FULFILMENT, Order, OrderHold
from shop.calendar import BusinessCalendar
from shop.emails import email_queue
from shop.models import Email, Policy

from ..models import ShipByAlert, ShipByState

__all__ = ["QueueClock", "open_holds_prefetch", "ship_by_digest_orders", "ship_by_digest_send", "work_queue_orders"]

#: The states the staff digest announces (each once per order).
DIGEST_STATES = (ShipByState.OVERDUE, ShipByState.AT_RISK)


@dataclass(frozen=True)
class QueueClock:
    """One reading of the clock, the calendar and the Policy, shared by every row of a page or a digest."""

    now: dt.datetime
    calendar: BusinessCalendar
    #: SHIP-WITHIN-2BD: less business time than this before ship-by is "at risk".
    at_risk_within: dt.timedelta

    @classmethod
    def current(cls, now: dt.datetime | None = None) -> QueueClock:
        policy = Policy.load()
        calendar = BusinessCalendar.current(policy)
        share = policy.at_risk_share_of_day
        return cls(
            now=now or timezone.now(),
            calendar=calendar,
            at_risk_within=dt.timedelta(seconds=round(calendar.day_length.total_seconds() * float(share))),
        )

    @property
    def is_open(self) -> bool:
        return self.calendar.is_open(self.now)

    @property
    def reopens_at(self) -> dt.datetime | None:
        """SHIP-BUSINESS-HOURS: outside business hours, when the shop opens again (shop time); else None."""
        return None if self.is_open else self.calendar.local(self.calendar.next_opening(self.now))

    @property
    def at_risk_before(self) -> dt.datetime:
        """Every open order whose ship-by is before this moment is at risk or overdue (one comparison)."""
        return self.calendar.add_business_time(self.now, self.at_risk_within)

    def time_left(self, ship_by: dt.datetime) -> dt.timedelta:
        """Business time left before ``ship_by`` (negative once it has passed)."""
        return self.calendar.business_time_between(self.now, ship_by)

    def state_of(self, ship_by: dt.datetime | None) -> ShipByState:
        # SHIP-WITHIN-2BD: overdue after the moment; at risk with less than the Policy's share of a
        # business day left (counted in business hours); due today when the moment is today.
        if ship_by is None:
            return ShipByState.ON_TRACK
        if self.now >= ship_by:
            return ShipByState.OVERDUE
        if self.time_left(ship_by) < self.at_risk_within:
            return ShipByState.AT_RISK
        if self.calendar.local(ship_by).date() == self.calendar.local(self.now).date():
            return ShipByState.DUE_TODAY
        return ShipByState.ON_TRACK


def open_holds_prefetch() -> Prefetch:
    """Each order's open holds as ``order.open_holds`` (one query for a whole page)."""
    holds = OrderHold.objects.filter(released_at__isnull=True).order_by("opened_at", "pk")
    return Prefetch("holds", queryset=holds, to_attr="open_holds")


def _open_orders() -> QuerySet[Order]:
    return Order.objects.filter(status__in=OPEN_FOR_FULFILMENT).prefetch_related(open_holds_prefetch())


def work_queue_orders() -> QuerySet[Order]:
    """SHIP-BUSINESS-HOURS: every order the warehouse still works on, soonest ship-by first.

    Each row carries ``open_holds`` (prefetched): the holds that keep it from being packed.
    """
    return _open_orders().select_related("delivery_method").order_by(F("ship_by").asc(nulls_last=True), "pk")


def ship_by_digest_orders(clock: QueueClock) -> QuerySet[Order]:
    """Open orders at risk or overdue at ``clock.now``: one range query on the partial ship-by index."""
    return _open_orders().filter(ship_by__lt=clock.at_risk_before).order_by("ship_by", "pk")


def _digest_row(order: Order, state: ShipByState, clock: QueueClock) -> dict:
    left = clock.time_left(order.ship_by)
    return {
        "number": order.number,
        "state": str(state.label),
        "ship_by": clock.calendar.local(order.ship_by).replace(tzinfo=None),
        "hours_left": round(left.total_seconds() / 3600, 1),
        "status": str(order.get_status_display()),
        "holds": ", ".join(hold.get_kind_display() for hold in order.open_holds),
        "url": settings.SITE_URL + reverse("admin:orders_order_change", args=[order.pk]),
    }


def ship_by_digest_send(*, now: dt.datetime | None = None) -> Email | None:
    """SHIP-WITHIN-2BD: e-mail staff the orders newly at risk or overdue; None when there is nothing new.

    SHIP-BUSINESS-HOURS: only while the shop is open (outside hours it waits for the next run in
    business hours). Each order is announced at most once per state: the ``ShipByAlert`` rows and
    the e-mail are written in one transaction, and their unique constraint makes a second run (or
    two at once) announce nothing more. Running it twice or late sends nothing twice.
    """
    clock = QueueClock.current(now)
    if not clock.is_open:
        return None
    candidates = list(ship_by_digest_orders(clock))
    announced = set(ShipByAlert.objects.filter(order__in=[o.pk for o in candidates]).values_list("order_id", "state"))
    new = [
        (order, state)
        for order in candidates
        if (state := clock.state_of(order.ship_by)) in DIGEST_STATES and (order.pk, state) not in announced
    ]
    if not new:
        return None
    # The rows' status and hold labels in the shop's language, as the e-mail around them (staff read it).
    with translation.override(settings.LANGUAGE_CODE):
        rows = {state: [_digest_row(o, state, clock) for o, s in new if s == state] for state in DIGEST_STATES}
    try:
        with transaction.atomic():
            alerts = ShipByAlert.objects.bulk_create(
                ShipByAlert(order=order, state=state, ship_by=order.ship_by, sent_at=clock.now) for order, state in new
            )
            email = email_queue(
                to=Policy.load().staff_email,
                template="staff_ship_by_digest",
                key=f"ship-by-digest:{min(alert.pk for alert in alerts)}",
                language=settings.LANGUAGE_CODE,  # staff read the shop's language, whatever the task runs in
                context={
                    "overdue": rows[ShipByState.OVERDUE],
                    "at_risk": rows[ShipByState.AT_RISK],
                    "now_local": clock.calendar.local(clock.now).replace(tzinfo=None),
                    "at_risk_hours": round(clock.at_risk_within.total_seconds() / 3600, 1),
                    "queue_url": settings.SITE_URL + reverse("admin:shipping_workqueueorder_changelist"),
                },
            )
            ShipByAlert.objects.filter(pk__in=[alert.pk for alert in alerts]).update(email=email)
    except IntegrityError:
        # Another run announced the same orders at the same moment (unique order + state): it sent them.
        return None
    return email
