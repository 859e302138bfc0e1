"""Celery tasks of the payments app: thin wrappers around services.

The outside calls (PayPal) retry with Celery's own options: a ``PayPalUnavailable`` (timeout, 5xx)
is retried with exponential back-off and jitter; every retry repeats the same operation at PayPal
(the PayPal-Request-Id is stored on the row), so a lost answer never takes or returns money twice.
What is still pending after the last retry is found again by the sweeps below (beat).
"""

from celery import shared_task

from shop.obligations import SWEEP_MARGIN_SECONDS

from . import paypal, services

_PAYPAL_RETRIES = {
    "autoretry_for": (paypal.PayPalUnavailable,),
    "retry_backoff": 30,
    "retry_backoff_max": 30 * 60,
    "retry_jitter": True,
    "max_retries": 5,
    "acks_late": True,
}


@shared_task
def payments_reconcile_stale() -> int:
    """PAY-PAYPAL: periodic (config/celery.py beat); looks up payments unconfirmed after the policy's hours."""
    return services.payments_reconcile_stale()


@shared_task
def payments_refunds_sweep(margin_seconds: int = SWEEP_MARGIN_SECONDS) -> int:
    """PAY-REFUND-SAME-WAY: periodic (beat); queues again every PayPal refund still requested past the margin."""
    return services.refunds_resend_stuck(margin_seconds=margin_seconds)


@shared_task(**_PAYPAL_RETRIES)
def payments_refund_send(refund_id: int) -> None:
    """PAY-REFUND-SAME-WAY: refund a capture at PayPal (same PayPal-Request-Id on every retry)."""
    services.refund_send(refund_id=refund_id)


@shared_task(**_PAYPAL_RETRIES)
def payments_capture(payment_id: int) -> None:
    """PAY-PAYPAL: capture an order the customer approved without coming back (CHECKOUT.ORDER.APPROVED)."""
    services.paypal_payment_capture(payment_id=payment_id)


@shared_task(**_PAYPAL_RETRIES)
def payments_paypal_tracker_send(tracker_id: int) -> None:
    """SHIP-NOTICES: add a shipped parcel's tracking number to its PayPal order (same request id on every retry)."""
    services.paypal_tracker_send(tracker_id=tracker_id)


@shared_task
def payments_paypal_trackers_sweep(margin_seconds: int = SWEEP_MARGIN_SECONDS) -> int:
    """SHIP-NOTICES: periodic (beat); queues again every PayPal tracker still pending past the margin."""
    return services.paypal_trackers_resend_stuck(margin_seconds=margin_seconds)
