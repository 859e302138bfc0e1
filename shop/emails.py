"""The outbox: queue an e-mail in the caller's transaction; a Celery task sends it after commit.

An order that is rolled back queued nothing (the row goes with the transaction) and sends nothing
(the task is started by ``on_commit``). Sending is retried by the task and by a periodic sweep.
Attachments such as the PDF invoice are built by the worker at send time, never in a request:
apps register a builder by name (``register_attachment_builder("orders.invoice", fn)``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from .models import Email, EmailAttachment, Policy

logger = logging.getLogger(__name__)

#: name -> fn(ref: str) -> (filename, content bytes, mimetype)
_attachment_builders: dict[str, Callable[[str], tuple[str, bytes, str]]] = {}


def register_attachment_builder(name: str, builder: Callable[[str], tuple[str, bytes, str]]) -> None:
    _attachment_builders[name] = builder


def email_queue(
    *,
    to: str,
    template: str,
    context: dict,
    key: str | None = None,
    attachment_builder: str = "",
    attachment_ref: str = "",
) -> Email:
    """Render ``templates/emails/<template>.{subject.txt,txt,html}`` and queue the message.

    ``key`` makes it idempotent: a second call with the same key returns the first e-mail.
    """
    if key:
        existing = Email.objects.filter(key=key).first()
        if existing:
            return existing
    context = {"policy": Policy.load(), "site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{template}.subject.txt", context).split())
    email = Email.objects.create(
        key=key,
        to=to,
        subject=subject,
        body_text=render_to_string(f"emails/{template}.txt", context),
        body_html=render_to_string(f"emails/{template}.html", context),
        attachment_builder=attachment_builder,
        attachment_ref=str(attachment_ref),
    )
    transaction.on_commit(lambda: _enqueue_send(email.pk))
    return email


def _enqueue_send(email_id: int) -> None:
    from .tasks import email_send

    try:
        email_send.delay(email_id)
    except Exception:  # broker down: the periodic sweep (emails_retry_unsent) sends it later
        logger.exception("Could not enqueue e-mail %s; the sweep will retry", email_id)


def email_resend(*, email_id: int) -> None:
    """Staff asked to send again (the outbox admin action): queue a fresh attempt."""
    Email.objects.filter(pk=email_id).update(status=Email.Status.QUEUED, last_error="")
    transaction.on_commit(lambda: _enqueue_send(email_id))


def email_deliver(*, email_id: int, force: bool = False) -> bool:
    """Send one queued e-mail. Returns True when it is (now or already) sent.

    The row is locked while sending so two workers never send it twice; a sent e-mail is
    never sent again unless staff ``force`` it.
    """
    with transaction.atomic():
        email = Email.objects.select_for_update().filter(pk=email_id).first()
        if email is None:
            return False
        if email.status == Email.Status.SENT and not force:
            return True
        if email.attachment_builder and not email.attachments.exists():
            build = _attachment_builders[email.attachment_builder]
            filename, content, mimetype = build(email.attachment_ref)
            EmailAttachment.objects.create(email=email, filename=filename, content=content, mimetype=mimetype)
        message = EmailMultiAlternatives(
            subject=email.subject, body=email.body_text, from_email=settings.DEFAULT_FROM_EMAIL, to=[email.to]
        )
        if email.body_html:
            message.attach_alternative(email.body_html, "text/html")
        for attachment in email.attachments.all():
            message.attach(attachment.filename, bytes(attachment.content), attachment.mimetype)
        email.attempts += 1
        try:
            message.send(fail_silently=False)
        except Exception as exc:
            email.status, email.last_error = Email.Status.FAILED, f"{type(exc).__name__}: {exc}"
            email.save(update_fields=["status", "last_error", "attempts"])
            failure = exc
        else:
            email.status, email.sent_at, email.last_error = Email.Status.SENT, timezone.now(), ""
            email.save(update_fields=["status", "sent_at", "last_error", "attempts"])
            return True
    # Raised after the block commits: raising inside it would roll back the FAILED status,
    # the error and the attempt count (and the sweep's MAX_ATTEMPTS bound would never apply).
    raise failure
