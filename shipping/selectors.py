"""Reads of fulfilment that need more than one line."""

from __future__ import annotations

from dataclasses import dataclass

from orders.models import Order
from refunds.models import Case, CaseKind

from .models import Shipment
from .services.parcels import is_late


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


def parcel_claims(order: Order) -> list[ParcelClaim]:
    """Every parcel of the order with its late and lost cases: two queries whatever the count."""
    shipments = list(Shipment.objects.filter(order=order).order_by("shipped_at", "pk"))
    cases = Case.objects.filter(order=order, kind__in=(CaseKind.LATE_PARCEL, CaseKind.LOST_PARCEL)).order_by("pk")
    by_parcel: dict[tuple[int, str], Case] = {(c.shipment_id, c.kind): c for c in cases if c.shipment_id}
    claims = []
    for n, shipment in enumerate(shipments, start=1):
        late = by_parcel.get((shipment.pk, CaseKind.LATE_PARCEL))
        claims.append(
            ParcelClaim(
                shipment=shipment,
                number=n,
                can_report_late=late is None and is_late(shipment),
                late_case=late,
                lost_case=by_parcel.get((shipment.pk, CaseKind.LOST_PARCEL)),
            )
        )
    return claims
