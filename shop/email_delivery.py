"""Sending one outbox e-mail: the work ``shop.tasks.email_send`` does in the worker.

It sits below both ``shop.emails`` (which queues e-mails and starts the task) and ``shop.tasks``
(which runs it), so the imports run one way: ``emails`` → ``tasks`` → ``email_delivery`` → ``models``.
Attachments such as the PDF invoice are built here, at send time, by a builder an app registered by
name (``register_attachment_builder("orders.invoice", fn)``), never in a request.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape

from .locks import lock_email
from .models import Email, EmailAttachment

#: name -> fn(ref: str) -> (filename, content bytes, mimetype)
_attachment_builders: dict[str, Callable[[str], tuple[str, bytes, str]]] = {}


def register_attachment_builder(name: str, builder: Callable[[str], tuple[str, bytes, str]]) -> None:
    _attachment_builders[name] = builder


#: name -> fn(ref: str) -> an absolute URL
_link_builders: dict[str, Callable[[str], str]] = {}
_SECRET_LINK = re.compile(r"\[\[secret-link:([\w.]+):([^\]\s]+)\]\]")


class SecretLink:
    """A link that is a credential (it opens an order, or acts on it): the outbox, which staff can read,
    stores only this placeholder; ``email_deliver`` asks the registered builder for the real link when
    the message is sent. Put one in an e-mail's context where a URL goes."""

    def __init__(self, builder: str, ref: str):
        self.builder, self.ref = builder, ref

    def __str__(self) -> str:
        return f"[[secret-link:{self.builder}:{self.ref}]]"

    __html__ = __str__  # safe: letters, digits and [ ] : | . _ only


def register_link_builder(name: str, builder: Callable[[str], str]) -> None:
    _link_builders[name] = builder


def _with_links(body: str, *, html: bool) -> str:
    def link(match: re.Match) -> str:
        url = _link_builders[match.group(1)](match.group(2))
        return escape(url) if html else url

    return _SECRET_LINK.sub(link, body)


def email_deliver(*, email_id: int, force: bool = False) -> bool:
    """Send one queued e-mail. Returns True when it is (now or already) sent.

    The row is locked while sending so two workers never send it twice; a sent e-mail is
    never sent again unless staff ``force`` it.
    """
    with transaction.atomic():
        email = lock_email(email_id)
        if email is None:
            return False
        if email.status == Email.Status.SENT and not force:
            return True
        if email.attachment_builder and not email.attachments.exists():
            build = _attachment_builders[email.attachment_builder]
            filename, content, mimetype = build(email.attachment_ref)
            EmailAttachment.objects.create(email=email, filename=filename, content=content, mimetype=mimetype)
        message = EmailMultiAlternatives(
            subject=email.subject,
            body=_with_links(email.body_text, html=False),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[email.to],
        )
        if email.body_html:
            message.attach_alternative(_with_links(email.body_html, html=True), "text/html")
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
