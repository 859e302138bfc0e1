"""Totals of an order, computed one way (ORD-PRICE-LOCK: stored at confirmation, changed only by an
accepted ORD-PRICE-ERROR correction). Rounding: ``shop.money`` (the one rule)."""

from __future__ import annotations

from decimal import Decimal

from djmoney.money import Money

from shop.money import money

from .models import Order


def order_amount_due(order: Order) -> Money:
    """What the customer owes now: the price-locked total plus the adjustments since (fees, cancelled parts)."""
    adjustments = sum((a.amount.amount for a in order.adjustments.all()), Decimal("0"))
    return money(order.total.amount + adjustments, order.total.currency)


def order_total_with(order: Order, unit_prices: dict[int, Decimal]) -> Money:
    """The order total with some lines' unit prices replaced (line id → new unit price)."""
    currency = order.total.currency
    subtotal = sum(
        (Decimal(unit_prices.get(line.pk, line.unit_price.amount)) * line.quantity for line in order.lines.all()),
        Decimal("0"),
    )
    return money(subtotal + order.delivery_cost.amount - order.discount.amount, currency)
