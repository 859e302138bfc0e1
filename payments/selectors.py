"""Reads that need more than one line."""

from decimal import Decimal

from djmoney.money import Money

from .models import Payment, Refund, RefundStatus, RefundWay

#: A bank-account refund whose account the customer may still give or correct (not transferred yet).
BANK_DETAILS_OPEN = (RefundStatus.AWAITING_BANK_DETAILS, RefundStatus.PENDING)


def payment_by_paypal_order(paypal_order_id: str) -> Payment | None:
    if not paypal_order_id:
        return None
    return Payment.objects.select_related("order").filter(paypal_order_id=paypal_order_id).first()


def refunds_open_to_bank_details(order) -> list[Refund]:
    return list(order.refunds.filter(way=RefundWay.BANK_ACCOUNT, status__in=BANK_DETAILS_OPEN).order_by("pk"))


def refunds_total(refunds, order) -> Money:
    return Money(sum((r.amount.amount for r in refunds), Decimal("0")), order.total.currency)
