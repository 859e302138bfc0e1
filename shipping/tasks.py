"""Celery tasks of the fulfilment app: thin wrappers around services (beat entries in config/celery.py)."""

from celery import shared_task
from django.conf import settings

from shop.obligations import SWEEP_MARGIN_SECONDS

from .services import partners, stockout


@shared_task
def stockouts_cancel_unanswered() -> int:
    """SHIP-STOCKOUT: periodic; cancels the missing part of orders whose customer did not choose in time."""
    return stockout.stockouts_cancel_unanswered()


# SHIP-SUBCONTRACTOR: every try is recorded on the notice before PartnerUnavailable is raised; Celery
# retries after ~SHIP_PARTNER_RETRY_BACKOFF s, then twice that, … (full jitter, at most 30 minutes
# apart), eight times; past that the sweep below keeps queuing it until the partner answers 2xx.
@shared_task(
    autoretry_for=(partners.PartnerUnavailable,),
    retry_backoff=settings.SHIP_PARTNER_RETRY_BACKOFF,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=8,
    acks_late=True,
)
def partner_notice_send(notice_id: int) -> bool:
    """SHIP-SUBCONTRACTOR: POST one notice to the partner's endpoint (signed; same Idempotency-Key each try)."""
    return partners.partner_notice_deliver(notice_id=notice_id)


@shared_task
def partner_notices_sweep(margin_seconds: float = SWEEP_MARGIN_SECONDS) -> int:
    """SHIP-SUBCONTRACTOR: periodic (beat); queues again every notice still pending past the margin."""
    return partners.partner_notices_resend_pending(margin_seconds=margin_seconds)
