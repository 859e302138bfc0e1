from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .email_delivery import email_deliver
from .models import Email
from .obligations import SWEEP_MARGIN_SECONDS, requeue

#: After this many attempts (task retries and sweeps together) an e-mail is left FAILED for staff.
MAX_ATTEMPTS = 10


# Every failed attempt is recorded on the row (FAILED, last_error, attempts) by email_deliver before
# it raises; Celery then retries after 30 s, 60 s, … (full jitter), five times, and the sweep goes on.
@shared_task(
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_jitter=True,
    max_retries=5,
    acks_late=True,
)
def email_send(email_id: int) -> bool:
    return email_deliver(email_id=email_id)


@shared_task
def emails_retry_unsent(margin_seconds: float = SWEEP_MARGIN_SECONDS) -> int:
    """Periodic sweep: queue again every e-mail still queued or failed ``margin_seconds`` after it was
    created, up to ``MAX_ATTEMPTS`` attempts. Returns how many were queued."""
    cutoff = timezone.now() - timedelta(seconds=margin_seconds)
    pending = Email.objects.filter(
        status__in=[Email.Status.QUEUED, Email.Status.FAILED], attempts__lt=MAX_ATTEMPTS, created_at__lte=cutoff
    ).order_by("pk")
    return requeue(pending, email_send, limit=200)
