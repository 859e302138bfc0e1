"""Celery tasks of the orders app: thin wrappers around services."""

from celery import shared_task

from . import services


@shared_task
def orders_cancel_unanswered_price_errors() -> int:
    """ORD-PRICE-ERROR: periodic (config/celery.py beat); cancels orders past their answer deadline."""
    return services.orders_cancel_unanswered_price_errors()
