"""The order's payment status, derived from the money rows; never set by hand.

``order_payment_status_recompute`` is the one function that writes ``Order.payment_status``. It runs
whenever a payment or a refund changes (every ``payments.lifecycle`` move, and a payment recorded
already completed), inside the caller's transaction with the order locked first.
"""

from __future__ import annotations

from decimal import Decimal

from orders import events
from orders.models import Order, derive_payment_status
from orders.pricing import order_amount_due

from .models import CAPTURED_STATUSES, Payment, Refund, RefundStatus


def _sum(amounts) -> Decimal:
    return sum((Decimal(a) for a in amounts), Decimal("0"))


def order_money(order: Order) -> tuple[Decimal, Decimal]:
    """(captured, refunded): money taken in on the order and money sent back, as amounts."""
    return orders_money([order.pk])[order.pk]


def orders_money(order_ids: list[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """``order_money`` of several orders, in two queries (issue #14): (captured, refunded) by order id."""
    captured: dict[int, list] = {pk: [] for pk in order_ids}
    refunded: dict[int, list] = {pk: [] for pk in order_ids}
    rows = Payment.objects.filter(order_id__in=order_ids, status__in=CAPTURED_STATUSES)
    for order_id, amount in rows.values_list("order_id", "captured_amount"):
        captured[order_id].append(amount)
    rows = Refund.objects.filter(order_id__in=order_ids, status=RefundStatus.SENT)
    for order_id, amount in rows.values_list("order_id", "amount"):
        refunded[order_id].append(amount)
    return {pk: (_sum(captured[pk]), _sum(refunded[pk])) for pk in order_ids}


def order_payment_status_recount(order_id: int) -> str:
    """``order_amount_changed`` receiver (registered in PaymentsConfig.ready): in the caller's transaction."""
    return orders_payment_status_recount([order_id])[0]


def orders_payment_status_recount(order_ids: list[int]) -> list[str]:
    """``order_payment_status_recount`` for several orders (``hooks.run_many``, issue #14): the orders and
    their adjustments read in two queries, their money rows in two, the changed ones written in one."""
    orders = Order.objects.prefetch_related("adjustments").in_bulk(order_ids)
    return orders_payment_status_recompute([orders[pk] for pk in order_ids])


def order_payment_status_recompute(*, order: Order) -> str:
    """Write what the money rows say; an event when it changed. Returns the payment status."""
    return orders_payment_status_recompute([order])[0]


def orders_payment_status_recompute(orders: list[Order]) -> list[str]:
    """``order_payment_status_recompute`` for several orders, the changed ones in one UPDATE."""
    money_of = orders_money([order.pk for order in orders])
    changed = []
    for order in orders:
        captured, refunded = money_of[order.pk]
        status = derive_payment_status(total=order_amount_due(order).amount, captured=captured, refunded=refunded)
        if status != order.payment_status:
            source = order.payment_status
            order.payment_status = status
            changed.append(order)
            events.payment_status_changed(order=order, source=source, target=status)
    if changed:
        Order.objects.bulk_update(changed, ["payment_status"])
    return [order.payment_status for order in orders]
