"""PAY-PAYPAL: start a PayPal (or card online) payment, capture it, record what PayPal says, reconcile.

Every path ends in ``payment_capture_record``, which locks the order, then the Payment row
(``shop.locks``), and does its work once; every status change goes through ``payments.lifecycle``.
Note: ``paypal`` in this module is the PayPal client, ``payments.paypal``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from djmoney.money import Money

from orders import events, holds, lifecycle
from orders import services as order_services
from orders.access import order_link_for_email
from orders.models import HoldKind, Order
from shop.emails import email_queue
from shop.locks import lock_order
from shop.models import ONLINE_METHODS, Policy
from shop.obligations import enqueue_after_commit

from .. import gateways, paypal
from ..lifecycle import payment_move
from ..models import CAPTURED_STATUSES, OPEN_STATUSES, Gateway, Payment, PaymentStatus
from ._common import PaymentError, PaymentErrorCode, _lock_payment

logger = logging.getLogger(__name__)

#: PayPal lets a buyer approve an order for about three hours; after that we start a new one.
PAYPAL_APPROVAL_WINDOW = timedelta(hours=3)


# --- PayPal and card online: start ----------------------------------------------------------
def paypal_payment_start(*, order_id: int, actor=None) -> Payment:
    """PAY-PAYPAL: the PayPal order the customer approves; returns the Payment holding its approve link.

    An attempt still open and recent is reused (pressing "Pay" twice opens the same PayPal order);
    otherwise a new one is created. Card online (PAY-FRAUD-CHECK) goes the same way.
    """
    with transaction.atomic():
        order = lock_order(order_id)
        if order.payment_method not in ONLINE_METHODS:
            raise PaymentError(_("This order is not paid online."), code=PaymentErrorCode.NOT_ONLINE)
        if order.status != Order.Status.AWAITING_PAYMENT:
            raise PaymentError(
                _("This order is not waiting for a payment."), code=PaymentErrorCode.NOT_AWAITING_PAYMENT
            )
        if holds.open_hold(order, HoldKind.PRICE_CONFIRMATION) is not None:  # ORD-PRICE-ERROR: the total may change
            raise PaymentError(
                _("Please answer the corrected price first; the order page has the link."),
                code=PaymentErrorCode.NOT_AWAITING_PAYMENT,
            )
        if order.payments.filter(
            status__in=[PaymentStatus.APPROVED, PaymentStatus.PENDING, PaymentStatus.REVIEW]
        ).exists():
            # Money is on its way (or held for staff): a second PayPal order could take it twice.
            raise PaymentError(
                _("Your payment is being confirmed; there is no need to pay again."),
                code=PaymentErrorCode.PAYMENT_UNDER_WAY,
            )
        recent = timezone.now() - PAYPAL_APPROVAL_WINDOW
        payment = (
            order.payments.filter(
                gateway=Gateway.PAYPAL,
                status=PaymentStatus.CREATED,
                created_at__gte=recent,
                paypal_order_id__isnull=False,
            )
            .exclude(approve_url="")
            .first()
        )
        if payment is not None:
            return payment
        payment = Payment.objects.create(
            order=order,
            method=order.payment_method,
            gateway=Gateway.PAYPAL,
            status=PaymentStatus.CREATED,
            amount=order.total,
            captured_amount=Money(0, order.total.currency),
            refunded_amount=Money(0, order.total.currency),
            reconcile_after=timezone.now() + timedelta(hours=Policy.load().paypal_reconcile_hours),
        )
    body = gateways.paypal_order_body(
        order=order,
        payment=payment,
        return_url=settings.SITE_URL + reverse("payments:paypal_return"),
        cancel_url=settings.SITE_URL + reverse("payments:paypal_cancel"),
        brand_name=Policy.load().shop_name,
    )
    try:
        answer = paypal.order_create(body=body, request_id=f"{order.number}-create-{payment.pk}")
    except paypal.PayPalError as exc:
        _payment_fail_quietly(payment_id=payment.pk, reason=str(exc))
        raise PaymentError(
            _("PayPal is not available right now. Please try again in a few minutes."),
            code=PaymentErrorCode.GATEWAY_UNAVAILABLE,
        ) from exc
    link = gateways.approve_link(answer)
    if not answer.get("id") or not link:
        _payment_fail_quietly(payment_id=payment.pk, reason=gettext_noop("PayPal gave no approval link."))
        raise PaymentError(
            _("PayPal did not accept the payment. Please try again in a few minutes."),
            code=PaymentErrorCode.GATEWAY_REFUSED,
        )
    with transaction.atomic():
        payment = _lock_payment(payment.pk)
        payment.paypal_order_id, payment.approve_url = answer["id"], link
        payment.save(update_fields=["paypal_order_id", "approve_url"])
        events.payment_started(order=payment.order, gateway="PayPal", reference=answer["id"])
    return payment


def _payment_fail_quietly(*, payment_id: int, reason: str) -> None:
    """An attempt PayPal never saw: close it without telling the customer (they see the message)."""
    with transaction.atomic():
        payment = _lock_payment(payment_id)
        if payment.status != PaymentStatus.CREATED:
            return
        payment.review_reason, payment.reconcile_after = reason[:300], None
        payment_move(payment, PaymentStatus.FAILED, fields=["review_reason", "reconcile_after"])


# --- PayPal: capture and record -------------------------------------------------------------
def _capture_request_id(payment: Payment) -> str:
    return f"{payment.order.number}-capture-{payment.pk}"


def paypal_payment_capture(*, payment_id: int) -> Payment:
    """PAY-PAYPAL: capture an approved PayPal order and record the result (idempotent).

    Safe to call again after a timeout: the same PayPal-Request-Id makes PayPal answer with the
    first capture instead of taking the money twice. Raises ``paypal.PayPalUnavailable`` when PayPal
    cannot answer; the webhook or the reconciliation finishes the job then.
    """
    payment = Payment.objects.select_related("order").get(pk=payment_id)
    if payment.status not in {PaymentStatus.CREATED, PaymentStatus.APPROVED} or not payment.paypal_order_id:
        return payment
    try:
        answer = paypal.order_capture(paypal_order_id=payment.paypal_order_id, request_id=_capture_request_id(payment))
    except paypal.PayPalUnavailable:
        raise
    except paypal.PayPalError as exc:
        if exc.issue in {"ORDER_ALREADY_CAPTURED", "DUPLICATE_INVOICE_ID"}:
            answer = paypal.order_get(paypal_order_id=payment.paypal_order_id)
        elif exc.issue in {"ORDER_NOT_APPROVED", "PAYER_ACTION_REQUIRED"}:
            return payment  # the customer has not approved (yet): nothing to record
        else:
            return payment_paypal_failed(payment_id=payment.pk, reason=str(exc))
    return paypal_order_record(payment_id=payment.pk, paypal_order=answer)


def paypal_order_record(*, payment_id: int, paypal_order: dict) -> Payment:
    """Record what an Orders v2 answer (capture or GET) says about one payment attempt."""
    capture = gateways.first_capture(paypal_order)
    if capture is not None:
        return payment_capture_record(
            payment_id=payment_id,
            capture_id=capture.get("id", ""),
            amount=gateways.to_money(capture.get("amount")),
            status=capture.get("status", ""),
        )
    status = paypal_order.get("status", "")
    if status == "APPROVED":
        with transaction.atomic():
            payment = _lock_payment(payment_id)
            if payment.status == PaymentStatus.CREATED:
                payment_move(payment, PaymentStatus.APPROVED)
            return payment
    if status == "VOIDED":
        return payment_paypal_failed(payment_id=payment_id, reason=gettext_noop("PayPal voided the payment."))
    return Payment.objects.get(pk=payment_id)


def payment_capture_record(*, payment_id: int, capture_id: str, amount: Money | None, status: str) -> Payment:
    """PAY-PAYPAL: a capture's state as PayPal reports it (capture answer, webhook or lookup).

    Changes the order once, whatever the order or number of reports: the Payment row is locked
    and a confirmed payment is never confirmed again. An amount different from what the order
    costs holds the payment for staff review instead of paying the order.
    """
    status = (status or "").upper()
    with transaction.atomic():
        payment = _lock_payment(payment_id)
        order = payment.order
        if payment.status in CAPTURED_STATUSES:
            return payment
        if status in {"COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"}:
            amount = amount or payment.amount
            payment.capture_id = capture_id or payment.capture_id
            payment.captured_amount = amount
            payment.confirmed_at = timezone.now()
            payment.reconcile_after = None
            fields = ["capture_id", "captured_amount", "confirmed_at", "reconcile_after"]
            if amount != payment.amount or amount != order.total:
                payment.review_reason = f"PayPal captured {amount}; the order costs {order.total}."
                payment_move(payment, PaymentStatus.REVIEW, fields=[*fields, "review_reason"])
                events.payment_review(order=order, reason=payment.review_reason)
                return payment
            payment_move(payment, PaymentStatus.COMPLETED, fields=fields)
            try:
                with transaction.atomic():
                    order_services.order_mark_paid(
                        order_id=order.pk,
                        amount=amount,
                        paid_at=payment.confirmed_at,
                        method=payment.method,
                        reference=payment.capture_id,
                    )
            except lifecycle.TransitionNotAllowed as exc:
                # The order moved on (cancelled while the customer was at PayPal) or waits for the
                # customer's answer on a corrected price (OrderOnHold): staff decide.
                held = isinstance(exc, lifecycle.OrderOnHold)
                state = "waiting for the customer's answer" if held else order.get_status_display().lower()
                payment.review_reason = f"Money captured while the order was {state}."
                payment_move(payment, PaymentStatus.REVIEW, fields=["review_reason"])
                events.payment_review(order=order, reason=payment.review_reason)
            return payment
        if status == "PENDING":
            if payment.status in {PaymentStatus.CREATED, PaymentStatus.APPROVED}:
                payment.capture_id = capture_id or payment.capture_id
                payment_move(payment, PaymentStatus.PENDING, fields=["capture_id"])
            return payment
        if status in {"DECLINED", "DENIED", "FAILED"}:
            if payment.status in OPEN_STATUSES:
                payment.capture_id = capture_id or payment.capture_id
                payment.save(update_fields=["capture_id"])
                return _payment_failed_locked(
                    payment, status=PaymentStatus.DENIED, reason=gettext_noop("PayPal declined the payment.")
                )
            return payment
        logger.warning("Payment %s: capture %s in unknown status %r ignored", payment.pk, capture_id, status)
        return payment


def payment_paypal_failed(*, payment_id: int, reason: str) -> Payment:
    """The attempt is over without money (denied, voided, expired): the customer is told and may pay again."""
    with transaction.atomic():
        payment = _lock_payment(payment_id)
        if payment.status not in OPEN_STATUSES:
            return payment
        return _payment_failed_locked(payment, status=PaymentStatus.FAILED, reason=reason)


def _payment_failed_locked(payment: Payment, *, status: str, reason: str) -> Payment:
    payment.review_reason, payment.reconcile_after = reason[:300], None
    payment_move(payment, status, fields=["review_reason", "reconcile_after"])
    order = payment.order
    if order.status == Order.Status.AWAITING_PAYMENT and not order.payments.filter(status__in=OPEN_STATUSES).exists():
        events.payment_failed(order=order, reason=reason)
        email_queue(
            to=order.email,
            language=order.language,
            template="payment_failed",
            context={"order": order, "payment": payment, "reason": reason, "order_url": order_link_for_email(order)},
            key=f"payment-failed:{payment.pk}",
        )
    return payment


def payment_approved_record(*, paypal_order_id: str) -> Payment | None:
    """CHECKOUT.ORDER.APPROVED: the customer approved but may never come back; capture after commit."""
    payment_id = Payment.objects.filter(paypal_order_id=paypal_order_id).values_list("pk", flat=True).first()
    if payment_id is None:
        return None
    with transaction.atomic():
        payment = _lock_payment(payment_id)
        if payment.status == PaymentStatus.CREATED:
            payment_move(payment, PaymentStatus.APPROVED)
        if payment.status == PaymentStatus.APPROVED:
            # The capture is owed: the APPROVED row is the obligation; the reconciliation sweeps it.
            enqueue_after_commit("payments.tasks.payments_capture", payment.pk)
        return payment


# --- PAY-PAYPAL: the 24-hour reconciliation -------------------------------------------------
def payment_reconcile(*, payment_id: int) -> Payment:
    """Look an unconfirmed PayPal payment up at PayPal and bring the order up to date.

    Approved but not captured → capture; captured → record (pays the order); voided, expired or
    unknown to PayPal → the attempt failed (the customer is told and may pay again).
    """
    payment = Payment.objects.select_related("order").get(pk=payment_id)
    if payment.status not in OPEN_STATUSES:
        return payment
    if not payment.paypal_order_id:
        return payment_paypal_failed(
            payment_id=payment.pk, reason=gettext_noop("The PayPal payment was never started.")
        )
    try:
        answer = paypal.order_get(paypal_order_id=payment.paypal_order_id)
    except paypal.PayPalUnavailable:
        raise
    except paypal.PayPalError as exc:
        if exc.status_code == 404:
            return payment_paypal_failed(payment_id=payment.pk, reason=gettext_noop("The PayPal payment expired."))
        raise
    status = answer.get("status", "")
    if status == "APPROVED" and gateways.first_capture(answer) is None:
        paypal_order_record(payment_id=payment.pk, paypal_order=answer)
        return paypal_payment_capture(payment_id=payment.pk)
    if status in {"CREATED", "SAVED", "PAYER_ACTION_REQUIRED"}:
        return payment_paypal_failed(
            payment_id=payment.pk, reason=gettext_noop("The PayPal payment was not completed in time.")
        )
    payment = paypal_order_record(payment_id=payment.pk, paypal_order=answer)
    if payment.status in OPEN_STATUSES:
        # Still pending at PayPal (e.g. an eCheck): look again after another period.
        hours = Policy.load().paypal_reconcile_hours
        Payment.objects.filter(pk=payment.pk).update(reconcile_after=timezone.now() + timedelta(hours=hours))
    return payment


def payments_reconcile_stale(*, limit: int = 200) -> int:
    """PAY-PAYPAL: every unconfirmed payment past its reconciliation time, with one indexed query."""
    due = list(
        Payment.objects.filter(status__in=OPEN_STATUSES, reconcile_after__lte=timezone.now())
        .order_by("reconcile_after")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for payment_id in due:
        try:
            payment_reconcile(payment_id=payment_id)
            done += 1
        except paypal.PayPalError:
            logger.warning("Reconciliation of payment %s postponed: PayPal unavailable", payment_id)
    return done
