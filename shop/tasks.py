from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .email_delivery import email_deliver
from .models import Email

MAX_ATTEMPTS = 10


@shared_task(bind=True, max_retries=5, default_retry_delay=30, acks_late=True)
def email_send(self, email_id: int) -> bool:
    try:
        return email_deliver(email_id=email_id)
    except Exception as exc:
        raise self.retry(exc=exc, countdown=30 * (2**self.request.retries))


@shared_task
def emails_retry_unsent() -> int:
    """Periodic sweep: anything queued for over 5 minutes, or failed, is sent again (bounded)."""
    cutoff = timezone.now() - timedelta(minutes=5)
    ids = list(
        Email.objects.filter(status__in=[Email.Status.QUEUED, Email.Status.FAILED], attempts__lt=MAX_ATTEMPTS)
        .filter(created_at__lt=cutoff)
        .values_list("pk", flat=True)[:200]
    )
    for email_id in ids:
        email_send.delay(email_id)
    return len(ids)
