"""Celery tasks of the payments app: thin wrappers around services."""

import logging

from celery import shared_task

from . import paypal, services

logger = logging.getLogger(__name__)


def _twice(service, **kwargs):
    """A timeout often means PayPal did the work and the answer was lost: ask again at once with the
    same PayPal-Request-Id (PayPal answers with the stored result), before backing off."""
    try:
        return service(**kwargs)
    except paypal.PayPalUnavailable:
        return service(**kwargs)


@shared_task
def payments_reconcile_stale() -> int:
    """PAY-PAYPAL: periodic (config/celery.py beat); looks up payments unconfirmed after the policy's hours,
    and re-sends PayPal refunds a failed worker left behind."""
    done = services.payments_reconcile_stale()
    services.refunds_resend_stuck()
    return done


@shared_task(bind=True, max_retries=5, default_retry_delay=30, acks_late=True)
def payments_refund_send(self, refund_id: int) -> None:
    """PAY-REFUND-SAME-WAY: refund a capture at PayPal (same PayPal-Request-Id on every retry)."""
    try:
        _twice(services.refund_send, refund_id=refund_id)
    except paypal.PayPalUnavailable as exc:
        if self.request.is_eager or self.request.retries >= self.max_retries:
            logger.warning("Refund %s not sent yet (%s); the periodic sweep tries again", refund_id, exc)
            return
        raise self.retry(exc=exc, countdown=30 * (2**self.request.retries))


@shared_task(bind=True, max_retries=5, default_retry_delay=60, acks_late=True)
def payments_capture(self, payment_id: int) -> None:
    """PAY-PAYPAL: capture an order the customer approved without coming back (CHECKOUT.ORDER.APPROVED)."""
    try:
        _twice(services.paypal_payment_capture, payment_id=payment_id)
    except paypal.PayPalUnavailable as exc:
        if self.request.is_eager or self.request.retries >= self.max_retries:
            logger.warning("Capture of payment %s postponed to the reconciliation (%s)", payment_id, exc)
            return
        raise self.retry(exc=exc, countdown=60 * (2**self.request.retries))
