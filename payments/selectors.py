"""Reads that need more than one line."""

from decimal import Decimal

from djmoney.money import Money

from .models import Payment, Refund, RefundStatus


def payment_by_paypal_order(paypal_order_id: str) -> Payment | None:
    if not paypal_order_id:
        return None
    return Payment.objects.select_related("order").filter(paypal_order_id=paypal_order_id).first()


def refunds_awaiting_bank_details(order) -> list[Refund]:
    return list(order.refunds.filter(status=RefundStatus.AWAITING_BANK_DETAILS).order_by("pk"))


def refunds_total(refunds, order) -> Money:
    return Money(sum((r.amount.amount for r in refunds), Decimal("0")), order.total.currency)
