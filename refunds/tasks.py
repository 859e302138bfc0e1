"""Celery tasks of the refunds app: thin wrappers around services (beat entries in config/celery.py)."""

from celery import shared_task

from .services.desk import refunds_due_digest_send


@shared_task
def refunds_due_digest() -> int:
    """REF-SLA: periodic; e-mails staff the refunds due within a business day and overdue (business hours).

    Returns the outbox row's id, 0 when nothing was sent.
    """
    email = refunds_due_digest_send()
    return email.pk if email else 0
