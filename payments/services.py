"""Everything that writes payments and refunds. One function per business action.

Concurrency: PayPal's browser return, its webhooks (possibly repeated, possibly concurrent) and the
periodic reconciliation all end in ``payment_capture_record``, which locks the Payment row and does
its work once (PAY-PAYPAL). Refunds lock the Payment row too, and the database refuses a refunded
total above the captured one (PAY-REFUND-SAME-WAY). Lock order is always Payment, then Order.

Calls to PayPal happen outside any transaction holding locks, with a PayPal-Request-Id derived from
the order and the operation, so a retry after a timeout repeats the same operation at PayPal.
"""

from __future__ import annotations

import datetime as dt
import logging
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from orders import events, lifecycle
from orders import services as order_services
from orders.access import order_link
from orders.models import Order
from shop.emails import email_queue
from shop.models import PaymentMethod, Policy

from . import gateways, paypal
from .models import (
    CAPTURED_STATUSES,
    OPEN_STATUSES,
    Gateway,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    RefundWay,
    WebhookEvent,
)

logger = logging.getLogger(__name__)

#: PayPal lets a buyer approve an order for about three hours; after that we start a new one.
PAYPAL_APPROVAL_WINDOW = timedelta(hours=3)


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


# --- PayPal and card online: start ----------------------------------------------------------
def paypal_payment_start(*, order_id: int, actor=None) -> Payment:
    """PAY-PAYPAL: the PayPal order the customer approves; returns the Payment holding its approve link.

    An attempt still open and recent is reused (pressing "Pay" twice opens the same PayPal order);
    otherwise a new one is created. Card online (PAY-FRAUD-CHECK) goes the same way.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.payment_method not in gateways.ONLINE_METHODS:
            raise PaymentError("This order is not paid online.")
        if order.status != Order.Status.AWAITING_PAYMENT:
            raise PaymentError("This order is not waiting for a payment.")
        if order.payments.filter(
            status__in=[PaymentStatus.APPROVED, PaymentStatus.PENDING, PaymentStatus.REVIEW]
        ).exists():
            # Money is on its way (or held for staff): a second PayPal order could take it twice.
            raise PaymentError("Your payment is being confirmed; there is no need to pay again.")
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
        raise PaymentError("PayPal is not available right now. Please try again in a few minutes.") from exc
    link = gateways.approve_link(answer)
    if not answer.get("id") or not link:
        _payment_fail_quietly(payment_id=payment.pk, reason="PayPal gave no approval link.")
        raise PaymentError("PayPal did not accept the payment. Please try again in a few minutes.")
    with transaction.atomic():
        payment = _lock_payment(payment.pk)
        payment.paypal_order_id, payment.approve_url = answer["id"], link
        payment.save(update_fields=["paypal_order_id", "approve_url"])
        events.payment_started(order=payment.order, gateway="PayPal", reference=answer["id"])
    return payment


def _payment_fail_quietly(*, payment_id: int, reason: str) -> None:
    """An attempt PayPal never saw: close it without telling the customer (they see the message)."""
    Payment.objects.filter(pk=payment_id, status=PaymentStatus.CREATED).update(
        status=PaymentStatus.FAILED, review_reason=reason[:300], reconcile_after=None
    )


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
                payment.status = PaymentStatus.APPROVED
                payment.save(update_fields=["status"])
            return payment
    if status == "VOIDED":
        return payment_paypal_failed(payment_id=payment_id, reason="PayPal voided the payment.")
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
            fields = ["status", "capture_id", "captured_amount", "confirmed_at", "reconcile_after"]
            if amount != payment.amount or amount != order.total:
                payment.status = PaymentStatus.REVIEW
                payment.review_reason = f"PayPal captured {amount}; the order costs {order.total}."
                payment.save(update_fields=[*fields, "review_reason"])
                events.payment_review(order=order, reason=payment.review_reason)
                return payment
            payment.status = PaymentStatus.COMPLETED
            payment.save(update_fields=fields)
            try:
                with transaction.atomic():
                    order_services.order_mark_paid(
                        order_id=order.pk,
                        amount=amount,
                        paid_at=payment.confirmed_at,
                        method=payment.method,
                        reference=payment.capture_id,
                    )
            except lifecycle.TransitionNotAllowed:
                # The order moved on (e.g. cancelled while the customer was at PayPal): staff decide.
                payment.status = PaymentStatus.REVIEW
                payment.review_reason = f"Money captured while the order was {order.get_status_display().lower()}."
                payment.save(update_fields=["status", "review_reason"])
                events.payment_review(order=order, reason=payment.review_reason)
            return payment
        if status == "PENDING":
            if payment.status in {PaymentStatus.CREATED, PaymentStatus.APPROVED}:
                payment.status, payment.capture_id = PaymentStatus.PENDING, capture_id or payment.capture_id
                payment.save(update_fields=["status", "capture_id"])
            return payment
        if status in {"DECLINED", "DENIED", "FAILED"}:
            if payment.status in OPEN_STATUSES:
                payment.capture_id = capture_id or payment.capture_id
                payment.save(update_fields=["capture_id"])
                return _payment_failed_locked(
                    payment, status=PaymentStatus.DENIED, reason="PayPal declined the payment."
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
    payment.status, payment.review_reason, payment.reconcile_after = status, reason[:300], None
    payment.save(update_fields=["status", "review_reason", "reconcile_after"])
    order = payment.order
    if order.status == Order.Status.AWAITING_PAYMENT and not order.payments.filter(status__in=OPEN_STATUSES).exists():
        events.payment_failed(order=order, reason=reason)
        email_queue(
            to=order.email,
            template="payment_failed",
            context={"order": order, "payment": payment, "reason": reason, "order_url": order_link(order)},
            key=f"payment-failed:{payment.pk}",
        )
    return payment


def payment_approved_record(*, paypal_order_id: str) -> Payment | None:
    """CHECKOUT.ORDER.APPROVED: the customer approved but may never come back; capture after commit."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(paypal_order_id=paypal_order_id).first()
        if payment is None:
            return None
        if payment.status == PaymentStatus.CREATED:
            payment.status = PaymentStatus.APPROVED
            payment.save(update_fields=["status"])
        if payment.status == PaymentStatus.APPROVED:
            from .tasks import payments_capture

            payment_pk = payment.pk
            transaction.on_commit(lambda: payments_capture.delay(payment_pk))
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
        return payment_paypal_failed(payment_id=payment.pk, reason="The PayPal payment was never started.")
    try:
        answer = paypal.order_get(paypal_order_id=payment.paypal_order_id)
    except paypal.PayPalUnavailable:
        raise
    except paypal.PayPalError as exc:
        if exc.status_code == 404:
            return payment_paypal_failed(payment_id=payment.pk, reason="The PayPal payment expired.")
        raise
    status = answer.get("status", "")
    if status == "APPROVED" and gateways.first_capture(answer) is None:
        paypal_order_record(payment_id=payment.pk, paypal_order=answer)
        return paypal_payment_capture(payment_id=payment.pk)
    if status in {"CREATED", "SAVED", "PAYER_ACTION_REQUIRED"}:
        return payment_paypal_failed(payment_id=payment.pk, reason="The PayPal payment was not completed in time.")
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


