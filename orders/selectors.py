"""Reads for the checkout and the customer's order pages (each a fixed number of queries)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from shop.accounts import default_address
from shop.delivery import DeliveryEstimate, delivery_estimate
from shop.models import ON_DELIVERY_METHODS

from .access import get_order_for_request
from .models import Order, OrderEvent, OrderHold

CONTACT_FIELDS = ("full_name", "email", "phone", "address", "city", "postcode", "region")


def last_order_contact(*, user) -> dict:
    """Contact step pre-filled from the customer's default address (address book), else their last
    order, else their account (name and e-mail, for a first order)."""
    if user is None or not user.is_authenticated:
        return {}
    address = default_address(user)
    if address is not None:
        data = {name: getattr(address, name) for name in CONTACT_FIELDS if name not in {"email", "region", "phone"}}
        return {**data, "email": user.email, "phone": address.phone.as_e164, "region": address.region_id}
    last = Order.objects.filter(user=user).order_by("-created_at", "-pk").first()
    if last is None:
        return {"full_name": user.get_full_name(), "email": user.email}
    data = {name: getattr(last, name) for name in CONTACT_FIELDS if name != "region"}
    if last.region.in_territory:
        data["region"] = last.region_id
    return data


def orders_for_user(*, user) -> QuerySet[Order]:
    """My orders, newest first."""
    return Order.objects.filter(user=user).order_by("-created_at", "-pk")


def order_for_page(request, number: str) -> Order:
    """The order (404 unless this request may see it) with all its page needs in a few queries."""
    queryset = Order.objects.select_related("region", "delivery_method").prefetch_related(
        "lines",
        Prefetch(
            "events",
            queryset=OrderEvent.objects.filter(customer_visible=True).order_by("created_at", "pk"),
            to_attr="timeline",
        ),
        Prefetch("holds", queryset=OrderHold.objects.filter(released_at__isnull=True), to_attr="open_holds"),
        # SHIP-NOTICES: each parcel with its method and lines (reverse relations shipping declares: no import up).
        "shipments__method",
        "shipments__lines__order_line",
    )
    return get_order_for_request(request, number, queryset=queryset)


def order_money_movements(order: Order) -> tuple[list, list]:
    """Payments and refunds of the order (reverse relations the payments app declares: no import up)."""
    return list(order.payments.all()), list(order.refunds.all())


def order_estimate(order: Order) -> tuple[DeliveryEstimate | None, bool]:
    """SHIP-PROCESSING-TIME and the delivery window for the order page.

    The clock starts at payment for a prepaid order and at confirmation for cash/card on
    delivery. Returns (estimate, is_firm): an unpaid prepaid order only gets an estimate as if
    paid now (is_firm False). A cancelled order has none.
    """
    if order.status == Order.Status.CANCELLED:
        return None, False
    if order.payment_method in ON_DELIVERY_METHODS:
        start, firm = order.created_at, True
    elif order.paid_at is not None:
        start, firm = order.paid_at, True
    else:
        start, firm = timezone.now(), False
    method = order.delivery_method
    estimate = delivery_estimate(start=start, days_min=method.delivery_days_min, days_max=method.delivery_days_max)
    return estimate, firm
