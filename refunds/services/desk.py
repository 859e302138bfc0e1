"""REF-SLA: the refund desk's reminder to staff."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from shop.calendar import BusinessCalendar
from shop.emails import email_queue
from shop.models import Email, Policy

from .. import selectors


def refunds_due_digest_send(*, now: dt.datetime | None = None) -> Email | None:
    """E-mail staff the refunds due within one business day and the overdue ones, in business hours only.

    Outside business hours nothing is sent (the next run inside them sends). The e-mail is keyed by the
    shop's local day and the cases listed, so running often sends one message per day for the same
    cases, and a new one only when a case joins or leaves the list. None when nothing is due.
    """
    now = now or timezone.now()
    calendar = BusinessCalendar.current()
    if not calendar.is_open(now):
        return None
    cases = list(selectors.refunds_due_for_reminder(now))
    if not cases:
        return None
    overdue = [c for c in cases if c.refund_due_at < now]
    soon = [c for c in cases if c.refund_due_at >= now]
    ids = ",".join(str(c.pk) for c in cases)
    day = calendar.local(now).date().isoformat()
    key = f"refunds-due:{day}:{hashlib.sha256(ids.encode()).hexdigest()[:16]}"
    return email_queue(
        to=Policy.load().staff_email,
        template="staff_refunds_due",
        key=key,
        language=settings.LANGUAGE_CODE,  # staff read the shop's language, whatever the task runs in
        context={
            "overdue": overdue,
            "soon": soon,
            "now_local": calendar.local(now),
            "desk_url": settings.SITE_URL + reverse("admin:refunds_case_changelist"),
        },
    )
