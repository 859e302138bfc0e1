"""Helpers for the delivery tests (not a test module).

``ship`` stands in for ``shipping.services.shipments.shipment_create``, which another branch builds
in parallel: it writes the Shipment and ShipmentLine rows and ``OrderLine.quantity_shipped`` and
moves the order to shipped through ``orders.lifecycle.move`` (the one path for a status move), as
that service will. The lead switches it to ``shipment_create`` when the branches merge.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from orders import lifecycle
from orders.models import Order
from payments.services import payment_record_bank_transfer
from shipping.models import Shipment, ShipmentLine
from shop.locks import lock_order
from tests.orders.lifecycle_support import make_order, rub

__all__ = ["make_order", "paid_by_transfer", "rub", "ship"]


def ship(order: Order, quantities: dict[int, int] | None = None, *, shipped_at=None) -> Shipment:
    """One parcel with ``quantities`` (order line id → units; default: every open unit)."""
    with transaction.atomic():
        order = lock_order(order.pk)
        lines = list(order.lines.all())
        wanted = quantities or {line.pk: line.quantity_open for line in lines if line.quantity_open}
        shipment = Shipment.objects.create(
            order=order, method=order.delivery_method, carrier="Russian Post", shipped_at=shipped_at or timezone.now()
        )
        for line in lines:
            if wanted.get(line.pk):
                ShipmentLine.objects.create(shipment=shipment, order_line=line, quantity=wanted[line.pk])
                line.quantity_shipped += wanted[line.pk]
                line.save(update_fields=["quantity_shipped"])
        if order.status == Order.Status.PROCESSING:
            lifecycle.move(order, Order.Status.PACKED)
        open_left = any(line.quantity_open for line in lines)
        target = Order.Status.PARTIALLY_SHIPPED if open_left else Order.Status.SHIPPED
        if order.status != target:
            lifecycle.move(order, target)
        return shipment


def paid_by_transfer(**kwargs) -> Order:
    """A prepaid order paid through the real bank-transfer service (PAY-PREPAID-FIRST), now processing."""
    order = make_order(payment_method="bank_transfer", status=Order.Status.AWAITING_PAYMENT, **kwargs)
    payment_record_bank_transfer(
        order_id=order.pk, amount=order.total, credited_on=dt.date.today(), reference="REF-1", actor=None
    )
    order.refresh_from_db()
    return order
