"""Packing: mark an order packed (SHIP-NOTICES) and print its packing slip (ORD-INSERTS).

``order_mark_packed`` moves processing → packed through ``orders.lifecycle.move`` (the one table;
an order with an open hold is refused there with ``OrderOnHold``) and queues the customer's
"packed" e-mail in the same transaction. ``packing_slips_pdf`` renders one PDF with a page per
order, in the invoice's look (templates/pdf/).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from orders import events, holds, lifecycle
from orders.models import HoldKind, Order, OrderStatus
from orders.notifications import order_email_context
from shop.calendar import BusinessCalendar
from shop.emails import email_queue
from shop.locks import lock_order
from shop.models import Email, Policy
from shop.pdf import render_pdf

from .queue import open_holds_prefetch

__all__ = ["order_mark_packed", "packing_slips_pdf"]

PACKED = OrderStatus.PACKED.value


def _packed_notice_queue(order: Order) -> Email:
    """SHIP-NOTICES: the customer is told the order is packed, once (key ``order-packed:<pk>``)."""
    key = f"order-packed:{order.pk}"
    existing = Email.objects.filter(key=key).first()
    if existing is not None:
        return existing
    email = email_queue(
        to=order.email, language=order.language, template="order_packed", key=key, context=order_email_context(order)
    )
    events.email_queued(order=order, kind="packed", email_id=email.pk)
    return email


def order_mark_packed(*, order_id: int, actor) -> Order:
    """SHIP-NOTICES: the warehouse packed the order: processing → packed, and the customer is e-mailed.

    Refused with ``orders.lifecycle.OrderOnHold`` while a hold is open (price confirmation, fraud
    review, stock decision) and with ``TransitionNotAllowed`` from any status but processing; nothing
    changes then. Marking a packed order packed again changes nothing and sends nothing.
    """
    with transaction.atomic():
        order = lock_order(order_id)
        if order.status == PACKED:
            return order
        try:
            lifecycle.move(order, PACKED, actor=actor)
        except lifecycle.OrderOnHold as exc:
            # The same refusal, in words the packer acts on: which hold, and that it must go first.
            waits = ", ".join(HoldKind(kind).label.lower() for kind in sorted(holds.open_kinds(order)))
            raise lifecycle.OrderOnHold(order, PACKED, reason=f"on hold ({waits}); release the hold first") from exc
        _packed_notice_queue(order)
        return order


def _slip(order: Order, calendar: BusinessCalendar) -> dict:
    lines = list(order.lines.all())
    return {
        "order": order,
        "lines": lines,
        "to_pack": sum(line.quantity_open for line in lines),
        "holds": ", ".join(hold.get_kind_display() for hold in order.open_holds),
        "created_local": calendar.local(order.created_at).replace(tzinfo=None),
        "ship_by_local": calendar.local(order.ship_by).replace(tzinfo=None) if order.ship_by else None,
    }


def packing_slips_pdf(*, order_ids: Iterable[int]) -> bytes:
    """One PDF, a page per order (soonest ship-by first). ORD-INSERTS: an opted-out order says so plainly."""
    orders = (
        Order.objects.filter(pk__in=list(order_ids))
        .select_related("region", "delivery_method")
        .prefetch_related("lines", open_holds_prefetch())
        .order_by("ship_by", "pk")
    )
    calendar = BusinessCalendar.current()
    slips = [_slip(order, calendar) for order in orders]
    if not slips:
        raise ValueError("No orders to print.")
    return render_pdf("pdf/packing_slip.html", {"slips": slips, "policy": Policy.load()})
