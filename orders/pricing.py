"""Totals of an order, computed one way (ORD-PRICE-LOCK: stored at confirmation, changed only by an
accepted ORD-PRICE-ERROR correction). Rounding: ``shop.money`` (the one rule)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import prefetch_related_objects
from djmoney.money import Money

from shop.money import money

from .models import Order


def order_amount_due(order: Order) -> Money:
    """What the customer owes now: the price-locked total plus the adjustments since (fees, cancelled parts)."""
    adjustments = sum((a.amount.amount for a in order.adjustments.all()), Decimal("0"))
    return money(order.total.amount + adjustments, order.total.currency)


def adjustments_load(orders: list[Order]) -> None:
    """Read the orders' adjustments afresh, in one query, so ``order_amount_due`` of each costs none."""
    for order in orders:
        getattr(order, "_prefetched_objects_cache", {}).pop("adjustments", None)
    prefetch_related_objects(orders, "adjustments")


def order_total_with(order: Order, unit_prices: dict[int, Decimal]) -> Money:
    """The order total with some lines' unit prices replaced (line id → new unit price)."""
    currency = order.total.currency
    subtotal = sum(
        (Decimal(unit_prices.get(line.pk, line.unit_price.amount)) * line.quantity for line in order.lines.all()),
        Decimal("0"),
    )
    return money(subtotal + order.delivery_cost.amount - order.discount.amount, currency)
