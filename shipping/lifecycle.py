"""The table of allowed moves of a parcel (``Shipment.status``), like the order's in orders/lifecycle.py.

``shipment_move`` is the only way a parcel's status changes. The order's own status follows through
``orders.lifecycle.move`` in the same services (shipping/services/), and the order's timeline gets
the typed events those services write; a parcel's move itself is recorded as the delivery attempt
that caused it (``DeliveryAttempt``), so this table writes no event of its own.
"""

from __future__ import annotations

from shop.transitions import Lifecycle, TransitionNotAllowed

from .models import Shipment
from .models import ShipmentStatus as S

__all__ = ["SHIPMENT_TRANSITIONS", "TransitionNotAllowed", "shipment_move"]

SHIPMENT_TRANSITIONS: dict[str, set[str]] = {
    # DLV-HANDOVER / DLV-INSPECT: handed over (some items may be refused), or every item refused;
    # DLV-FAILED: an attempt failed; DLV-ACCEPT-14D: it waits at a pick-up point.
    # DLV-LOST: the carrier confirmed a loss, or staff gave a late parcel up and sent it again (DLV-LATE).
    S.SHIPPED: {S.DELIVERED, S.REFUSED, S.FAILED, S.AWAITING_COLLECTION, S.LOST},
    # SHIP-ADDRESS-CHANGE: staff arrange a re-delivery (on its way again); or the next attempt's outcome.
    S.FAILED: {S.SHIPPED, S.DELIVERED, S.REFUSED, S.AWAITING_COLLECTION, S.LOST},
    # DLV-ACCEPT-14D: collected (handed over) or not collected in time.
    S.AWAITING_COLLECTION: {S.DELIVERED, S.REFUSED, S.NOT_COLLECTED, S.LOST},
    S.DELIVERED: set(),
    S.REFUSED: set(),
    S.NOT_COLLECTED: set(),
    S.LOST: set(),
}

SHIPMENT_LIFECYCLE = Lifecycle(SHIPMENT_TRANSITIONS)


def shipment_move(shipment: Shipment, to: str, *, fields=()) -> str:
    """Move the (locked) parcel; returns the source status."""
    return SHIPMENT_LIFECYCLE.move(shipment, to, fields=fields)
