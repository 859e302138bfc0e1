"""Celery tasks of the fulfilment app: thin wrappers around services (beat entries in config/celery.py)."""

from celery import shared_task

from .services import delivery, stockout


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
