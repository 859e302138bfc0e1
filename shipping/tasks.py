"""Celery tasks of the fulfilment app: thin wrappers around services (beat entries in config/celery.py)."""

from celery import shared_task
from django.conf import settings

from shop.obligations import SWEEP_MARGIN_SECONDS

from .services import delivery, parcels, partners, queue, stockout


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
def parcels_investigate_late() -> int:
    """DLV-LATE: periodic (beat); opens an investigation for parcels still on their way past the margin."""
    return parcels.parcels_investigate_late()


@shared_task
def shipping_ship_by_digest() -> int:
    """SHIP-WITHIN-2BD: periodic; e-mails staff the orders newly at risk or overdue (business hours only).

    Returns the outbox row's id, 0 when nothing was sent. Idempotent: each order once per state.
    """
    # Staff read the shop's language: the rows' status and hold labels are worded before the e-mail is.
    email = queue.ship_by_digest_send()
    return email.pk if email else 0


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
