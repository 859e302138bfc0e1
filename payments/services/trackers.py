"""PayPal trackers (SHIP-NOTICES): a tracked parcel of a PayPal-paid order is added to its PayPal order.

An obligation (``shop.obligations``): ``paypal_tracker_owe`` is the ``shipment_tracked`` hook's
receiver and writes the ``PayPalTracker`` row inside the shipment's transaction; after commit
``payments.tasks.payments_paypal_tracker_send`` calls Orders v2 ``POST /v2/checkout/orders/{id}/track``
(Celery's retry options on ``PayPalUnavailable``), always with the row's ``request_id``; and
``paypal_trackers_resend_stuck`` (beat) queues again every row still pending past a margin. PayPal
refusing the request (4xx) marks the row failed with PayPal's reason, for staff to see on the order.

Locks: only the tracker row (``shop.locks.lock_paypal_tracker``) while recording an answer; the
PayPal call holds no lock.

Note: ``paypal`` in this module is the PayPal client, ``payments.paypal``.
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from orders import events
from orders.models import Order
from shop.locks import lock_paypal_tracker
from shop.obligations import SWEEP_MARGIN_SECONDS, enqueue_after_commit, requeue

from .. import paypal
from ..models import CAPTURED_STATUSES, Gateway, Payment, PayPalTracker, PayPalTrackerStatus

TRACK_TASK = "payments.tasks.payments_paypal_tracker_send"
#: After this many attempts the sweep leaves a pending tracker alone (its last error is on the order).
MAX_ATTEMPTS = 30


def paypal_tracker_owe(
    order_id: int,
    *,
    shipment_id: int,
    carrier: str,
    carrier_name_other: str = "",
    tracking_number: str,
    shipped_on: dt.date,
    items: list[dict],
) -> PayPalTracker | None:
    """Receiver of ``shipment_tracked`` (runs in the shipment's transaction): owe PayPal this parcel's tracker.

    Only for an order whose money PayPal captured (PayPal wallet, or a card online through PayPal);
    None otherwise. Idempotent: one tracker per parcel.
    """
    payment = (
        Payment.objects.filter(order_id=order_id, gateway=Gateway.PAYPAL, status__in=CAPTURED_STATUSES)
        .exclude(capture_id="")
        .order_by("-pk")
        .first()
    )
    if payment is None:
        return None
    tracker, created = PayPalTracker.objects.get_or_create(
        shipment_id=shipment_id,
        defaults={
            "order_id": order_id,
            "payment": payment,
            "carrier": carrier,
            "carrier_name_other": carrier_name_other,
            "tracking_number": tracking_number,
            "shipped_on": shipped_on,
            "items": items,
            "request_id": f"order-{order_id}-track-{shipment_id}",
        },
    )
    if created:
        enqueue_after_commit(TRACK_TASK, tracker.pk)
    return tracker


def paypal_tracker_body(tracker: PayPalTracker) -> dict:
    """The Orders v2 ``order_tracker_request`` for this tracker.

    ``transaction_id`` (the capture is the PayPal transaction) and ``status`` are required by the
    published schema (``shipment_tracker``); PayPal's own examples send only the rest.
    """
    capture_id = tracker.payment.capture_id
    body = {
        "capture_id": capture_id,
        "transaction_id": capture_id,
        "tracking_number": tracker.tracking_number,
        "carrier": tracker.carrier,
        "status": "SHIPPED",
        "shipment_date": tracker.shipped_on.isoformat(),
        # The shop sends its own shipping notice (SHIP-NOTICES); PayPal need not e-mail the payer too.
        "notify_payer": False,
    }
    if tracker.carrier_name_other:
        body["carrier_name_other"] = tracker.carrier_name_other
    if tracker.items:
        body["items"] = [
            {"name": item["name"][:127], "quantity": str(item["quantity"]), "sku": item["sku"][:127]}
            for item in tracker.items
        ]
    return body


def paypal_tracker_send(*, tracker_id: int) -> PayPalTracker:
    """Add the tracker at PayPal. Safe to repeat: a row no longer pending is left alone, and every
    attempt carries the row's PayPal-Request-Id. Raises ``paypal.PayPalUnavailable`` (the task retries)."""
    tracker = PayPalTracker.objects.select_related("payment").get(pk=tracker_id)
    if tracker.status != PayPalTrackerStatus.PENDING:
        return tracker
    try:
        answer = paypal.order_track(
            paypal_order_id=tracker.payment.paypal_order_id,
            body=paypal_tracker_body(tracker),
            request_id=tracker.request_id,
        )
    except paypal.PayPalUnavailable as exc:
        _record_attempt(tracker_id, error=str(exc))
        raise
    except paypal.PayPalError as exc:
        return _record_answer(tracker_id, added=False, reason=str(exc))
    return _record_answer(tracker_id, added=True, paypal_tracker_id=_tracker_id_in(answer, tracker.tracking_number))


def _tracker_id_in(order_json: dict, tracking_number: str) -> str:
    """PayPal's id of the tracker with this number, from the order it returns."""
    for unit in order_json.get("purchase_units") or []:
        for found in (unit.get("shipping") or {}).get("trackers") or []:
            if str(found.get("id", "")).endswith(tracking_number):
                return str(found["id"])[:120]
    return ""


@transaction.atomic
def _record_attempt(tracker_id: int, *, error: str) -> None:
    tracker = lock_paypal_tracker(tracker_id)
    tracker.attempts += 1
    tracker.last_error = error[:300]
    tracker.save(update_fields=["attempts", "last_error"])


@transaction.atomic
def _record_answer(tracker_id: int, *, added: bool, paypal_tracker_id: str = "", reason: str = "") -> PayPalTracker:
    tracker = lock_paypal_tracker(tracker_id)
    if tracker.status != PayPalTrackerStatus.PENDING:  # a concurrent attempt recorded it first
        return tracker
    tracker.attempts += 1
    order = Order.objects.get(pk=tracker.order_id)
    if added:
        tracker.status, tracker.added_at, tracker.paypal_tracker_id = (
            PayPalTrackerStatus.ADDED,
            timezone.now(),
            paypal_tracker_id,
        )
        tracker.last_error = ""
        events.paypal_tracker_added(
            order=order, shipment_id=tracker.shipment_id, tracking_number=tracker.tracking_number
        )
    else:
        tracker.status, tracker.last_error = PayPalTrackerStatus.FAILED, reason[:300]
        events.paypal_tracker_failed(
            order=order, shipment_id=tracker.shipment_id, tracking_number=tracker.tracking_number, reason=reason
        )
    tracker.save(update_fields=["status", "attempts", "added_at", "paypal_tracker_id", "last_error"])
    return tracker


def paypal_trackers_resend_stuck(*, margin_seconds: int = SWEEP_MARGIN_SECONDS, limit: int = 100) -> int:
    """The sweep: trackers still pending past the margin (the process died after the commit, the
    broker was down, PayPal was down through every retry) are queued again, same request id."""
    pending = PayPalTracker.objects.filter(
        status=PayPalTrackerStatus.PENDING,
        created_at__lte=timezone.now() - timedelta(seconds=margin_seconds),
        attempts__lt=MAX_ATTEMPTS,
    ).order_by("pk")
    return requeue(pending, TRACK_TASK, limit=limit)
