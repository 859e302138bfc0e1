"""Helpers for the delivery tests (not a test module).

``ship`` sends a parcel the way staff do: ``order_mark_packed`` then ``shipment_create``.
"""

from __future__ import annotations

import datetime as dt

import time_machine
from django.utils import timezone

from orders.models import Order
from payments.services import payment_record_bank_transfer
from shipping.models import Shipment
from shipping.services import packing, shipments
from tests.orders.lifecycle_support import make_order, rub

__all__ = ["make_order", "paid_by_transfer", "rub", "ship"]


def ship(order: Order, quantities: dict[int, int] | None = None, *, shipped_at=None) -> Shipment:
    """One parcel with ``quantities`` (order line id → units; default: every open unit), through the real
    services: packed first when nothing left yet (``order_mark_packed``), then ``shipment_create``."""
    order.refresh_from_db()
    lines = list(order.lines.all())
    wanted = quantities or {line.pk: line.quantity_open for line in lines if line.quantity_open}
    with time_machine.travel(shipped_at or timezone.now(), tick=True):
        if order.status == Order.Status.PROCESSING and not any(line.quantity_shipped for line in lines):
            packing.order_mark_packed(order_id=order.pk, actor=None)
        tracking = "RA123456785RU" if order.delivery_method.requires_tracking else ""
        return shipments.shipment_create(
            order_id=order.pk, method_id=order.delivery_method_id, tracking_number=tracking, lines=wanted, actor=None
        )


def paid_by_transfer(**kwargs) -> Order:
    """A prepaid order paid through the real bank-transfer service (PAY-PREPAID-FIRST), now processing."""
    order = make_order(payment_method="bank_transfer", status=Order.Status.AWAITING_PAYMENT, **kwargs)
    payment_record_bank_transfer(
        order_id=order.pk, amount=order.total, credited_on=dt.date.today(), reference="REF-1", actor=None
    )
    order.refresh_from_db()
    return order
