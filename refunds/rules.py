"""When a right ends and when a refund is due: the REF-* numbers, read from the Policy.

Calendar days or business days, decided per rule text (policy.md): every REF-* rule counts plain
*days* ("within 30 days", "no later than 3 days", "within 10 days", "2 years"), while the rules that
mean business days say so ("3 business days" in SHIP-STOCKOUT). So all of these are calendar days,
counted in the shop's time zone; weekends and holidays do not stop them. The business calendar
enters where staff work: a refund due on a Sunday is "due soon" from the Friday before, because the
desk and the reminder count what is left in business days (``due_soon_before``).

A right that lasts N days from a moment lasts to the end of the N-th calendar day after it (local
time): an order placed on 1 March may be withdrawn until 31 March 23:59:59, not from 1 April.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from orders.models import Order, OrderEvent, OrderLine
from shop.calendar import BusinessCalendar
from shop.models import Policy

from .models import CaseKind


def _local(moment: dt.datetime, policy: Policy) -> dt.datetime:
    return moment.astimezone(ZoneInfo(policy.time_zone))


def _end_of_day(day: dt.date, policy: Policy) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59, 999999), tzinfo=ZoneInfo(policy.time_zone))


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole months; the 31st becomes the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


# --- REF-WITHDRAW-30D ---------------------------------------------------------------------------
def withdrawal_ends(order: Order, policy: Policy | None = None) -> dt.datetime:
    """REF-WITHDRAW-30D: the last moment the customer may withdraw (end of day N after the order)."""
    policy = policy or Policy.load()
    return _end_of_day(_local(order.created_at, policy).date() + dt.timedelta(days=policy.withdraw_days), policy)


def right_open(ends: dt.datetime, *, now: dt.datetime | None = None) -> bool:
    """A right ending at ``ends`` may still be used now (the last day counts in full)."""
    return (now or timezone.now()) <= ends


def withdrawal_open(order: Order, *, now: dt.datetime | None = None, policy: Policy | None = None) -> bool:
    return right_open(withdrawal_ends(order, policy), now=now)


# --- REF-DEFECT, REF-WRONG-ITEM, REF-SHORT-DELIVERY ----
#: Orders whose goods reached the customer (claims about the goods need them).
RECEIVED_STATUSES = frozenset({Order.Status.DELIVERED, Order.Status.COMPLETED, Order.Status.SHIPPED})


def warranty_starts(order: Order, policy: Policy | None = None) -> dt.date:
    """The day the goods were handed over (the first handover), or the order day if none is recorded."""
    handed = order.events.filter(type=OrderEvent.Type.HANDED_OVER).order_by("created_at").first()
    return _local(handed.created_at if handed else order.created_at, policy or Policy.load()).date()


def warranty_months(line: OrderLine, policy: Policy | None = None) -> int:
    """The product's warranty as sold, or the policy's default (2 years) where none was set."""
    if line.warranty_months:
        return line.warranty_months
    return (policy or Policy.load()).default_warranty_months


def defect_right_ends(line: OrderLine, *, start: dt.date, policy: Policy | None = None) -> dt.datetime:
    """REF-DEFECT: the last moment a defect of this line may be reported."""
    policy = policy or Policy.load()
    return _end_of_day(add_months(start, warranty_months(line, policy)), policy)


# --- REF-SLA: refund due dates ------------------------------------------------------------------
def refund_due(kind: str, *, at: dt.datetime, policy: Policy | None = None) -> dt.datetime:
    """The refund's due moment for a case of ``kind`` whose clock starts ``at`` (calendar days).

    REF-WITHDRAW-30D: 3 days after the statement. REF-DEFECT: 10 days after the goods were received
    (``at`` is that moment). REF-WRONG-ITEM, REF-SHORT-DELIVERY: 10 days after the claim. Every other
    kind (a cancellation, a refusal, a parcel not collected or lost) is refunded at once: due ``at``.
    """
    policy = policy or Policy.load()
    days = {
        CaseKind.WITHDRAWAL: policy.withdraw_refund_days,
        CaseKind.DEFECT: policy.defect_refund_days,
        CaseKind.WRONG_ITEM: policy.wrong_item_refund_days,
        CaseKind.SHORT_DELIVERY: policy.short_delivery_refund_days,
    }.get(kind, 0)
    return at + dt.timedelta(days=days)


def due_soon_before(now: dt.datetime | None = None) -> dt.datetime:
    """REF-SLA: a refund due before this moment is "due soon": within one business day from now."""
    return BusinessCalendar.current().add_business_days(now or timezone.now(), 1)