# --- Webhooks -------------------------------------------------------------------------------
def webhook_event_reject(*, event: dict, reason: str) -> None:
    """An event whose signature did not verify: kept for staff to see, never acted on."""
    event_id = str(event.get("id", ""))[:64]
    if not event_id:
        return
    WebhookEvent.objects.get_or_create(
        event_id=event_id,
        defaults={
            "type": str(event.get("event_type", ""))[:80],
            "resource_id": str((event.get("resource") or {}).get("id", ""))[:64],
            "payload": event,
            "verified": False,
            "result": reason[:300],
        },
    )


def webhook_event_process(*, event: dict) -> tuple[WebhookEvent, bool]:
    """PAY-PAYPAL: act on a verified event once. Returns (event row, whether it was acted on now).

    The event row is locked for the whole processing, so a duplicate delivered concurrently waits
    and then finds it processed; a duplicate delivered later is acknowledged and ignored.
    """
    event_id = str(event["id"])[:64]
    resource = event.get("resource") or {}
    with transaction.atomic():
        try:
            with transaction.atomic():
                row, created = WebhookEvent.objects.select_for_update().get_or_create(
                    event_id=event_id,
                    defaults={
                        "type": str(event.get("event_type", ""))[:80],
                        "resource_id": str(resource.get("id", ""))[:64],
                        "payload": event,
                        "verified": True,
                    },
                )
        except IntegrityError:  # another delivery inserted it first
            row, created = WebhookEvent.objects.select_for_update().get(event_id=event_id), False
        if row.processed_at is not None:
            WebhookEvent.objects.filter(pk=row.pk).update(deliveries=row.deliveries + 1)
            return row, False
        if not created:  # a rejected (unverified) copy came first: this one verified
            row.payload, row.verified, row.deliveries = event, True, row.deliveries + 1
        row.result = _webhook_dispatch(event)[:300]
        row.processed_at = timezone.now()
        row.save()
        return row, True


