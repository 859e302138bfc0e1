"""Celery tasks of the fulfilment app: thin wrappers around services (beat entries in config/celery.py)."""

from celery import shared_task

from .services import stockout


@shared_task
def stockouts_cancel_unanswered() -> int:
    """SHIP-STOCKOUT: periodic; cancels the missing part of orders whose customer did not choose in time."""
    return stockout.stockouts_cancel_unanswered()
