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
    captured = _sum(
        Payment.objects.filter(order_id=order.pk, status__in=CAPTURED_STATUSES).values_list(
            "captured_amount", flat=True
        )
    )
    refunded = _sum(Refund.objects.filter(order_id=order.pk, status=RefundStatus.SENT).values_list("amount", flat=True))
    return captured, refunded


def order_payment_status_recount(order_id: int) -> str:
    """``order_amount_changed`` receiver (registered in PaymentsConfig.ready): in the caller's transaction."""
    return order_payment_status_recompute(order=Order.objects.get(pk=order_id))


def order_payment_status_recompute(*, order: Order) -> str:
    """Write what the money rows say; an event when it changed. Returns the payment status."""
    captured, refunded = order_money(order)
    status = derive_payment_status(total=order_amount_due(order).amount, captured=captured, refunded=refunded)
    if status != order.payment_status:
        source = order.payment_status
        order.payment_status = status
        order.save(update_fields=["payment_status"])
        events.payment_status_changed(order=order, source=source, target=status)
    return status