def _payment_for_resource(resource: dict) -> Payment | None:
    """The payment a capture or refund resource is about: by PayPal order id, else by capture id."""
    related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
    if related.get("order_id"):
        payment = Payment.objects.filter(paypal_order_id=related["order_id"]).first()
        if payment:
            return payment
    # A capture's "up" link is its order; a refund's is its capture.
    ids = [resource.get("id", "")]
    ids += [
        link.get("href", "").rstrip("/").rsplit("/", 1)[-1]
        for link in resource.get("links") or []
        if link.get("rel") == "up"
    ]
    ids = [i for i in ids if i]
    if not ids:
        return None
    return Payment.objects.filter(Q(capture_id__in=ids) | Q(paypal_order_id__in=ids)).first()


def _webhook_dispatch(event: dict) -> str:
    kind = event.get("event_type", "")
    resource = event.get("resource") or {}
    if kind in {"PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.PENDING", "PAYMENT.CAPTURE.DENIED"}:
        payment = _payment_for_resource(resource)
        if payment is None:
            return "No payment for this capture."
        status = resource.get("status") or kind.rsplit(".", 1)[-1]
        payment = payment_capture_record(
            payment_id=payment.pk,
            capture_id=resource.get("id", ""),
            amount=gateways.to_money(resource.get("amount")),
            status=status,
        )
        return f"Payment {payment.pk}: {payment.status}."
    if kind == "PAYMENT.CAPTURE.REFUNDED":
        return _webhook_refunded(resource)
    if kind == "CHECKOUT.ORDER.APPROVED":
        payment = payment_approved_record(paypal_order_id=resource.get("id", ""))
        return f"Payment {payment.pk}: {payment.status}." if payment else "No payment for this order."
    return "Ignored: not an event the shop acts on."


def _webhook_refunded(resource: dict) -> str:
    refund_id = resource.get("id", "")
    refund = Refund.objects.filter(gateway_refund_id=refund_id).first() if refund_id else None
    if refund is None and resource.get("custom_id"):
        refund = Refund.objects.filter(idempotency_key=resource["custom_id"]).first()
    if refund is not None:
        refund_paypal_record(refund_id=refund.pk, answer=resource)
        return f"Refund {refund.pk} confirmed."
    payment = _payment_for_resource(resource)
    if payment is None:
        return "No payment for this refund."
    if payment.capture_id == refund_id:  # the resource is the capture itself, now refunded
        amount = payment.refundable
        key = f"paypal-capture-refunded:{refund_id}"
    else:
        amount = gateways.to_money(resource.get("amount")) or payment.refundable
        key = f"paypal-refund:{refund_id}"
    if not amount or amount.amount <= 0:
        return "Nothing left to record."
    refund = refund_record_external(payment_id=payment.pk, amount=amount, gateway_refund_id=refund_id, key=key)
    return f"Refund {refund.pk} recorded (made at PayPal)."


