"""One small function per event type. Every change of an order writes exactly one of these.

``customer_visible`` events make the timeline on the customer's order page; staff see all of them.
Messages are written for the person reading the timeline.
"""

from decimal import Decimal

from .models import Order, OrderEvent


def record(
    order: Order, type: str, message: str, *, actor=None, customer_visible: bool = False, **parameters
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        type=type,
        actor=actor,
        message=message[:300],
        customer_visible=customer_visible,
        parameters=_jsonable(parameters),
    )


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "amount") and hasattr(value, "currency"):  # Money
        return {"amount": str(value.amount), "currency": str(value.currency)}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# --- Orders ---------------------------------------------------------------------------------
def order_placed(*, order: Order, actor=None) -> OrderEvent:
    return record(
        order,
        "placed",
        f"Order {order.number} placed; total {order.total}.",
        actor=actor,
        customer_visible=True,
        total=order.total,
    )


def status_changed(*, order: Order, source: str, target: str, actor=None, note: str = "") -> OrderEvent:
    label = Order.Status(target).label
    return record(
        order,
        "status_changed",
        f"Status: {label}." + (f" {note}" if note else ""),
        actor=actor,
        customer_visible=True,
        source=source,
        target=target,
    )


def order_cancelled(*, order: Order, reason: str, actor=None) -> OrderEvent:
    return record(
        order,
        "cancelled",
        "Order cancelled." + (f" Reason: {reason}" if reason else ""),
        actor=actor,
        customer_visible=True,
        reason=reason,
    )


def stock_taken(*, order: Order, lines: list[tuple[str, int]]) -> OrderEvent:
    return record(order, "stock_taken", "Stock reserved for the order.", lines=lines)


def stock_released(*, order: Order, lines: list[tuple[str, int]], actor=None) -> OrderEvent:
    return record(order, "stock_released", "Stock returned to the shelf.", actor=actor, lines=lines)


def price_error_marked(*, order: Order, corrections: list[dict], new_total, answer_by, actor=None) -> OrderEvent:
    return record(
        order,
        "price_error_marked",
        f"Price corrected; new total {new_total}. Awaiting the customer's answer.",
        actor=actor,
        customer_visible=True,
        corrections=corrections,
        new_total=new_total,
        answer_by=answer_by,
    )


def price_error_answered(*, order: Order, accepted: bool, actor=None) -> OrderEvent:
    text = "Customer accepted the corrected price." if accepted else "Customer declined the corrected price."
    return record(order, "price_error_answered", text, actor=actor, customer_visible=True, accepted=accepted)


def price_error_timed_out(*, order: Order) -> OrderEvent:
    return record(
        order,
        "price_error_timed_out",
        "No answer to the corrected price in time; order cancelled.",
        customer_visible=True,
    )


def email_queued(*, order: Order, kind: str, email_id: int) -> OrderEvent:
    return record(order, "email_queued", f"E-mail queued: {kind}.", kind=kind, email_id=email_id)


# --- Payments -------------------------------------------------------------------------------
def payment_started(*, order: Order, gateway: str, reference: str = "") -> OrderEvent:
    return record(order, "payment_started", f"Payment started via {gateway}.", gateway=gateway, reference=reference)


def payment_confirmed(*, order: Order, amount, method: str, reference: str = "", actor=None) -> OrderEvent:
    return record(
        order,
        "payment_confirmed",
        f"Payment of {amount} received.",
        actor=actor,
        customer_visible=True,
        amount=amount,
        method=method,
        reference=reference,
    )


def payment_failed(*, order: Order, reason: str) -> OrderEvent:
    return record(order, "payment_failed", f"Payment not completed: {reason}", customer_visible=True, reason=reason)


def payment_review(*, order: Order, reason: str) -> OrderEvent:
    return record(order, "payment_review", f"Payment held for staff review: {reason}", reason=reason)


def fraud_check_decided(*, order: Order, approved: bool, actor=None, note: str = "") -> OrderEvent:
    text = "Card payment approved by staff." if approved else "Card payment rejected by staff."
    return record(order, "fraud_check", text, actor=actor, approved=approved, note=note)


def refund_requested(*, order: Order, amount, reason: str, actor=None) -> OrderEvent:
    return record(
        order,
        "refund_requested",
        f"Refund of {amount} started.",
        actor=actor,
        customer_visible=True,
        amount=amount,
        reason=reason,
    )


def refund_sent(*, order: Order, amount, reference: str = "", actor=None) -> OrderEvent:
    return record(
        order,
        "refund_sent",
        f"Refund of {amount} sent.",
        actor=actor,
        customer_visible=True,
        amount=amount,
        reference=reference,
    )


def cod_standing_changed(*, order: Order, allowed: bool, reason: str) -> OrderEvent:
    return record(
        order,
        "cod_standing",
        f"Pay on delivery {'allowed' if allowed else 'withdrawn'}: {reason}",
        allowed=allowed,
        reason=reason,
    )


# --- Lifecycle moves (orders/services.py) ---------------------------------------------------
def order_paid(*, order: Order, amount, method: str, source: str, reference: str = "", actor=None) -> OrderEvent:
    """PAY-PREPAID-FIRST: the payment is confirmed; the status says whether staff must check it first."""
    return record(
        order,
        "paid",
        f"Payment of {amount} received. Status: {Order.Status(order.status).label}.",
        actor=actor,
        customer_visible=True,
        amount=amount,
        method=method,
        reference=reference,
        source=source,
        target=order.status,
        ship_by=order.ship_by,
    )


def stock_short(*, order: Order, products: list[str], actor=None) -> OrderEvent:
    """SHIP-STOCKOUT: some lines could not be served from stock; nothing was reserved."""
    return record(
        order,
        "stock_short",
        "Not enough stock for: " + ", ".join(products) + ".",
        actor=actor,
        customer_visible=True,
        products=products,
    )


def price_error_accepted(*, order: Order, old_total, new_total, lines: list[dict], actor=None) -> OrderEvent:
    """ORD-PRICE-ERROR: the customer accepted the corrected prices; the order's totals changed."""
    return record(
        order,
        "price_error_answered",
        f"Customer accepted the corrected price; total {old_total} → {new_total}.",
        actor=actor,
        customer_visible=True,
        accepted=True,
        old_total=old_total,
        new_total=new_total,
        lines=lines,
    )


# --- Refunds out (payments/services.py) -----------------------------------------------------
def refund_failed(*, order: Order, amount, reason: str, actor=None) -> OrderEvent:
    """PAY-REFUND-SAME-WAY: the gateway refused a refund; its amount can be refunded again."""
    return record(
        order, "refund_failed", f"Refund of {amount} failed: {reason}", actor=actor, amount=amount, reason=reason
    )


def refund_bank_details_received(*, order: Order, amount, actor=None) -> OrderEvent:
    """PAY-REFUND-SAME-WAY: the customer gave the bank account a COD/bank-transfer refund goes to."""
    return record(
        order,
        "refund_bank_details",
        f"Bank account for the refund of {amount} received; the transfer will follow.",
        actor=actor,
        customer_visible=True,
        amount=amount,
    )
