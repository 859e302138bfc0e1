"""The outbox: queue an e-mail in the caller's transaction; a Celery task sends it after commit.

An order that is rolled back queued nothing (the row goes with the transaction) and sends nothing
(the task is started after commit). Sending is retried by the task and by a periodic sweep (the
pattern is described in ``shop.obligations``). The sending itself, and the attachments built at send
time, are in ``shop.email_delivery``.
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from .email_delivery import SecretLink, register_attachment_builder, register_link_builder
from .models import Email, Policy
from .obligations import enqueue_after_commit
from .tasks import email_send

# The register_* functions are imported by apps' ready() from here (orders.apps).
__all__ = [
    "SecretLink",
    "email_queue",
    "email_queue_new",
    "email_resend",
    "register_attachment_builder",
    "register_link_builder",
]


def email_queue(**kwargs) -> Email:
    """``email_queue_new`` (its arguments), returning only the e-mail."""
    return email_queue_new(**kwargs)[0]


def email_queue_new(
    *,
    to: str,
    template: str,
    context: dict,
    key: str | None = None,
    attachment_builder: str = "",
    attachment_ref: str = "",
    language: str | None = None,
) -> tuple[Email, bool]:
    """Render ``templates/emails/<template>.{subject.txt,txt,html}`` and queue the message; return it and
    whether this call queued it (False: the e-mail with ``key`` was there already).

    ``key`` makes it idempotent: a second call with the same key returns the first e-mail.
    A ``SecretLink`` in the context is stored as a placeholder and signed only when the message is sent.
    ``language`` (an order's) writes the message in it, whatever language the request or task runs in.
    """
    if key:
        existing = Email.objects.filter(key=key).first()
        if existing:
            return existing, False
    context = {"policy": Policy.load(), "site_url": settings.SITE_URL, **context}
    with translation.override(language or translation.get_language() or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"emails/{template}.subject.txt", context).split())
        body_text = render_to_string(f"emails/{template}.txt", context)
        body_html = render_to_string(f"emails/{template}.html", context)
    email = Email.objects.create(
        key=key,
        to=to,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        attachment_builder=attachment_builder,
        attachment_ref=str(attachment_ref),
    )
    enqueue_after_commit(email_send, email.pk)
    return email, True


def email_resend(*, email_id: int) -> None:
    """Staff asked to send again (the outbox admin action): queue a fresh attempt."""
    Email.objects.filter(pk=email_id).update(status=Email.Status.QUEUED, last_error="")
    enqueue_after_commit(email_send, email_id)
