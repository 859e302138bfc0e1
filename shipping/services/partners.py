"""SHIP-SUBCONTRACTOR: the fulfilment partner hears of every order the moment it is ready.

``partner_notify`` is the ``order_ready`` hook receiver (registered in ``ShippingConfig.ready``). In
the caller's transaction it writes what the shop owes the order's partner (the default active one):

1. an e-mail with the order's details, in the outbox (``shop.emails``, key ``partner-order:…``);
2. where the partner has an endpoint, a ``PartnerNotice`` whose JSON payload is frozen at that moment.

After commit ``shipping.tasks.partner_notice_send`` POSTs the payload (``partner_notice_deliver``),
retried by Celery on any non-2xx answer or network error, and re-queued by the sweep
(``partner_notices_resend_pending``) for as long as it stays pending. Every try is a
``PartnerNoticeAttempt`` row, shown on the order's admin page.

The request a partner receives (documented for partners' developers in the README)::

    POST <endpoint>
    Content-Type: application/json
    Idempotency-Key: order-ready:RX-7K4M-9Q2D:1       (the same on every retry: process each key once)
    X-Shop-Timestamp: 1781258400                      (Unix seconds of this try)
    X-Shop-Signature: sha256=<hex HMAC-SHA256 with the partner's secret of  timestamp + "." + raw body>

A 2xx answer means "received"; anything else, or no answer within ``SHIP_PARTNER_TIMEOUT`` seconds,
is tried again later with the same key and body (a new timestamp and signature).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Q, prefetch_related_objects
from django.utils import timezone

from orders import events
from orders.models import Order
from orders.notifications import shop_local
from orders.pricing import order_amount_due
from shop.calendar import BusinessCalendar
from shop.emails import Message, emails_queue
from shop.locks import lock_orders, lock_partner_notice
from shop.models import ON_DELIVERY_METHODS, PaymentMethod
from shop.obligations import SWEEP_MARGIN_SECONDS, enqueue_after_commit, requeue

from ..models import FulfilmentPartner, PartnerNotice, PartnerNoticeAttempt, partner_endpoint_schemes

logger = logging.getLogger(__name__)

SEND_TASK = "shipping.tasks.partner_notice_send"
KEY_HEADER = "Idempotency-Key"
TIMESTAMP_HEADER = "X-Shop-Timestamp"
SIGNATURE_HEADER = "X-Shop-Signature"


class PartnerUnavailable(Exception):
    """The partner did not answer 2xx (or not at all); the attempt is recorded and the task retries."""


# --- Who, and what they are told ---------------------------------------------------------------
def partner_for_order(order: Order) -> FulfilmentPartner | None:
    """The order's fulfilment partner: the default one, if it is active."""
    return FulfilmentPartner.objects.filter(is_default=True, is_active=True).first()


def _local_iso(moment) -> str | None:
    return BusinessCalendar.current().local(moment).isoformat(timespec="seconds") if moment else None


def partner_order_details(order: Order, *, key: str) -> dict:
    """The order as the partner needs it to fulfil (the notice's payload and the e-mail's content).

    Quantities are what is still to send (ordered minus cancelled). ``amount_to_collect`` is what the
    courier takes at the door for cash/card on delivery, "0.00" for a prepaid order.
    """
    due = order_amount_due(order)
    on_delivery = order.payment_method in ON_DELIVERY_METHODS
    return {
        "event": "order.ready",
        "idempotency_key": key,
        "order": {
            "number": order.number,
            "placed_at": _local_iso(order.created_at),
            "ready_at": _local_iso(order.ready_at),
            "ship_by": _local_iso(order.ship_by),  # SHIP-WITHIN-2BD
            "lines": [
                {"sku": line.sku, "name": line.product_name, "quantity": line.quantity - line.quantity_cancelled}
                for line in order.lines.all()
                if line.quantity > line.quantity_cancelled
            ],
            # ORD-INSERTS: the customer opted out of marketing inserts in the parcel.
            "no_marketing_inserts": order.no_marketing_inserts,
        },
        "delivery": {
            "method": order.delivery_method.code,
            "method_name": order.delivery_method.name,
            "carrier": order.delivery_method.carrier,
            "recipient": order.full_name,
            "phone": order.phone,
            "address": order.address,
            "city": order.city,
            "postcode": order.postcode,
            "region": order.region.name,
            "region_code": order.region.code,
        },
        "payment": {
            "method": order.payment_method,
            "method_name": str(PaymentMethod(order.payment_method).label),
            "paid_on_delivery": on_delivery,
            "amount_to_collect": f"{due.amount if on_delivery else 0:.2f}",
            "currency": str(due.currency),
        },
    }


# --- The hook receiver: the obligations, in the caller's transaction ---------------------------
def partner_notify(order_id: int) -> PartnerNotice | None:
    """``order_ready`` receiver (SHIP-SUBCONTRACTOR): queue the partner's e-mail and, where it has an
    endpoint, write its notice. Idempotent (keys). With no active default partner nothing is written
    and a warning is logged. Returns the notice, if any."""
    return partners_notify([order_id])[0]


