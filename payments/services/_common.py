"""What every payment service shares: the errors callers catch, money rounding and the Payment lock."""

from __future__ import annotations

from decimal import Decimal

from djmoney.money import Money

from .. import gateways
from ..models import Payment


class PaymentError(Exception):
    """A payment action was refused; the message is for the person who asked (customer or staff)."""


class RefundError(PaymentError):
    """A refund was refused (PAY-REFUND-SAME-WAY); nothing changed."""


def _money(amount, currency) -> Money:
    if isinstance(amount, Money):
        return Money(gateways.quantize(amount.amount, str(amount.currency)), amount.currency)
    return Money(gateways.quantize(Decimal(str(amount)), str(currency)), currency)


def _lock_payment(payment_id: int) -> Payment:
    return Payment.objects.select_for_update().select_related("order").get(pk=payment_id)
