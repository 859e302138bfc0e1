"""The tables of allowed moves of a Payment and a Refund (like the order's in orders/lifecycle.py).

``payment_move`` and ``refund_move`` are the only ways their status changes: each checks its
table, saves with ``update_fields``, writes a typed order event with source and target, and
recomputes the order's payment status from the money rows (``payments.ledger``). The caller
holds the locks (``shop.locks``: Order → Payment → Refund).
"""

from __future__ import annotations

from orders import events
from shop.transitions import Lifecycle, TransitionNotAllowed

from . import ledger
from .models import Payment, PaymentStatus, Refund, RefundStatus

P, R = PaymentStatus, RefundStatus

__all__ = ["PAYMENT_TRANSITIONS", "REFUND_TRANSITIONS", "TransitionNotAllowed", "payment_move", "refund_move"]

PAYMENT_TRANSITIONS: dict[str, set[str]] = {
    # PAY-PAYPAL: waiting for the customer at PayPal; the capture completes, waits, or is refused.
    P.CREATED: {P.APPROVED, P.PENDING, P.COMPLETED, P.REVIEW, P.DENIED, P.FAILED},
    P.APPROVED: {P.PENDING, P.COMPLETED, P.REVIEW, P.DENIED, P.FAILED},
    P.PENDING: {P.COMPLETED, P.REVIEW, P.DENIED, P.FAILED},
    # Captured; a refund sent moves it on (PAY-REFUND-SAME-WAY). Money that came for an order that
    # moved on (cancelled meanwhile) is held for staff review.
    P.COMPLETED: {P.PARTIALLY_REFUNDED, P.REFUNDED, P.REVIEW},
    P.PARTIALLY_REFUNDED: {P.REFUNDED},
    # Held for staff: refunds are made from it but it stays in review (staff see it until resolved).
    P.REVIEW: set(),
    P.REFUNDED: set(),
    P.DENIED: set(),
    P.FAILED: set(),
}

REFUND_TRANSITIONS: dict[str, set[str]] = {
    # PayPal and cards: sent to PayPal, which confirms at once or later (pending).
    R.REQUESTED: {R.PENDING, R.SENT, R.FAILED},
    # Cash on delivery and bank transfer: the customer gives an account, then staff transfer.
    R.AWAITING_BANK_DETAILS: {R.PENDING},
    R.PENDING: {R.SENT, R.FAILED},
    R.SENT: set(),
    R.FAILED: set(),
}


def _money_row_moved(row: Payment | Refund, *, source: str, target: str, actor=None) -> None:
    """The event, then the order's payment status from the money rows as they are now."""
    events.money_row_moved(row=row, source=source, target=target, actor=actor)
    ledger.order_payment_status_recompute(order=row.order)


PAYMENT_LIFECYCLE = Lifecycle(PAYMENT_TRANSITIONS, on_move=_money_row_moved)
REFUND_LIFECYCLE = Lifecycle(REFUND_TRANSITIONS, on_move=_money_row_moved)


def payment_move(payment: Payment, to: str, *, actor=None, fields=()) -> str:
    """Move the (locked) payment; returns the source status."""
    return PAYMENT_LIFECYCLE.move(payment, to, actor=actor, fields=fields)


def refund_move(refund: Refund, to: str, *, actor=None, fields=()) -> str:
    """Move the (locked) refund; returns the source status."""
    return REFUND_LIFECYCLE.move(refund, to, actor=actor, fields=fields)
