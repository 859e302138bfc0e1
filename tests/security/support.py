"""Helpers for the security tests (not a test module)."""

from __future__ import annotations

import re

from django.contrib.auth.models import Permission

from payments import services
from tests.factories import UserFactory
from tests.payments.payment_support import cod_order_paid_at_door, path_of

IBAN = "DE89370400440532013000"


def staff_with(*perms: str, username: str | None = None):
    """A member of staff holding exactly these permissions ("app.codename")."""
    user = UserFactory(is_staff=True, **({"username": username} if username else {}))
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


def refund_awaiting_account(capture):
    """A COD order paid at the door, refunded in full: the refund waits for the customer's bank account.

    ``capture`` is django_capture_on_commit_callbacks (the request e-mail is sent after commit)."""
    order = cod_order_paid_at_door()
    with capture(execute=True):
        refund = services.refund_issue(order_id=order.pk, amount=order.total, reason="Returned.")
    return order, refund


def sent_link(message, view_path: str) -> str:
    """The path (with its key) of the link to ``view_path`` in a sent e-mail."""
    match = re.search(r"(https?://\S+" + re.escape(view_path) + r"\S*)", message.body)
    assert match, message.body
    return path_of(match.group(1))