# --- Bank transfer, payment at the door -----------------------------------------------------
def payment_record_bank_transfer(
    *, order_id: int, amount: Money, credited_on: dt.date, reference: str, actor
) -> Payment:
    """PAY-PREPAID-FIRST: staff saw the funds credited; only now is the order paid (and stock taken).

    The credited amount must be the order's total; anything else is refused and nothing changes.
    """
    reference = reference.strip()
    if not reference:
        raise PaymentError("Enter the transfer's reference from the bank statement.")
    with transaction.atomic():
        # The order is locked first: two staff recording the same transfer at once make one payment.
        # (Bank-transfer payments are never locked by the PayPal paths, which lock Payment, then Order.)
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.payment_method != PaymentMethod.BANK_TRANSFER:
            raise PaymentError("This order is not paid by bank transfer.")
        existing = order.payments.filter(gateway=Gateway.BANK_TRANSFER).order_by("pk").first()
        payment = _lock_payment(existing.pk) if existing else None
        if payment is not None and payment.status in CAPTURED_STATUSES:
            return payment  # already recorded
        if order.status != Order.Status.AWAITING_PAYMENT:
            raise PaymentError(f"The order is {order.get_status_display().lower()}; it is not waiting for money.")
        amount = _money(amount, order.total.currency)
        if amount != order.total:
            raise PaymentError(f"The credited amount {amount} does not match the order total {order.total}.")
        now = timezone.now()
        if payment is None:
            payment = Payment(
                order=order, method=order.payment_method, gateway=Gateway.BANK_TRANSFER, amount=order.total
            )
            payment.refunded_amount = Money(0, order.total.currency)
        payment.status, payment.captured_amount, payment.confirmed_at = PaymentStatus.COMPLETED, amount, now
        payment.credited_on, payment.bank_reference, payment.recorded_by = credited_on, reference[:100], actor
        payment.save()
        order_services.order_mark_paid(
            order_id=order.pk, amount=amount, paid_at=now, method=payment.method, reference=reference, actor=actor
        )
        return payment


def payment_record_at_door(
    *, order_id: int, method: str, amount: Money, id_document_checked: bool, card_unnamed: bool, actor
) -> Payment:
    """The courier took the money at handover (cash or card).

    PAY-CARD-AT-DOOR-ID: a card payment needs the payer's identity document checked, unless the
    card is unnamed. DLV-HANDOVER: the order is paid in full. Idempotent per order.
    """
    if method not in {PaymentMethod.CASH_COURIER, PaymentMethod.CARD_COURIER}:
        raise PaymentError("Only cash or card to the courier is paid at the door.")
    if method == PaymentMethod.CARD_COURIER and not (id_document_checked or card_unnamed):
        raise PaymentError("Check the payer's identity document: the card carries a name.")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        existing = order.payments.filter(gateway=Gateway.COURIER, status__in=CAPTURED_STATUSES).first()
        if existing is not None:
            return existing
        if order.payment_method not in {PaymentMethod.CASH_COURIER, PaymentMethod.CARD_COURIER}:
            raise PaymentError("This order is prepaid; nothing is paid at the door.")
        amount = _money(amount, order.total.currency)
        if amount != order.total:
            raise PaymentError(f"The order must be paid in full: {order.total} (taken: {amount}).")
        now = timezone.now()
        payment = Payment.objects.create(
            order=order,
            method=method,
            gateway=Gateway.COURIER,
            status=PaymentStatus.COMPLETED,
            amount=order.total,
            captured_amount=amount,
            refunded_amount=Money(0, amount.currency),
            confirmed_at=now,
            id_document_checked=id_document_checked,
            card_unnamed=card_unnamed,
            recorded_by=actor,
        )
        events.payment_confirmed(order=order, amount=amount, method=method, actor=actor)
        email_queue(
            to=order.email,
            template="payment_received",
            context={"order": order, "payment": payment, "order_url": order_link(order)},
            key=f"payment-received:{payment.pk}",
        )
        return payment


# --- PAY-FRAUD-CHECK ------------------------------------------------------------------------
def fraud_review_approve(*, order_id: int, actor) -> Order:
    """Staff checked the card payment: the order goes on to processing."""
    return order_services.order_fraud_approve(order_id=order_id, actor=actor)


