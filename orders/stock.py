"""Taking stock for an order and putting it back.

Cash/card on delivery takes stock at confirmation; a prepaid order only once its payment is
confirmed (PAY-PREPAID-FIRST). Both functions must run inside the caller's transaction: the order,
then its products in pk order, are locked through ``shop.locks`` (the one lock order), so two
orders racing for the last units queue up on the same locks in the same order (no deadlock) and
the second one reads the stock the first one left — never oversold, never negative.
"""

from __future__ import annotations

from collections import Counter

from shop.locks import lock_order, lock_products

from . import events
from .models import Order, OrderLine


def take_stock(*, order: Order) -> list[OrderLine]:
    """Take the order's quantities off the shelf, all or nothing.

    Returns the lines that could not be served (empty list = success). When any line is short
    nothing is taken. Idempotent: an order whose stock is already taken takes nothing again.
    """
    locked = lock_order(order.pk)
    if locked.stock_taken:
        order.stock_taken = True
        return []
    lines = list(order.lines.all())
    needed = Counter()
    for line in lines:
        if line.product_id is not None:
            needed[line.product_id] += line.quantity
    products = lock_products(needed)
    short = [
        line
        for line in lines
        if line.product_id is None
        or line.product_id not in products
        or products[line.product_id].stock < needed[line.product_id]
    ]
    if short:
        return short
    for product_id, quantity in sorted(needed.items()):
        product = products[product_id]
        product.stock -= quantity
        product.save(update_fields=["stock"])
    locked.stock_taken = order.stock_taken = True
    locked.save(update_fields=["stock_taken"])
    events.stock_taken(order=order, lines=[(line.sku, line.quantity) for line in lines])
    return []


def release_stock(*, order: Order, actor=None) -> None:
    """Put the order's quantities back on the shelf (cancellation). Idempotent."""
    locked = lock_order(order.pk)
    if not locked.stock_taken:
        order.stock_taken = False
        return
    lines = list(order.lines.all())
    returned = Counter()
    for line in lines:
        if line.product_id is not None:
            returned[line.product_id] += line.quantity
    products = lock_products(returned)
    for product_id, quantity in sorted(returned.items()):
        if product_id in products:  # a product deleted since has no shelf to go back to
            product = products[product_id]
            product.stock += quantity
            product.save(update_fields=["stock"])
    locked.stock_taken = order.stock_taken = False
    locked.save(update_fields=["stock_taken"])
    events.stock_released(order=order, lines=[(line.sku, line.quantity) for line in lines], actor=actor)
