"""Taking stock for an order and putting it back.

Cash/card on delivery takes stock at confirmation; a prepaid order only once its payment is
confirmed (PAY-PREPAID-FIRST). Both functions must run inside the caller's transaction: the order,
then its products in pk order, are locked through ``shop.locks`` (the one lock order), so two
orders racing for the last units queue up on the same locks in the same order (no deadlock) and
the second one reads the stock the first one left — never oversold, never negative.

SHIP-STOCKOUT: when a paid order finds the shelf short (``take_available``), the units that are there
are reserved at once, so the part the customer may keep cannot be sold to someone else while they
choose; the missing units are counted on the line (``OrderLine.quantity_short``) and are never on the
shelf for this order. Units staff find missing at packing (``mark_short``) were counted on the shelf
but are not there: the same counter. ``release_stock`` never puts short units back. A short unit ends
cancelled (the line's counters, by the stock-out outcome) or reserved once goods arrive
(``take_short``, a split order).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from shop.catalogue_cache import catalogue_changed
from shop.locks import lock_order, lock_orders, lock_products
from shop.models import Product

from . import events
from .models import Order, OrderLine


def take_stock(*, order: Order, lines: list[OrderLine] | None = None) -> list[OrderLine]:
    """Take the order's quantities off the shelf, all or nothing.

    Returns the lines that could not be served (empty list = success). When any line is short
    nothing is taken. Idempotent: an order whose stock is already taken takes nothing again.
    ``lines``: all the order's lines when the caller holds them (the confirmation just wrote them),
    so they are not read again.
    """
    locked = lock_order(order.pk)
    if locked.stock_taken:
        order.stock_taken = True
        return []
    lines = list(order.lines.all()) if lines is None else lines
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
    _stock_write(products, needed)
    locked.stock_taken = order.stock_taken = True
    locked.save(update_fields=["stock_taken"])
    events.stock_taken(order=order, lines=[(line.sku, line.quantity) for line in lines])
    return []


def _allocate(lines: list[OrderLine], wanted: dict[int, int], products: dict) -> dict[int, int]:
    """How many of ``wanted[line.pk]`` units each line gets from the locked products, lines in pk order."""
    left = {pk: product.stock for pk, product in products.items()}
    given = {}
    for line in lines:
        want = wanted.get(line.pk, 0)
        have = left.get(line.product_id, 0) if line.product_id is not None else 0
        given[line.pk] = min(want, have)
        if line.product_id in left:
            left[line.product_id] -= given[line.pk]
    return given


def _stock_write(products: dict, taken: Counter) -> None:
    """Lower the locked products' stock by ``taken`` (product id → units) in one UPDATE.

    ``bulk_update`` sends no ``post_save``, so the cached catalogue pages are marked stale here, as a
    ``Product.save`` would (shop.catalogue_cache).
    """
    changed = []
    for product_id, quantity in sorted(taken.items()):
        if quantity:
            products[product_id].stock -= quantity
            changed.append(products[product_id])
    if changed:
        Product.objects.bulk_update(changed, ["stock"])
        catalogue_changed()


def _take(products: dict, lines: list[OrderLine], given: dict[int, int]) -> None:
    taken = Counter()
    for line in lines:
        if given.get(line.pk) and line.product_id is not None:
            taken[line.product_id] += given[line.pk]
    _stock_write(products, taken)


def take_available(*, order: Order) -> dict[int, int]:
    """SHIP-STOCKOUT at payment: reserve every unit on the shelf; return the missing units by line id.

    Lines sharing a product are served in pk order. The missing units are recorded on their lines
    (``quantity_short``). Idempotent: an order whose stock is already taken takes nothing and
    reports nothing new (its short units, if any, already wait for the customer's choice).
    """
    locked = lock_order(order.pk)
    if locked.stock_taken:
        order.stock_taken = True
        return {}
    lines = list(order.lines.all())
    wanted = {line.pk: line.quantity_open for line in lines}
    products = lock_products({line.product_id for line in lines if line.product_id is not None})
    given = _allocate(lines, wanted, products)
    _take(products, lines, given)
    missing = {line.pk: wanted[line.pk] - given[line.pk] for line in lines if wanted[line.pk] > given[line.pk]}
    for line in lines:
        if line.pk in missing:
            line.quantity_short = missing[line.pk]
            line.save(update_fields=["quantity_short"])
    locked.stock_taken = order.stock_taken = True
    locked.save(update_fields=["stock_taken"])
    events.stock_taken(order=order, lines=[(line.sku, given[line.pk]) for line in lines if given[line.pk]])
    return missing


def mark_short(*, order: Order, missing: dict[int, int]) -> None:
    """SHIP-STOCKOUT at packing: units counted on the shelf are not there. The shelf count is not
    touched (it already went down for them); they are short on their lines and never go back."""
    lock_order(order.pk)
    for line in order.lines.filter(pk__in=list(missing)):
        line.quantity_short += missing[line.pk]
        line.save(update_fields=["quantity_short"])


def take_short(*, order: Order) -> dict[int, int]:
    """SHIP-STOCKOUT split: the goods arrived — reserve the short units that are on the shelf now.

    Returns the units reserved by line id (empty: nothing short, or nothing on the shelf yet).
    """
    lock_order(order.pk)
    lines = [line for line in order.lines.all() if line.quantity_short]
    if not lines:
        return {}
    products = lock_products({line.product_id for line in lines if line.product_id is not None})
    given = {pk: n for pk, n in _allocate(lines, {ln.pk: ln.quantity_short for ln in lines}, products).items() if n}
    _take(products, lines, given)
    for line in lines:
        if given.get(line.pk):
            line.quantity_short -= given[line.pk]
            line.save(update_fields=["quantity_short"])
    if given:
        events.stock_taken(order=order, lines=[(line.sku, given[line.pk]) for line in lines if line.pk in given])
    return given


def release_stock(*, order: Order, actor=None) -> None:
    """Put the order's reserved units back on the shelf (cancellation). Idempotent.

    Reserved = open units that are not short (cancelled units were never, or no longer, reserved;
    shipped ones left; short ones are not on the shelf).
    """
    release_stock_many([order], actor=actor)


def release_stock_many(orders: list[Order], *, actor=None) -> None:
    """``release_stock`` for several orders with a fixed number of queries (issue #14: a periodic
    sweep cancels hundreds): the orders re-read under their locks, their lines, the products locked
    in pk order and given their units back with one UPDATE, the orders' flag with another."""
    locked = lock_orders(order.pk for order in orders)
    taken = [order for order in orders if locked[order.pk].stock_taken]
    for order in orders:
        order.stock_taken = locked[order.pk].stock_taken
    if not taken:
        return
    lines: dict[int, list[OrderLine]] = defaultdict(list)
    for line in OrderLine.objects.filter(order__in=taken).order_by("pk"):
        lines[line.order_id].append(line)
    returned = Counter()
    for order in taken:
        for line in lines[order.pk]:
            if line.product_id is not None and line.quantity_on_shelf:
                returned[line.product_id] += line.quantity_on_shelf
    products = lock_products(returned)
    back = []
    for product_id, quantity in sorted(returned.items()):
        if product_id in products:  # a product deleted since has no shelf to go back to
            products[product_id].stock += quantity
            back.append(products[product_id])
    if back:
        type(back[0]).objects.bulk_update(back, ["stock"])
        catalogue_changed()  # what a Product.save() tells the catalogue cache (no save() in a bulk UPDATE)
    Order.objects.filter(pk__in=[order.pk for order in taken]).update(stock_taken=False)
    for order in taken:
        locked[order.pk].stock_taken = order.stock_taken = False
        events.stock_released(
            order=order,
            lines=[(line.sku, line.quantity_on_shelf) for line in lines[order.pk] if line.quantity_on_shelf],
            actor=actor,
        )