def fraud_review_reject(*, order_id: int, actor, note: str = "") -> Order:
    """Staff reject the card payment: the order is cancelled and the money goes back to the card.

    The refund itself runs from the ``order_cancelled`` hook (``refund_for_cancelled_order``).
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != Order.Status.FRAUD_CHECK:
            raise PaymentError("This order is not waiting for a fraud check.")
        events.fraud_check_decided(order=order, approved=False, actor=actor, note=note)
        return order_services.order_cancel(
            order_id=order_id, reason=note or "The card payment could not be accepted.", actor=actor
        )


# --- Refunds out (PAY-REFUND-SAME-WAY) ------------------------------------------------------
def refund_issue(*, order_id: int, amount: Money, reason: str, actor=None, key: str = "") -> Refund:
    """Send money back the way it came: PayPal/card → refund of the capture; COD/transfer → bank account.

    Partial refunds are allowed; the total refunded never exceeds what was captured (locked Payment
    row here, a CHECK constraint in the database). ``key`` makes the call idempotent: a second call
    with the same key returns the first refund.
    """
    with transaction.atomic():
        order = Order.objects.get(pk=order_id)
        payments = list(
            Payment.objects.select_for_update().filter(order_id=order_id, status__in=CAPTURED_STATUSES).order_by("pk")
        )
        if key:  # checked under the payments' lock: two calls with one key never both create
            existing = Refund.objects.filter(idempotency_key=key).first()
            if existing is not None:
                return existing
        amount = _money(amount, order.total.currency)
        if amount.amount <= 0:
            raise RefundError("The refund amount must be positive.")
        payment = next((p for p in payments if p.refundable >= amount), None)
        if payment is None:
            left = sum((p.refundable.amount for p in payments), Decimal("0"))
            raise RefundError(f"Only {left:.2f} {order.total.currency} can still be refunded on this order.")
        if not key:
            key = f"{order.number}-refund-{Refund.objects.filter(order_id=order_id).count() + 1}"
        return _refund_create(payment, amount=amount, reason=reason, actor=actor, key=key)


def _refund_create(payment: Payment, *, amount: Money, reason: str, actor, key: str) -> Refund:
    """Inside the caller's transaction, with ``payment`` locked."""
    order = payment.order
    way = gateways.route(payment.method).refund_way
    status = {
        RefundWay.PAYPAL: RefundStatus.REQUESTED,
        RefundWay.BANK_ACCOUNT: RefundStatus.AWAITING_BANK_DETAILS,
        RefundWay.CARD_TERMINAL: RefundStatus.PENDING,
    }[way]
    payment.refunded_amount = payment.refunded_amount + amount
    payment.save(update_fields=["refunded_amount"])  # the CHECK constraint backs the check above
    refund = Refund.objects.create(
        order=order,
        payment=payment,
        amount=amount,
        status=status,
        way=way,
        reason=reason[:300],
        idempotency_key=key,
        requested_by=actor,
    )
    events.refund_requested(order=order, amount=amount, reason=reason, actor=actor)
    if way == RefundWay.PAYPAL:
        from .tasks import payments_refund_send

        refund_pk = refund.pk
        transaction.on_commit(lambda: payments_refund_send.delay(refund_pk))
    elif way == RefundWay.BANK_ACCOUNT:
        email_queue(
            to=order.email,
            template="refund_bank_details_request",
            context={
                "order": order,
                "refund": refund,
                "form_url": order_link(order, view="payments:refund_account"),
            },
            key=f"refund-bank-details:{refund.pk}",
        )
    return refund


def refund_send(*, refund_id: int) -> Refund:
    """Ask PayPal to refund the capture (PayPal and cards). Safe to repeat: the request id is the refund's key.

    Raises ``paypal.PayPalUnavailable`` when PayPal cannot answer (the task retries).
    """
    refund = Refund.objects.select_related("payment", "order").get(pk=refund_id)
    if refund.way != RefundWay.PAYPAL or refund.status != RefundStatus.REQUESTED:
        return refund
    try:
        answer = paypal.capture_refund(
            capture_id=refund.payment.capture_id,
            amount=refund.amount.amount,
            currency=str(refund.amount.currency),
            request_id=refund.idempotency_key,
            note=f"Refund for order {refund.order.number}",
        )
    except paypal.PayPalUnavailable:
        raise
    except paypal.PayPalError as exc:
        return refund_fail(refund_id=refund.pk, reason=str(exc))
    return refund_paypal_record(refund_id=refund.pk, answer=answer)


