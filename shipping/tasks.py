"""Celery tasks of the fulfilment app: thin wrappers around services (beat entries in config/celery.py)."""

from celery import shared_task

from .services import delivery, queue, stockout


@shared_task
def stockouts_cancel_unanswered() -> int:
    """SHIP-STOCKOUT: periodic; cancels the missing part of orders whose customer did not choose in time."""
    return stockout.stockouts_cancel_unanswered()


@shared_task
def shipments_remind_collection() -> int:
    """DLV-ACCEPT-14D: periodic (config/celery.py beat); reminds customers of parcels waiting for them."""
    return delivery.shipments_remind_collection()


@shared_task
def shipments_expire_uncollected() -> int:
    """DLV-ACCEPT-14D: periodic (config/celery.py beat); parcels past collect-by: refused, paid goods refunded."""
    return delivery.shipments_expire_uncollected()


@shared_task
def shipping_ship_by_digest() -> int:
    """SHIP-WITHIN-2BD: periodic; e-mails staff the orders newly at risk or overdue (business hours only).

    Returns the outbox row's id, 0 when nothing was sent. Idempotent: each order once per state.
    """
    email = queue.ship_by_digest_send()
    return email.pk if email else 0