def partners_notify(order_ids: list[int]) -> list[PartnerNotice | None]:
    """``partner_notify`` for several ready orders (``hooks.run_many``, issue #14): the orders locked in
    one query, the partner, the notices already written, the lines and adjustments read once each, the
    e-mails and the notices written with one INSERT each. Returns each order's notice, if any."""
    with transaction.atomic():
        orders = lock_orders(order_ids, related=("region", "delivery_method"))
        partner = partner_for_order(orders[order_ids[0]])
        if partner is None:
            for order_id in order_ids:
                logger.warning(
                    "Order %s is ready but no active default fulfilment partner exists: nobody was told.",
                    orders[order_id],
                )
            return [None] * len(order_ids)
        keys = {pk: f"order-ready:{orders[pk].number}:{partner.pk}" for pk in order_ids}
        found = {n.idempotency_key: n for n in PartnerNotice.objects.filter(idempotency_key__in=keys.values())}
        todo = list({pk: orders[pk] for pk in order_ids if keys[pk] not in found}.values())
        prefetch_related_objects(todo, "lines", "adjustments")
        details = {order.pk: partner_order_details(order, key=keys[order.pk]) for order in todo}
        queued = emails_queue(
            [
                Message(
                    to=partner.email,
                    template="partner_order",
                    context={
                        "partner": partner,
                        "order": order,
                        "details": details[order.pk],
                        "ship_by_local": shop_local(order.ship_by),
                    },
                    key=f"partner-order:{order.pk}:{partner.pk}",
                )
                for order in todo
            ]
        )
        told = [(order, email) for order, (email, new) in zip(todo, queued, strict=True) if new]
        # already told when not new: its e-mail was queued before (no notice, or it would be found above)
        notices = {}
        if partner.endpoint and told:
            created = PartnerNotice.objects.bulk_create(
                PartnerNotice(order=order, partner=partner, idempotency_key=keys[order.pk], payload=details[order.pk])
                for order, _email in told
            )
            notices = {notice.order_id: notice for notice in created}
            for notice in created:
                enqueue_after_commit(SEND_TASK, notice.pk)
        for order, email in told:
            notice = notices.get(order.pk)
            events.partner_notified(
                order=order, partner=partner.name, email_id=email.pk, notice_id=notice.pk if notice else None
            )
            found[keys[order.pk]] = notice
        return [found.get(keys[pk]) for pk in order_ids]


# --- The POST, after commit (the task) ---------------------------------------------------------
def notice_body(notice: PartnerNotice) -> bytes:
    """The raw JSON body: the frozen payload, serialised the same way on every try."""
    return json.dumps(notice.payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def notice_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256, keyed with the partner's secret, of ``timestamp + "." + body``."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def _post(notice: PartnerNotice) -> tuple[int | None, str]:
    """One try: (HTTP status or None, error text or "" for a 2xx answer)."""
    endpoint = notice.partner.endpoint
    if not endpoint:
        return None, "The partner has no endpoint any more; set one on the partner's page."
    if endpoint.split("://", 1)[0].lower() not in partner_endpoint_schemes():
        return None, "The partner's endpoint is not an HTTPS address; fix it on the partner's page."
    body = notice_body(notice)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        KEY_HEADER: notice.idempotency_key,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: notice_signature(secret=notice.partner.secret, timestamp=timestamp, body=body),
    }
    try:
        response = requests.post(
            endpoint, data=body, headers=headers, timeout=settings.SHIP_PARTNER_TIMEOUT, allow_redirects=False
        )
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:1000]
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, f"HTTP {response.status_code}: {response.text[:500]}"


def partner_notice_deliver(*, notice_id: int) -> bool:
    """POST the notice once (the task's work). True when it is (now or already) delivered.

    The notice row is locked for the try, so two workers (a retry and the sweep) never send it at
    once, and a delivered notice is never sent again. Every try is a ``PartnerNoticeAttempt``; a
    failed one raises ``PartnerUnavailable`` *after* its row is committed (Celery then retries).
    """
    with transaction.atomic():
        notice = lock_partner_notice(notice_id)
        if notice is None:
            return False
        if notice.status == PartnerNotice.Status.DELIVERED:
            return True
        started_at, started = timezone.now(), time.monotonic()
        http_status, error = _post(notice)
        PartnerNoticeAttempt.objects.create(
            notice=notice,
            at=started_at,
            http_status=http_status,
            error=error,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        notice.attempts += 1
        notice.last_attempt_at = started_at
        notice.last_error = error
        fields = ["attempts", "last_attempt_at", "last_error"]
        if not error:
            notice.status, notice.delivered_at = PartnerNotice.Status.DELIVERED, timezone.now()
            notice.save(update_fields=[*fields, "status", "delivered_at"])
            events.partner_notice_delivered(
                order=notice.order,
                partner=notice.partner.name,
                notice_id=notice.pk,
                attempts=notice.attempts,
                http_status=http_status,
            )
            return True
        notice.save(update_fields=fields)
    # Raised after the block commits: inside it, the attempt row and the count would roll back.
    raise PartnerUnavailable(f"Notice {notice_id}: {error}")


# --- The sweep and the staff's "send again now" ------------------------------------------------
def partner_notices_resend_pending(*, margin_seconds: float = SWEEP_MARGIN_SECONDS, limit: int = 200) -> int:
    """Queue again every notice still pending ``margin_seconds`` after it was written and after its last
    try (the process died after the commit, the broker was down, or the partner has not answered 2xx
    through every retry). Nothing is given up: staff see each try on the order. Returns how many."""
    cutoff = timezone.now() - timedelta(seconds=margin_seconds)
    pending = (
        PartnerNotice.objects.filter(status=PartnerNotice.Status.PENDING, created_at__lte=cutoff)
        .filter(Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lte=cutoff))
        .order_by("created_at", "pk")
    )
    return requeue(pending, SEND_TASK, limit=limit)


def partner_notice_send_now(*, notice_id: int, actor) -> bool:
    """Staff asked for a try now. A delivered notice is never sent again (False)."""
    if not PartnerNotice.objects.filter(pk=notice_id, status=PartnerNotice.Status.PENDING).exists():
        return False
    logger.info("Partner notice %s: %s asked for a try now.", notice_id, actor)
    enqueue_after_commit(SEND_TASK, notice_id)
    return True