def refund_paypal_record(*, refund_id: int, answer: dict) -> Refund:
    """Record PayPal's answer about a refund (from the refund call or a PAYMENT.CAPTURE.REFUNDED webhook)."""
    status = (answer.get("status") or "COMPLETED").upper()
    if status in {"FAILED", "CANCELLED"}:
        return refund_fail(refund_id=refund_id, reason=f"PayPal reports the refund {status.lower()}.")
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("order").get(pk=refund_id)
        if refund.status in {RefundStatus.SENT, RefundStatus.FAILED}:
            return refund
        _lock_payment(refund.payment_id)  # lock order everywhere: Refund, then Payment
        refund.gateway_refund_id = answer.get("id", refund.gateway_refund_id)[:40]
        refund.reference = refund.gateway_refund_id
        if status == "PENDING":
            refund.status = RefundStatus.PENDING
            refund.save(update_fields=["status", "gateway_refund_id", "reference"])
            return refund
        refund.save(update_fields=["gateway_refund_id", "reference"])
        return _refund_mark_sent_locked(refund, reference=refund.reference, actor=None)


def refund_record_external(*, payment_id: int, amount: Money, gateway_refund_id: str, key: str) -> Refund:
    """A refund made in PayPal's own dashboard (we learn of it by webhook): recorded so totals stay true."""
    with transaction.atomic():
        existing = Refund.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
        payment = _lock_payment(payment_id)
        amount = _money(amount, payment.captured_amount.currency)
        if amount > payment.refundable:
            amount = payment.refundable
        if amount.amount <= 0:
            raise RefundError("Nothing left to refund on this payment.")
        payment.refunded_amount = payment.refunded_amount + amount
        payment.save(update_fields=["refunded_amount"])
        refund = Refund.objects.create(
            order=payment.order,
            payment=payment,
            amount=amount,
            status=RefundStatus.REQUESTED,
            way=RefundWay.PAYPAL,
            reason="Refunded at PayPal.",
            idempotency_key=key,
            gateway_refund_id=gateway_refund_id[:40],
        )
        events.refund_requested(order=payment.order, amount=amount, reason="Refunded at PayPal.")
        return _refund_mark_sent_locked(refund, reference=gateway_refund_id, actor=None)


