"""The one table of allowed status moves. Reading TRANSITIONS tells the whole fulfilment life.

``status`` is the fulfilment life only. Payment is ``Order.payment_status`` (derived from money
rows, payments/ledger.py); a temporary stop is an ``OrderHold`` (orders/holds.py). An order with
an open hold cannot be packed or shipped: ``move`` refuses those targets here, the one place.

Add a move here, nowhere else; ``move`` is the only way an order's status changes.
"""

from __future__ import annotations

from shop.transitions import Lifecycle, TransitionNotAllowed

from . import bonus, events
from .models import Order
from .models import OrderStatus as S

__all__ = [
    "TRANSITIONS",
    "CANCELLABLE",
    "HELD_TARGETS",
    "OrderOnHold",
    "TransitionNotAllowed",
    "check",
    "move",
    "move_many",
]

TRANSITIONS: dict[str, set[str]] = {
    # Prepaid orders wait for money (PAY-PREPAID-FIRST); paid, they are processed. Cash/card on
    # delivery starts in PROCESSING at confirmation.
    S.AWAITING_PAYMENT: {S.PROCESSING, S.CANCELLED},
    S.PROCESSING: {S.PACKED, S.PARTIALLY_SHIPPED, S.CANCELLED},
    S.PACKED: {S.SHIPPED, S.PARTIALLY_SHIPPED, S.PROCESSING, S.CANCELLED},
    # Some lines left, the rest follows (SHIP-STOCKOUT "split").
    S.PARTIALLY_SHIPPED: {S.SHIPPED},
    # DLV-*: arrived at a pick-up point (awaiting collection), handed over at the door, or refused;
    # a lost parcel is prepared again (DLV-LOST re-ship).
    S.SHIPPED: {S.DELIVERED, S.COMPLETED, S.REFUSED, S.PROCESSING},
    # DLV-ACCEPT-14D: collected, or not collected in time (counts as refused).
    S.DELIVERED: {S.COMPLETED, S.REFUSED},
    # Claims on a completed or refused order are holds (OrderHold.Kind.CLAIM), not statuses.
    S.COMPLETED: set(),
    S.REFUSED: set(),
    S.CANCELLED: set(),
}

#: Moves that put goods on their way: refused while any hold is open.
HELD_TARGETS = frozenset({S.PACKED, S.PARTIALLY_SHIPPED, S.SHIPPED})


class OrderOnHold(TransitionNotAllowed):
    """The order has an open hold; it cannot be packed or shipped until the hold is released."""

    code = "order_on_hold"


def _record_move(order: Order, *, source: str, target: str, actor=None, note: str = "") -> None:
    events.status_changed(order=order, source=source, target=target, actor=actor, note=note)
    if target == S.COMPLETED:
        bonus.bonus_earn(order=order)  # PAY-DISCOUNTS: points are earned on completed orders


ORDER_LIFECYCLE = Lifecycle(TRANSITIONS, on_move=_record_move)

#: Statuses in which staff may still cancel (ORD-REFUSE).
CANCELLABLE = ORDER_LIFECYCLE.sources_of(S.CANCELLED)


def can_move(order: Order, to: str) -> bool:
    return ORDER_LIFECYCLE.can_move(order, to)


def check(order: Order, *, to: str) -> None:
    """The table allows the move, and nothing holds the order if the move puts goods on their way."""
    ORDER_LIFECYCLE.check(order, to=to)
    if to in HELD_TARGETS:
        held = list(order.holds.filter(released_at__isnull=True).values_list("kind", flat=True))
        if held:
            raise OrderOnHold(order, to, reason="on hold: " + ", ".join(sorted(held)))


def move_many(orders: list[Order], to: str, *, actor=None, note: str = "", fields=()) -> list[str]:
    """``move`` for several (locked) orders with one UPDATE (issue #14: a periodic sweep's batch)."""
    for order in orders:
        check(order, to=to)
    return ORDER_LIFECYCLE.move_many(orders, to, actor=actor, fields=fields, note=note)


def move(order: Order, to: str, *, actor=None, note: str = "", fields=()) -> str:
    """Move the (locked) order to ``to``: check, save with ``update_fields``, write the event. Returns the source."""
    check(order, to=to)
    return ORDER_LIFECYCLE.move(order, to, actor=actor, fields=fields, note=note)
