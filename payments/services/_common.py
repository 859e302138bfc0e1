"""What every payment service shares: the errors callers catch, money rounding and the locks."""

from __future__ import annotations

from django.db import models

from shop.errors import ServiceError
from shop.locks import lock_order, lock_payment

from ..models import Payment


class PaymentErrorCode(models.TextChoices):
    NOT_ONLINE = "not_online", "Not paid online"
    NOT_AWAITING_PAYMENT = "not_awaiting_payment", "Not waiting for a payment"
    PAYMENT_UNDER_WAY = "payment_under_way", "A payment is under way"
    GATEWAY_UNAVAILABLE = "gateway_unavailable", "PayPal unavailable"
    GATEWAY_REFUSED = "gateway_refused", "PayPal refused"
    WRONG_METHOD = "wrong_method", "Not paid this way"
    AMOUNT_MISMATCH = "amount_mismatch", "Amount does not match"
    ID_NOT_CHECKED = "id_not_checked", "Identity document not checked"
    REFERENCE_MISSING = "reference_missing", "Reference missing"
    REFUND_NOT_POSITIVE = "refund_not_positive", "Refund amount not positive"
    REFUND_ABOVE_CAPTURED = "refund_above_captured", "More than can be refunded"
    REFUND_NOT_BY_HAND = "refund_not_by_hand", "Confirmed by PayPal, not by hand"
    REFUND_NO_ACCOUNT = "refund_no_account", "No bank account yet"


class PaymentError(ServiceError):
    """A payment action was refused; the message is for the person who asked, ``code`` for code."""


class RefundError(PaymentError):
    """A refund was refused (PAY-REFUND-SAME-WAY); nothing changed."""


def _lock_payment(payment_id: int) -> Payment:
    """The payment and its order, locked in the one lock order (``shop.locks``): the order first.

    ``payment.order`` is the locked order row, so the services read and write one copy of it.
    """
    order_id = Payment.objects.values_list("order_id", flat=True).get(pk=payment_id)
    order = lock_order(order_id)
    payment = lock_payment(payment_id)
    payment.order = order
    return payment