def refund_fail(*, refund_id: int, reason: str) -> Refund:
    """The gateway refused the refund: its amount is freed so it can be refunded again."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("order").get(pk=refund_id)
        if refund.status in {RefundStatus.SENT, RefundStatus.FAILED}:
            return refund
        payment = _lock_payment(refund.payment_id)
        payment.refunded_amount = payment.refunded_amount - refund.amount
        payment.save(update_fields=["refunded_amount"])
        refund.status, refund.failure_reason = RefundStatus.FAILED, reason[:300]
        refund.save(update_fields=["status", "failure_reason"])
        events.refund_failed(order=refund.order, amount=refund.amount, reason=reason)
        return refund


def refund_bank_details_submit(*, order_id: int, holder: str, account_number: str, bic: str, actor=None) -> int:
    """The customer gave the account for their COD / bank-transfer refunds. Returns how many refunds it serves."""
    with transaction.atomic():
        refunds = list(
            Refund.objects.select_for_update()
            .filter(order_id=order_id, status=RefundStatus.AWAITING_BANK_DETAILS)
            .select_related("order")
            .order_by("pk")
        )
        for refund in refunds:
            refund.account_holder, refund.account_number, refund.bank_bic = holder, account_number, bic
            refund.status = RefundStatus.PENDING
            refund.save(update_fields=["account_holder", "account_number", "bank_bic", "status"])
            events.refund_bank_details_received(order=refund.order, amount=refund.amount, actor=actor)
        return len(refunds)


def refund_mark_sent(*, refund_id: int, reference: str, actor) -> Refund:
    """Staff made the bank transfer (or the card refund at the terminal) and record its reference."""
    reference = reference.strip()
    if not reference:
        raise RefundError("Enter the transfer's reference.")
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("order").get(pk=refund_id)
        if refund.status == RefundStatus.SENT:
            return refund
        if refund.way == RefundWay.PAYPAL:
            raise RefundError("PayPal refunds are confirmed by PayPal, not recorded by hand.")
        if refund.status != RefundStatus.PENDING:
            raise RefundError("The customer has not given a bank account for this refund yet.")
        _lock_payment(refund.payment_id)
        return _refund_mark_sent_locked(refund, reference=reference, actor=actor)


def _refund_mark_sent_locked(refund: Refund, *, reference: str, actor) -> Refund:
    """Refund and its payment locked by the caller (in that order)."""
    refund.status, refund.reference, refund.sent_at = RefundStatus.SENT, reference[:100], timezone.now()
    refund.save(update_fields=["status", "reference", "sent_at"])
    payment = Payment.objects.get(pk=refund.payment_id)
    sent = sum((r.amount.amount for r in payment.refunds.filter(status=RefundStatus.SENT)), Decimal("0"))
    if payment.status != PaymentStatus.REVIEW:
        full = sent >= payment.captured_amount.amount
        payment.status = PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED
        payment.save(update_fields=["status"])
    order = refund.order
    events.refund_sent(order=order, amount=refund.amount, reference=refund.reference, actor=actor)
    email_queue(
        to=order.email,
        template="refund_sent",
        context={"order": order, "refund": refund, "order_url": order_link(order)},
        key=f"refund-sent:{refund.pk}",
    )
    return refund


# --- Hook receivers (registered in PaymentsConfig.ready) ------------------------------------
def refund_for_cancelled_order(order_id: int) -> list[Refund]:
    """``order_cancelled`` (ORD-REFUSE, PAY-FRAUD-CHECK): refund everything captured. Safe to run twice."""
    refunds = []
    with transaction.atomic():
        order = Order.objects.get(pk=order_id)
        payments = Payment.objects.select_for_update().filter(order_id=order_id, status__in=CAPTURED_STATUSES)
        for payment in payments.order_by("pk"):
            key = f"{order.number}-cancel-{payment.pk}"
            existing = Refund.objects.filter(idempotency_key=key).first()
            if existing is not None:
                refunds.append(existing)
                continue
            if payment.refundable.amount > 0:
                refunds.append(
                    _refund_create(payment, amount=payment.refundable, reason="Order cancelled.", actor=None, key=key)
                )
    return refunds


def refund_for_due_amount(order_id: int, amount) -> Refund | None:
    """``order_refund_due`` (ORD-PRICE-ERROR, SHIP-STOCKOUT): refund that part of a paid order.

    Running the hook twice for the same order state refunds once: the key is made of the order,
    the amount and the order's current total (which a further correction would change).
    """
    order = Order.objects.get(pk=order_id)
    amount = _money(amount, order.total.currency)
    if amount.amount <= 0:
        return None
    key = f"{order.number}-due-{amount.amount}-{order.total.amount}"
    return refund_issue(order_id=order_id, amount=amount, reason="Part of the order refunded.", key=key)


def refunds_resend_stuck(*, older_than: timedelta = timedelta(minutes=15), limit: int = 100) -> int:
    """PayPal refunds still ``requested`` after a while (worker lost, PayPal down): ask again, same request id."""
    due = list(
        Refund.objects.filter(
            status=RefundStatus.REQUESTED, way=RefundWay.PAYPAL, created_at__lte=timezone.now() - older_than
        ).values_list("pk", flat=True)[:limit]
    )
    for refund_id in due:
        try:
            refund_send(refund_id=refund_id)
        except paypal.PayPalError:
            logger.warning("Refund %s still not sent: PayPal unavailable", refund_id)
    return len(due)
