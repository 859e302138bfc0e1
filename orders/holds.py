"""Holds: temporary stops on an order, each a row with its own deadline (``OrderHold``).

A hold is opened and released only here, inside the caller's transaction with the order locked.
While any hold is open the order cannot be packed or shipped (``orders.lifecycle.check``). There is
no "status before" to go back to: releasing a hold leaves the fulfilment status as it was.

Which statuses a hold may be opened in is the table ``OPENS_IN`` below.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from . import events
from .errors import OrderActionError, OrderErrorCode
from .models import HoldKind, Order, OrderHold
from .models import OrderStatus as S

K = HoldKind

#: Where each hold may start: before anything left the warehouse, or (claims) after delivery.
OPENS_IN: dict[str, frozenset[str]] = {
    K.PRICE_CONFIRMATION: frozenset({S.AWAITING_PAYMENT, S.PROCESSING}),  # ORD-PRICE-ERROR
    K.FRAUD_REVIEW: frozenset({S.PROCESSING}),  # PAY-FRAUD-CHECK: a card payment just arrived
    K.STOCK_DECISION: frozenset({S.PROCESSING}),  # SHIP-STOCKOUT
    K.CLAIM: frozenset({S.SHIPPED, S.DELIVERED, S.COMPLETED, S.REFUSED}),  # REF-*, DLV-LATE, DLV-LOST
}


def open_hold(order: Order, kind: str) -> OrderHold | None:
    """The open hold of this kind, if any (the order is locked by the caller when it matters)."""
    return order.holds.filter(kind=kind, released_at__isnull=True).first()


def open_kinds(order: Order) -> set[str]:
    return set(order.holds.filter(released_at__isnull=True).values_list("kind", flat=True))


def hold_open(*, order: Order, kind: str, due_at: dt.datetime | None = None, note: str = "", actor=None) -> OrderHold:
    """Open a hold on the (locked) order; an open hold of the same kind is returned as it is."""
    existing = open_hold(order, kind)
    if existing is not None:
        return existing
    if order.status not in OPENS_IN[kind]:
        raise OrderActionError(
            f"Order {order.number} is {order.get_status_display().lower()}: it cannot be put on hold "
            f"({HoldKind(kind).label.lower()}).",
            code=OrderErrorCode.NOT_ALLOWED,
        )
    hold = OrderHold.objects.create(order=order, kind=kind, due_at=due_at, note=note[:300], opened_by=actor)
    events.hold_opened(order=order, kind=kind, due_at=due_at, note=note, actor=actor)
    return hold


def hold_release(*, order: Order, kind: str, resolution: str, actor=None) -> OrderHold | None:
    """Release the open hold of this kind on the (locked) order. None if there was none (idempotent)."""
    return holds_release_many([order], kind, resolution=resolution, actor=actor).get(order.pk)


def holds_release_many(orders: list[Order], kind: str, *, resolution: str, actor=None) -> dict[int, OrderHold]:
    """``hold_release`` for several (locked) orders: one read, one UPDATE (issue #14). Returns the
    released hold by order id (an order with no open hold of ``kind`` is left out)."""
    found = open_holds_many(orders, kind)
    if not found:
        return found
    now = timezone.now()
    OrderHold.objects.filter(pk__in=[hold.pk for hold in found.values()]).update(
        released_at=now, resolution=resolution[:300], released_by=actor
    )
    for order in orders:
        hold = found.get(order.pk)
        if hold is not None:
            hold.released_at, hold.resolution, hold.released_by = now, resolution[:300], actor
            events.hold_released(order=order, kind=kind, resolution=resolution, actor=actor)
    return found


def holds_release_all(*, order: Order, resolution: str, actor=None) -> int:
    """Release every open hold (the order is cancelled: nothing is waited for any more)."""
    return holds_release_all_many([order], resolution=resolution, actor=actor)


def holds_release_all_many(orders: list[Order], *, resolution: str, actor=None) -> int:
    """``holds_release_all`` for several (locked) orders: one read, one UPDATE (issue #14). Per order and
    kind the open hold ``open_hold`` would find is released, kinds in name order. Returns how many."""
    first: dict[tuple[int, str], OrderHold] = {}
    for hold in OrderHold.objects.filter(order__in=orders, released_at__isnull=True):  # Meta ordering
        first.setdefault((hold.order_id, hold.kind), hold)
    if not first:
        return 0
    now = timezone.now()
    OrderHold.objects.filter(pk__in=[hold.pk for hold in first.values()]).update(
        released_at=now, resolution=resolution[:300], released_by=actor
    )
    for order in orders:
        for kind in sorted(kind for order_id, kind in first if order_id == order.pk):
            events.hold_released(order=order, kind=kind, resolution=resolution, actor=actor)
    return len(first)


def open_holds_many(orders: list[Order], kind: str) -> dict[int, OrderHold]:
    """``open_hold`` for several orders, in one query: the open hold of ``kind`` by order id."""
    found: dict[int, OrderHold] = {}
    for hold in OrderHold.objects.filter(order__in=orders, kind=kind, released_at__isnull=True):
        found.setdefault(hold.order_id, hold)
    return found


def holds_due(kind: str, *, now: dt.datetime | None = None):
    """Open holds of ``kind`` past their deadline, oldest first (one query on the partial index)."""
    now = now or timezone.now()
    return OrderHold.objects.filter(kind=kind, released_at__isnull=True, due_at__lt=now).order_by("due_at", "pk")
