"""The one table of allowed status moves. Reading TRANSITIONS tells the whole life of an order.

Later issues (fulfilment, claims) use the moves already listed here; add a move here, nowhere else.
"""

from .models import OrderStatus as S


class TransitionNotAllowed(Exception):
    """A move not in TRANSITIONS was attempted; nothing was changed."""

    def __init__(self, order, to: str):
        self.order, self.source, self.target = order, order.status, to
        super().__init__(f"Order {order.number}: cannot move from {order.status!r} to {to!r}")


_CLOSING = {S.CANCELLED}

TRANSITIONS: dict[str, set[str]] = {
    # Prepaid orders wait for money (PAY-PREPAID-FIRST); a card payment stops for review (PAY-FRAUD-CHECK).
    S.AWAITING_PAYMENT: {S.PAID, S.FRAUD_CHECK, S.PRICE_CONFIRMATION} | _CLOSING,
    S.FRAUD_CHECK: {S.PROCESSING, S.PRICE_CONFIRMATION} | _CLOSING,
    S.PAID: {S.PROCESSING, S.STOCK_DECISION, S.PRICE_CONFIRMATION} | _CLOSING,
    # ORD-PRICE-ERROR: the customer accepts (back to where the order was) or it is cancelled.
    S.PRICE_CONFIRMATION: {S.AWAITING_PAYMENT, S.FRAUD_CHECK, S.PAID, S.PROCESSING} | _CLOSING,
    # Cash/card on delivery starts here at confirmation.
    S.PROCESSING: {S.PACKED, S.STOCK_DECISION, S.PRICE_CONFIRMATION} | _CLOSING,
    # SHIP-STOCKOUT: cancel all, cancel the part (goes on), or split (goes on).
    S.STOCK_DECISION: {S.PROCESSING} | _CLOSING,
    S.PACKED: {S.SHIPPED, S.PROCESSING} | _CLOSING,
    # DLV-*: arrived (awaiting collection) or handed over at the door; refused / not collected.
    S.SHIPPED: {S.DELIVERED, S.COMPLETED, S.REFUSED, S.PROCESSING, S.CLAIM_OPEN},
    S.DELIVERED: {S.COMPLETED, S.REFUSED},
    # REF-*: a claim on a completed order ends in a refund or goes back to completed.
    S.COMPLETED: {S.CLAIM_OPEN},
    S.CLAIM_OPEN: {S.COMPLETED, S.REFUNDED},
    S.REFUSED: {S.REFUNDED},
    S.CANCELLED: set(),
    S.REFUNDED: set(),
}

#: Statuses in which staff may still cancel (ORD-REFUSE).
CANCELLABLE = frozenset(src for src, targets in TRANSITIONS.items() if S.CANCELLED in targets)


def can_move(order, to: str) -> bool:
    return to in TRANSITIONS.get(order.status, set())


def check(order, *, to: str) -> None:
    if not can_move(order, to):
        raise TransitionNotAllowed(order, to)
