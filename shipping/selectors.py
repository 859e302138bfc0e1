"""Reads of fulfilment that need more than one line."""

from __future__ import annotations

from dataclasses import dataclass

from orders.models import Order
from refunds.models import Case, CaseKind

from .models import Shipment, ShipmentStatus
from .services.parcels import is_late, shop_today


@dataclass(frozen=True)
class ParcelClaim:
    """One parcel of an order as the customer's page shows it (DLV-LATE, DLV-LOST)."""

    shipment: Shipment
    number: int
    can_report_late: bool
    late_case: Case | None
    lost_case: Case | None

    @property
    def lost_open(self) -> bool:
        return self.lost_case is not None and self.lost_case.status in ("requested", "accepted")


#: Only these parcels can be reported late (on their way) or have a lost parcel's choice (lost).
_CLAIMABLE = (ShipmentStatus.SHIPPED, ShipmentStatus.LOST)


def parcel_claims(order: Order) -> list[ParcelClaim]:
    """Every claimable parcel of the order with its late and lost cases.

    Uses the order page's prefetched parcels (orders.selectors.order_for_page): no query for an order
    without a parcel on its way or lost; else the cases and the shop's date, whatever the count.
    """
    shipments = [s for s in order.shipments.all() if s.status in _CLAIMABLE]
    if not shipments:
        return []
    today = shop_today() if any(s.status == ShipmentStatus.SHIPPED for s in shipments) else None
    cases = Case.objects.filter(order=order, kind__in=(CaseKind.LATE_PARCEL, CaseKind.LOST_PARCEL)).order_by("pk")
    by_parcel: dict[tuple[int, str], Case] = {(c.shipment_id, c.kind): c for c in cases if c.shipment_id}
    numbers = {s.pk: n for n, s in enumerate(sorted(order.shipments.all(), key=lambda s: (s.shipped_at, s.pk)), 1)}
    claims = []
    for shipment in shipments:
        late = by_parcel.get((shipment.pk, CaseKind.LATE_PARCEL))
        claims.append(
            ParcelClaim(
                shipment=shipment,
                number=numbers[shipment.pk],
                can_report_late=late is None and today is not None and is_late(shipment, today=today),
                late_case=late,
                lost_case=by_parcel.get((shipment.pk, CaseKind.LOST_PARCEL)),
            )
        )
    return claims
