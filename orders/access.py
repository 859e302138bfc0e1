"""Who may see an order: its logged-in owner, or a guest holding the signed link from their e-mail.

Everyone else gets 404 (never 403: an order number must not be confirmable by guessing).
A valid signed link also remembers the order in the session, so the guest can move between the
order's pages (invoice, payment, answers) after following the link once.

Signed links expire (issue #10): the token is a ``TimestampSigner`` signature, valid for the Policy's
``link_valid_days``. A link that acts on an order (the order page, the refund account, the price
answer, a stock choice, a withdrawal …) is one line::

    order_link_for_email(order, view="stock:choice")   # in an e-mail's context (never stored readable)
    order_link(order, view="stock:choice")              # an absolute link, made now

and its view finds the order with ``get_order_for_request(request, number)``. In an e-mail, use
``order_link_for_email``: the outbox stores a placeholder and the link is signed when the message is
sent (``shop.emails.SecretLink``), so staff who can read the outbox cannot open it.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse

from shop.emails import SecretLink
from shop.models import Policy

from .models import Order

_SALT = "orders.access"
_SESSION_KEY = "orders_access"
#: The name ``OrdersConfig.ready`` registers ``email_link`` under (``shop.emails.register_link_builder``).
LINK_BUILDER = "orders.link"


def link_max_age() -> timedelta:
    return timedelta(days=Policy.load().link_valid_days)


def signed_token(value: str, *, salt: str = _SALT) -> str:
    """An expiring token for ``value`` (timestamp and signature, URL-safe)."""
    return signing.TimestampSigner(salt=salt).sign(value).split(":", 1)[1]


def signed_token_valid(value: str, token: str, *, salt: str = _SALT) -> bool:
    """True if ``token`` was made for ``value`` by ``signed_token`` within the Policy's link validity."""
    try:
        signing.TimestampSigner(salt=salt).unsign(f"{value}:{token}", max_age=link_max_age())
    except signing.BadSignature:  # includes SignatureExpired
        return False
    return True


def order_token(order: Order) -> str:
    return signed_token(order.number)


def order_link(order: Order, *, absolute: bool = True, view: str = "orders:detail") -> str:
    """A link that opens ``view`` of the order for whoever holds it, until it expires."""
    path = reverse(view, kwargs={"number": order.number}) + f"?key={order_token(order)}"
    return f"{settings.SITE_URL}{path}" if absolute else path


def order_link_for_email(order: Order, *, view: str = "orders:detail") -> SecretLink:
    """``order_link`` for an e-mail's context: signed at send time, stored in the outbox as a placeholder."""
    return SecretLink(LINK_BUILDER, f"{order.pk}|{view}")


def email_link(ref: str) -> str:
    """The link builder behind ``order_link_for_email`` (runs in the e-mail worker)."""
    pk, view = ref.split("|", 1)
    return order_link(Order.objects.get(pk=int(pk)), view=view)


def grant_session(request, order: Order) -> None:
    """Let this browser see the order (after placing it, or after following a valid link)."""
    numbers = set(request.session.get(_SESSION_KEY, []))
    numbers.add(order.number)
    request.session[_SESSION_KEY] = sorted(numbers)


def can_view(request, order: Order) -> bool:
    if order.user_id is not None and request.user.is_authenticated and request.user.pk == order.user_id:
        return True
    if order.number in request.session.get(_SESSION_KEY, []):
        return True
    key = request.GET.get("key", "")
    if key and signed_token_valid(order.number, key):
        grant_session(request, order)
        return True
    return False


def get_order_for_request(request, number: str, queryset=None) -> Order:
    """The order if this request may see it, else Http404."""
    order = get_object_or_404(queryset if queryset is not None else Order.objects.all(), number=number)
    if not can_view(request, order):
        raise Http404("No such order.")
    return order
