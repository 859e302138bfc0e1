"""The outbox: queue an e-mail in the caller's transaction; a Celery task sends it after commit.

An order that is rolled back queued nothing (the row goes with the transaction) and sends nothing
(the task is started after commit). Sending is retried by the task and by a periodic sweep (the
pattern is described in ``shop.obligations``). The sending itself, and the attachments built at send
time, are in ``shop.email_delivery``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from .email_delivery import SecretLink, register_attachment_builder, register_link_builder
from .models import Email, Policy
from .obligations import enqueue_after_commit
from .tasks import email_send

# The register_* functions are imported by apps' ready() from here (orders.apps).
__all__ = [
    "Message",
    "SecretLink",
    "email_queue",
    "email_queue_new",
    "emails_queue",
    "email_resend",
    "register_attachment_builder",
    "register_link_builder",
]


@dataclass
class Message:
    """One e-mail to queue: ``templates/emails/<template>.{subject.txt,txt,html}`` rendered with ``context``."""

    to: str
    template: str
    context: dict
    key: str | None = None
    attachment_builder: str = ""
    attachment_ref: str = ""
    language: str | None = None


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
    message = Message(to, template, context, key, attachment_builder, str(attachment_ref), language)
    return emails_queue([message])[0]


def emails_queue(messages: list[Message], *, queued: dict[str, Email] | None = None) -> list[tuple[Email, bool]]:
    """Queue several messages with one read of the keys already queued and one INSERT (issue #14: a
    periodic sweep e-mails hundreds of customers at once). Returns (e-mail, new) for each message in
    order: a message whose ``key`` is queued already (before, or earlier in this list) is that e-mail.
    ``queued``: the e-mails of the messages' keys, when the caller has just read them."""
    keys = {m.key for m in messages if m.key}
    if queued is None:
        queued = {email.key: email for email in Email.objects.filter(key__in=keys)} if keys else {}
    found = dict(queued)
    policy = Policy.load()
    result: list[tuple[Email, bool]] = []
    for message in messages:
        if message.key and message.key in found:
            result.append((found[message.key], False))
            continue
        context = {"policy": policy, "site_url": settings.SITE_URL, **message.context}
        with translation.override(message.language or translation.get_language() or settings.LANGUAGE_CODE):
            subject = " ".join(render_to_string(f"emails/{message.template}.subject.txt", context).split())
            body_text = render_to_string(f"emails/{message.template}.txt", context)
            body_html = render_to_string(f"emails/{message.template}.html", context)
        email = Email(
            key=message.key,
            to=message.to,
            subject=subject,
            body_text=body_text,
            body_html=body_html,
            attachment_builder=message.attachment_builder,
            attachment_ref=str(message.attachment_ref),
        )
        result.append((email, True))
        if message.key:
            found[message.key] = email
    fresh = [email for email, new in result if new]
    if fresh:
        Email.objects.bulk_create(fresh)  # the primary keys come back (PostgreSQL, SQLite ≥ 3.35)
    for email in fresh:
        enqueue_after_commit(email_send, email.pk)
    return result


def email_resend(*, email_id: int) -> None:
    """Staff asked to send again (the outbox admin action): queue a fresh attempt."""
    Email.objects.filter(pk=email_id).update(status=Email.Status.QUEUED, last_error="")
    enqueue_after_commit(email_send, email_id)
