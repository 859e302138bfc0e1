"""Who may see an order: its logged-in owner, or a guest holding the signed link from their e-mail.

Everyone else gets 404 (never 403: an order number must not be confirmable by guessing).
A valid signed link also remembers the order in the session, so the guest can move between the
order's pages (invoice, payment, answers) after following the link once.
"""

from django.conf import settings
from django.core import signing
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse

from .models import Order

_SALT = "orders.access"
_SESSION_KEY = "orders_access"


def order_token(order: Order) -> str:
    return signing.Signer(salt=_SALT).sign(order.number).split(":", 1)[1]


def order_link(order: Order, *, absolute: bool = True, view: str = "orders:detail") -> str:
    """The link to put in e-mails: opens the order page for whoever holds it."""
    path = reverse(view, kwargs={"number": order.number}) + f"?key={order_token(order)}"
    return f"{settings.SITE_URL}{path}" if absolute else path


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
    if key:
        try:
            signing.Signer(salt=_SALT).unsign(f"{order.number}:{key}")
        except signing.BadSignature:
            return False
        grant_session(request, order)
        return True
    return False


def get_order_for_request(request, number: str, queryset=None) -> Order:
    """The order if this request may see it, else Http404."""
    order = get_object_or_404(queryset if queryset is not None else Order.objects.all(), number=number)
    if not can_view(request, order):
        raise Http404("No such order.")
    return order
