"""Money that does not pass through PayPal: bank transfer, payment at the door, and the card fraud review."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from orders import events
from orders import services as order_services
from orders.access import order_link_for_email
from orders.models import Order
from orders.pricing import order_amount_due
from shop.emails import email_queue
from shop.locks import lock_order, lock_payments
from shop.models import PaymentMethod
from shop.money import money

from .. import ledger
from ..lifecycle import payment_move
from ..models import CAPTURED_STATUSES, Gateway, Payment, PaymentStatus
from ._common import PaymentError, PaymentErrorCode


# --- Bank transfer, payment at the door -----------------------------------------------------
def payment_record_bank_transfer(
    *, order_id: int, amount: Money, credited_on: dt.date, reference: str, actor
) -> Payment:
    """PAY-PREPAID-FIRST: staff saw the funds credited; only now is the order paid (and stock taken).

    The credited amount must be the order's total; anything else is refused and nothing changes.
    """
    reference = reference.strip()
    if not reference:
        raise PaymentError(
            _("Enter the transfer's reference from the bank statement."), code=PaymentErrorCode.REFERENCE_MISSING
        )
    with transaction.atomic():
        # The order first (shop.locks): two staff recording the same transfer at once make one payment.
        order = lock_order(order_id)
        if order.payment_method != PaymentMethod.BANK_TRANSFER:
            raise PaymentError(_("This order is not paid by bank transfer."), code=PaymentErrorCode.WRONG_METHOD)
        existing = lock_payments(order_id=order.pk, gateway=Gateway.BANK_TRANSFER)
        payment = existing[0] if existing else None
        if payment is not None and payment.status in CAPTURED_STATUSES:
            return payment  # already recorded
        if order.status != Order.Status.AWAITING_PAYMENT:
            raise PaymentError(
                _("The order is %(status)s; it is not waiting for money.")
                % {"status": order.get_status_display().lower()},
                code=PaymentErrorCode.NOT_AWAITING_PAYMENT,
            )
        amount = money(amount, order.total.currency)
        if amount != order.total:
            raise PaymentError(
                _("The credited amount %(amount)s does not match the order total %(total)s.")
                % {"amount": amount, "total": order.total},
                code=PaymentErrorCode.AMOUNT_MISMATCH,
            )
        now = timezone.now()
        recorded = {
            "captured_amount": amount,
            "confirmed_at": now,
            "credited_on": credited_on,
            "bank_reference": reference[:100],
            "recorded_by": actor,
        }
        if payment is None:
            payment = Payment.objects.create(
                order=order,
                method=order.payment_method,
                gateway=Gateway.BANK_TRANSFER,
                amount=order.total,
                refunded_amount=Money(0, order.total.currency),
                status=PaymentStatus.COMPLETED,
                **recorded,
            )
            ledger.order_payment_status_recompute(order=order)
        else:
            payment.order = order
            for name, value in recorded.items():
                setattr(payment, name, value)
            payment_move(payment, PaymentStatus.COMPLETED, actor=actor, fields=list(recorded))
        order_services.order_mark_paid(
            order_id=order.pk, amount=amount, paid_at=now, method=payment.method, reference=reference, actor=actor
        )
        return payment


def payment_record_at_door(
    *, order_id: int, method: str, amount: Money, id_document_checked: bool, card_unnamed: bool, actor
) -> Payment:
    """The courier took the money at handover (cash or card).

    PAY-CARD-AT-DOOR-ID: a card payment needs the payer's identity document checked, unless the
    card is unnamed. DLV-HANDOVER: the order is paid in full, i.e. what is owed now
    (``order_amount_due``: less items refused at the door). Idempotent per order.
    """
    if method not in {PaymentMethod.CASH_COURIER, PaymentMethod.CARD_COURIER}:
        raise PaymentError(
            _("Only cash or card to the courier is paid at the door."), code=PaymentErrorCode.WRONG_METHOD
        )
    if method == PaymentMethod.CARD_COURIER and not (id_document_checked or card_unnamed):
        raise PaymentError(
            _("Check the payer's identity document: the card carries a name."), code=PaymentErrorCode.ID_NOT_CHECKED
        )
    with transaction.atomic():
        order = lock_order(order_id)
        existing = order.payments.filter(gateway=Gateway.COURIER, status__in=CAPTURED_STATUSES).first()
        if existing is not None:
            return existing
        if order.payment_method not in {PaymentMethod.CASH_COURIER, PaymentMethod.CARD_COURIER}:
            raise PaymentError(
                _("This order is prepaid; nothing is paid at the door."), code=PaymentErrorCode.WRONG_METHOD
            )
        amount = money(amount, order.total.currency)
        # What is owed now: the total plus adjustments (DLV-INSPECT: items refused at the door are not owed).
        due = order_amount_due(order)
        if amount != due:
            raise PaymentError(
                _("The order must be paid in full: %(due)s (taken: %(taken)s).") % {"due": due, "taken": amount},
                code=PaymentErrorCode.AMOUNT_MISMATCH,
            )
        now = timezone.now()
        payment = Payment.objects.create(
            order=order,
            method=method,
            gateway=Gateway.COURIER,
            status=PaymentStatus.COMPLETED,
            amount=due,
            captured_amount=amount,
            refunded_amount=Money(0, amount.currency),
            confirmed_at=now,
            id_document_checked=id_document_checked,
            card_unnamed=card_unnamed,
            recorded_by=actor,
        )
        events.payment_received_at_door(order=order, amount=amount, method=method, actor=actor)
        ledger.order_payment_status_recompute(order=order)
        email_queue(
            to=order.email,
            language=order.language,
            template="payment_received",
            context={"order": order, "payment": payment, "order_url": order_link_for_email(order)},
            key=f"payment-received:{payment.pk}",
        )
        return payment


# --- PAY-FRAUD-CHECK ------------------------------------------------------------------------
def fraud_review_approve(*, order_id: int, actor) -> Order:
    """Staff checked the card payment: the order goes on to processing."""
    return order_services.order_fraud_approve(order_id=order_id, actor=actor)


def fraud_review_reject(*, order_id: int, actor, note: str = "") -> Order:
    """Staff reject the card payment: the order is cancelled and the money goes back to the card.

    The refund row is written in the same transaction by the ``order_cancelled`` hook
    (the refunds app's ``cancelled_order_refund``, through a fraud-cancellation case); PayPal is asked after commit.
    """
    return order_services.order_fraud_reject(order_id=order_id, actor=actor, note=note)
