"""Helpers for the case tests (not a test module): orders paid, shipped and handed over through the
real services."""

from __future__ import annotations

from orders.models import Order
from shipping.models import RecipientKind
from shipping.services import delivery
from tests.factories import UserFactory
from tests.shipping.support import make_order, paid_by_transfer, rub, ship

__all__ = ["delivered", "make_order", "paid_by_transfer", "rub", "ship", "staff_user"]


def staff_user():
    return UserFactory(is_staff=True, is_superuser=True)


def delivered(order: Order | None = None, **kwargs) -> Order:
    """A prepaid (bank transfer) order shipped in one parcel and handed over to the customer."""
    order = order or paid_by_transfer(**kwargs)
    shipment = ship(order)
    delivery.delivery_record_handover(shipment_id=shipment.pk, recipient_kind=RecipientKind.CUSTOMER, actor=None)
    order.refresh_from_db()
    return order
