"""PAY-PAYPAL webhooks: keep an unverified event for staff, act on a verified one once."""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from shop.locks import lock_webhook_event

from .. import gateways
from ..models import Payment, Refund, WebhookEvent
from .paypal import payment_approved_record, payment_capture_record
from .refunds import refund_paypal_record, refund_record_external


def _digest(raw: bytes) -> dict:
    return {"size": len(raw), "body_sha256": hashlib.sha256(raw).hexdigest()}


def webhook_event_reject(*, event: dict, raw: bytes, reason: str) -> None:
    """An event whose signature did not verify: its id, type, size, hash and the reason are kept for
    staff to see; its body never is (anyone can post one), and it is never acted on."""
    event_id = str(event.get("id", ""))[:64]
    if not event_id:
        return
    resource = event.get("resource")
    WebhookEvent.objects.get_or_create(
        event_id=event_id,
        defaults={
            "type": str(event.get("event_type", ""))[:80],
            "resource_id": str(resource.get("id", "") if isinstance(resource, dict) else "")[:64],
            "payload": {},
            "verified": False,
            "result": reason[:300],
            **_digest(raw),
        },
    )


def webhook_event_process(*, event: dict, raw: bytes = b"") -> tuple[WebhookEvent, bool]:
    """PAY-PAYPAL: act on a verified event once. Returns (event row, whether it was acted on now).

    The event row is locked for the whole processing, so a duplicate delivered concurrently waits
    and then finds it processed; a duplicate delivered later is acknowledged and ignored.
    """
    event_id = str(event["id"])[:64]
    resource = event.get("resource") or {}
    with transaction.atomic():
        row, created = lock_webhook_event(
            event_id,
            defaults={
                "type": str(event.get("event_type", ""))[:80],
                "resource_id": str(resource.get("id", ""))[:64],
                "payload": event,
                "verified": True,
                **_digest(raw),
            },
        )
        if row.processed_at is not None:
            WebhookEvent.objects.filter(pk=row.pk).update(deliveries=row.deliveries + 1)
            return row, False
        if not created:  # a rejected (unverified) copy came first: this one verified
            row.payload, row.verified, row.deliveries = event, True, row.deliveries + 1
            row.size, row.body_sha256 = _digest(raw).values()
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
